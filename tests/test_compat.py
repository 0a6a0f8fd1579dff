"""Each workaround in rethink_mmdet.compat, shown to be needed and to work."""
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import (
    CheckpointLoader,
    _load_checkpoint,
    save_checkpoint,
)

from rethink_mmdet import compat
from rethink_mmdet.engine.checkpointing import training_checkpoint_globals
from rethink_mmdet.testing import TOY_CONFIG


@pytest.fixture
def mmengine_style_checkpoint(tmp_path):
    """A checkpoint holding what mmengine's Runner saves besides weights."""
    hub = MessageHub.get_instance('compat_test')
    hub.update_scalar('train/loss', 1.5)
    path = str(tmp_path / 'iter_1.pth')
    save_checkpoint(
        dict(meta=dict(iter=1, seed=np.int64(3)),
             state_dict=dict(weight=torch.ones(2)),
             message_hub=hub.state_dict()), path)
    return path


def test_checkpoint_loads_through_mmengine(mmengine_style_checkpoint):
    # The path --resume, load_from and init_cfg=Pretrained all take; the
    # Runner (load_from, --resume) reads with mmengine's types allowed.
    from mmengine.runner import Runner
    assert CheckpointLoader._schemes[''] is compat.load_local_checkpoint
    assert (Runner.load_checkpoint.__wrapped__
            is compat.ORIGINALS['Runner.load_checkpoint'])
    with training_checkpoint_globals():
        checkpoint = _load_checkpoint(mmengine_style_checkpoint, 'cpu')
    assert checkpoint['meta']['iter'] == 1
    assert torch.equal(checkpoint['state_dict']['weight'], torch.ones(2))
    assert 'log_scalars' in checkpoint['message_hub']


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _load_checkpoint(str(tmp_path / 'nope.pth'), 'cpu')


def _hide_pkg_resources(monkeypatch):
    """Simulates setuptools >= 81, which no longer ships pkg_resources."""
    monkeypatch.setitem(sys.modules, 'pkg_resources', None)


def test_mmdet_bases_resolve_without_pkg_resources(monkeypatch):
    _hide_pkg_resources(monkeypatch)
    cfg = Config.fromfile(TOY_CONFIG)
    assert cfg.model.type == 'MaskRCNN'  # from mmdet::_base_/models
    assert cfg.default_scope == 'mmdet'  # from mmdet::_base_/default_runtime


def test_unpatched_mmengine_needs_pkg_resources(monkeypatch):
    from mmengine.utils import package_utils
    assert package_utils.get_installed_path is compat.get_installed_path
    _hide_pkg_resources(monkeypatch)
    with pytest.raises(ImportError):
        compat.ORIGINALS['get_installed_path']('mmdet')
    assert compat.get_installed_path('mmdet').endswith('mmdet')


def test_unpatched_mmengine_refuses_its_own_checkpoints(
        mmengine_style_checkpoint):
    # torch >= 2.6 loads weights only by default; mmengine 0.10.7 relies on
    # the old default.
    if 'weights_only' not in str(torch.load.__doc__):
        pytest.skip('torch without weights_only')
    with pytest.raises(Exception, match='[Ww]eights only'):
        compat.ORIGINALS['load_from_local'](mmengine_style_checkpoint, 'cpu')


def test_numpy_2_is_what_the_suite_runs_on():
    # The end-to-end tests then exercise mmdet, mmcv and pycocotools on it.
    assert int(np.__version__.split('.')[0]) >= 2


def _distributed_cfg():
    return Config(dict(launcher='pytorch',
                       env_cfg=dict(dist_cfg=dict(backend='nccl'))))


# compat only asks torch.cuda.is_available(): each answer is tested on
# every machine, whatever its real one.
def test_cpu_distributed_config_is_adapted(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = _distributed_cfg()
    compat.adapt_cfg_to_device(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    single = Config(dict(launcher='none'))
    compat.adapt_cfg_to_device(single)
    assert 'model_wrapper_cfg' not in single


def test_gpu_distributed_config_is_left_alone(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = _distributed_cfg()
    compat.adapt_cfg_to_device(cfg)
    assert cfg.to_dict() == _distributed_cfg().to_dict()


@pytest.mark.parametrize('cuda', [False, True])
def test_distributed_init_uses_gloo_only_without_cuda(monkeypatch, cuda):
    calls = []
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    monkeypatch.setitem(compat.ORIGINALS, '_init_dist_pytorch',
                        lambda *args, **kwargs: calls.append(
                            ('mmengine', args, kwargs)))
    monkeypatch.setattr(torch.distributed, 'init_process_group',
                        lambda **kwargs: calls.append(('torch', kwargs)))
    compat._init_dist_pytorch_cpu_aware('nccl', timeout=5)
    if cuda:  # mmengine's own, which sets the device and uses nccl
        assert calls == [('mmengine', ('nccl', 'torch'), {'timeout': 5})]
    else:
        assert calls == [('torch', {'backend': 'gloo', 'timeout': 5})]
        with pytest.raises(ValueError, match='needs GPUs'):
            compat._init_dist_pytorch_cpu_aware('nccl', init_backend='nccl')


SLURM_TASK = dict(SLURM_PROCID='3', SLURM_NTASKS='4', SLURM_LOCALID='1',
                  SLURM_NODELIST='node[07-08]')


def _fake_scontrol(tmp_path, monkeypatch, body):
    """``scontrol`` on PATH running the shell code ``body``."""
    folder = tmp_path / 'bin'
    folder.mkdir()
    (folder / 'scontrol').write_text('#!/bin/sh\n' + body)
    (folder / 'scontrol').chmod(0o755)
    monkeypatch.setenv('PATH', f'{folder}{os.pathsep}{os.environ["PATH"]}')


def test_slurm_task_variables_give_torch_distributed_ones(tmp_path,
                                                          monkeypatch):
    _fake_scontrol(tmp_path, monkeypatch,
                   '[ "$1 $2 $3" = "show hostnames node[07-08]" ] && '
                   'printf "node07\\nnode08\\n"\n')
    env = compat.slurm_dist_env({**SLURM_TASK, 'MASTER_PORT': '23456'})
    assert env == {'RANK': '3', 'WORLD_SIZE': '4', 'LOCAL_RANK': '1',
                   'MASTER_ADDR': 'node07', 'MASTER_PORT': '23456'}
    # A port passed in wins, then MASTER_PORT, then torch's 29500; a
    # MASTER_ADDR already set is kept, and one plain host needs no scontrol.
    assert compat.slurm_dist_env(SLURM_TASK, port=29999)['MASTER_PORT'] \
        == '29999'
    assert compat.slurm_dist_env(SLURM_TASK)['MASTER_PORT'] == '29500'
    assert compat.slurm_dist_env(
        {**SLURM_TASK, 'MASTER_ADDR': '10.0.0.1'})['MASTER_ADDR'] == \
        '10.0.0.1'
    monkeypatch.setenv('PATH', '/nonexistent')
    assert compat.slurm_dist_env(
        {**SLURM_TASK, 'SLURM_NODELIST': 'vm'})['MASTER_ADDR'] == 'vm'


def test_slurm_launcher_outside_a_task_is_one_line(tmp_path, monkeypatch):
    task = dict(SLURM_TASK)
    del task['SLURM_PROCID'], task['SLURM_LOCALID']
    with pytest.raises(compat.LauncherError) as error:
        compat.slurm_dist_env(task)
    assert str(error.value).startswith(
        '--launcher slurm needs SLURM_PROCID, SLURM_LOCALID (set by srun')
    with pytest.raises(compat.LauncherError,
                       match="^SLURM_NTASKS='four' is not a number$"):
        compat.slurm_dist_env({**SLURM_TASK, 'SLURM_NTASKS': 'four'})
    _fake_scontrol(tmp_path, monkeypatch,
                   'echo "Invalid hostlist: $3" >&2; exit 1\n')
    with pytest.raises(compat.LauncherError,
                       match=r'^scontrol show hostnames node\[07-08\] gave '
                             r'no host: Invalid hostlist'):
        compat.slurm_dist_env(SLURM_TASK)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _distributed_env(monkeypatch, **values):
    """Sets ``values`` and unsets torch.distributed's variables, all put
    back as they were after the test, whatever the code under test sets."""
    for name in ('MASTER_ADDR', 'MASTER_PORT', 'RANK', 'WORLD_SIZE',
                 'LOCAL_RANK', *values):
        monkeypatch.setenv(name, '')  # remembers the value before the test
        monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CPU-only machine')
def test_slurm_launcher_without_cuda_starts_on_gloo(monkeypatch):
    import torch.distributed as dist
    from mmengine.dist import utils as dist_utils
    port = _free_port()
    _distributed_env(monkeypatch, SLURM_PROCID='0', SLURM_NTASKS='1',
                     SLURM_LOCALID='0', SLURM_NODELIST='127.0.0.1',
                     MASTER_PORT=str(port))
    # mmengine's own path needs CUDA.
    with pytest.raises(AttributeError, match='_cuda_setDevice'):
        compat.ORIGINALS['_init_dist_slurm']('gloo')
    # It set MASTER_ADDR (from scontrol, here without a Slurm) first.
    monkeypatch.delenv('MASTER_ADDR')
    assert dist_utils._init_dist_slurm is compat._init_dist_slurm_cpu_aware
    dist_utils._init_dist_slurm('nccl')
    try:
        assert dist.get_backend() == 'gloo'
        assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
        assert os.environ['MASTER_ADDR'] == '127.0.0.1'
        assert os.environ['MASTER_PORT'] == str(port)
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CPU-only machine')
def test_torchrun_launcher_without_cuda_starts_on_gloo_for_nccl(
        monkeypatch):
    # The config's nccl is logged and replaced (this once raised instead).
    import torch.distributed as dist
    _distributed_env(monkeypatch, RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
                     MASTER_ADDR='127.0.0.1', MASTER_PORT=str(_free_port()))
    compat._init_dist_pytorch_cpu_aware('nccl')
    try:
        assert dist.get_backend() == 'gloo'
    finally:
        dist.destroy_process_group()


def _signal_first_worker(loader, signum):
    """Starts ``loader``'s worker, signals it from another process (as a
    scheduler does) and returns the iterator."""
    batches = iter(loader)
    next(batches)
    pid = batches._workers[0].pid
    subprocess.run(['kill', f'-{signum.name[3:]}', str(pid)], check=True)
    time.sleep(0.5)
    return batches


def test_dataloader_workers_outlive_a_schedulers_signals(monkeypatch):
    from torch.utils.data import DataLoader
    from torch.utils.data._utils import signal_handling
    loader = DataLoader(list(range(8)), batch_size=1, num_workers=1)
    for signum in (signal.SIGTERM, signal.SIGUSR1):
        batches = _signal_first_worker(loader, signum)
        assert [int(x) for x in batches] == list(range(1, 8))
    # SIGTERM from the parent still ends a worker, as torch's handler does:
    # multiprocessing ends the workers of a loader still referenced (as the
    # training loop's is) so when the process exits, and waits for them.
    exits = subprocess.run(
        [sys.executable, '-c', 'import rethink_mmdet, torch.utils.data as d\n'
         'batches = iter(d.DataLoader(range(4), num_workers=1))\n'
         'next(batches)'], timeout=120)
    assert exits.returncode == 0
    # torch's own handlers: a SIGTERM from outside kills the worker, and the
    # main process's next batch fails.
    monkeypatch.setattr(signal_handling, '_set_worker_signal_handlers',
                        compat.ORIGINALS['_set_worker_signal_handlers'])
    with pytest.raises(RuntimeError, match='killed by signal: Terminated'):
        list(_signal_first_worker(loader, signal.SIGTERM))
