"""Each workaround in rethink_mmdet.compat, shown to be needed and to work."""
import sys

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
