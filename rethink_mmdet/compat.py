"""Every change this package makes to its libraries' behaviour, in one place.

:func:`apply_patches` applies them all, once, when ``rethink_mmdet`` is
imported, which our tools do before they read a config (``mmdet::`` bases
are resolved while the file is parsed, before the config's own
``custom_imports`` run). Each patch says why it exists and when it can go:

* mmengine's ``is_installed``/``get_installed_path`` without
  ``pkg_resources`` (:func:`_patch_package_utils`);
* mmengine's checkpoint loaders read files as data, not code
  (:func:`_patch_checkpoint_loading`), and the Runner's ``load_from`` and
  ``--resume`` also accept the types mmengine pickles into its checkpoints
  (:func:`_patch_runner_checkpoint_types`; the allowlist is
  :func:`rethink_mmdet.engine.checkpointing.training_checkpoint_types`);
* mmengine's local file backend writes atomically
  (:func:`_patch_local_file_backend`);
* mmengine's distributed init on CPU-only machines, torchrun's and Slurm's
  (:func:`_patch_cpu_distributed_init`);
* torch's DataLoader workers outlive a scheduler's SIGTERM to the whole
  job (:func:`_patch_dataloader_worker_signals`);
* mmcv's ``nms`` and ``RoIAlign`` under bfloat16 autocast
  (:func:`_patch_bf16_ops`).

:func:`adapt_cfg_to_device` is the one change made to a config rather than
a library (CPU-only distributed jobs), applied by the runner.
"""
import functools
import importlib
import importlib.metadata
import importlib.util
import os
import os.path as osp
import signal
import subprocess
from urllib.parse import urlparse

import torch

_applied = False
#: What each patch replaced, by name, so tests can show why it is needed.
ORIGINALS = {}


def _distribution_top_level(package: str) -> str:
    """Import name of an installed distribution (``mmcv-full`` -> ``mmcv``)."""
    dist = importlib.metadata.distribution(package)
    top_level = dist.read_text('top_level.txt')
    if top_level and top_level.split():
        return top_level.split()[0]
    return package.replace('-', '_')


def is_installed(package: str) -> bool:
    """``mmengine.utils.is_installed`` without ``pkg_resources``."""
    try:
        importlib.metadata.distribution(package)
        return True
    except importlib.metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def get_installed_path(package: str) -> str:
    """``mmengine.utils.get_installed_path`` without ``pkg_resources``.

    Returns the directory of the package's import package, the place where
    ``mmdet::`` configs are looked up (``<path>/.mim/configs``).
    """
    try:
        module = _distribution_top_level(package)
    except importlib.metadata.PackageNotFoundError:
        module = package
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            f'package {package!r} is not installed (or is a namespace package '
            'without a location); install it to use its configs')
    return osp.dirname(spec.origin)


def _patch_package_utils() -> None:
    # mmengine 0.10.7 resolves `mmdet::` bases through pkg_resources, which
    # setuptools 81 removed. Remove once mmengine stops importing it.
    import mmengine.config.config as config_module
    import mmengine.hub.hub as hub_module
    import mmengine.utils as utils_module
    import mmengine.utils.package_utils as package_utils
    ORIGINALS['is_installed'] = package_utils.is_installed
    ORIGINALS['get_installed_path'] = package_utils.get_installed_path
    for module in (package_utils, utils_module, config_module, hub_module):
        module.is_installed = is_installed
        module.get_installed_path = get_installed_path


def load_local_checkpoint(filename: str, map_location=None):
    """mmengine's loader of local files, reading them as data.

    mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; this
    reads with ``weights_only=True`` (plus the training-state types while
    the Runner loads ``load_from`` or ``--resume``, see
    :func:`~rethink_mmdet.engine.checkpointing.training_checkpoint_globals`)
    and refuses a file that needs code to load, unless the user trusts
    checkpoints (:func:`~rethink_mmdet.engine.checkpointing.load_as_data`).
    A missing or damaged file raises a ``CheckpointError`` naming it.
    """
    from rethink_mmdet.engine.checkpointing import read_checkpoint
    return read_checkpoint(filename, map_location=map_location)


def load_url(url: str, model_dir=None, map_location=None, progress=True,
             check_hash=False, file_name=None):
    """mmengine's ``load_url`` (torchvision://, open-mmlab://, http(s)://)
    reading the downloaded file as data, not as code.

    mmengine 0.10.7 calls ``torch.hub.load_state_dict_from_url``, whose
    ``weights_only`` defaults to False: a file from the internet would run
    its pickled code.
    """
    from torch.hub import get_dir, load_state_dict_from_url

    from rethink_mmdet.engine.checkpointing import load_as_data
    cached = osp.join(model_dir or osp.join(get_dir(), 'checkpoints'),
                      file_name or osp.basename(urlparse(url).path))
    return load_as_data(
        lambda weights_only: load_state_dict_from_url(
            url, model_dir, map_location, progress, check_hash, file_name,
            weights_only=weights_only), url, cached)


def _patch_checkpoint_loading() -> None:
    # mmengine 0.10.7 calls torch.load without weights_only (torch >= 2.6
    # then refuses mmengine's own checkpoints) and torch.hub's loader, whose
    # default runs code from a downloaded file. Remove once mmengine reads
    # checkpoints with weights_only=True and an allowlist itself.
    import mmengine.runner.checkpoint as checkpoint_module
    from mmengine.runner.checkpoint import CheckpointLoader
    ORIGINALS['load_from_local'] = CheckpointLoader._schemes['']
    CheckpointLoader.register_scheme(prefixes='', force=True)(
        load_local_checkpoint)
    ORIGINALS['load_url'] = checkpoint_module.load_url
    checkpoint_module.load_url = load_url


def _patch_runner_checkpoint_types() -> None:
    # Runner.load_checkpoint reads load_from and --resume: checkpoints
    # written by mmengine, with its message hub and numpy values. Weights
    # files (Pretrained, imagenet://) get tensors and containers only.
    # Keep while mmengine pickles objects into its checkpoints.
    from mmengine.runner import Runner
    original = ORIGINALS['Runner.load_checkpoint'] = Runner.load_checkpoint

    from rethink_mmdet.engine.checkpointing import (
        training_checkpoint_globals,
    )

    @functools.wraps(original)
    def load_checkpoint(self, *args, **kwargs):
        with training_checkpoint_globals():
            return original(self, *args, **kwargs)

    Runner.load_checkpoint = load_checkpoint


def _patch_local_file_backend() -> None:
    # mmengine writes checkpoints and last_checkpoint in place, so a kill
    # during a write leaves a partial file (engine/checkpointing.py). Keep:
    # mmengine has no atomic-write option.
    from mmengine.fileio.backends import register_backend, registry_utils

    from rethink_mmdet.engine.checkpointing import AtomicLocalBackend
    ORIGINALS['local_backend'] = registry_utils.backends['local']
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')


def _init_dist_pytorch_cpu_aware(backend, init_backend='torch', **kwargs):
    """mmengine's ``_init_dist_pytorch`` that also starts CPU-only jobs.

    mmengine 0.10.7 calls ``torch.cuda.set_device`` unconditionally, which a
    CPU build of torch does not have; on such a machine the job runs on gloo.
    """
    import torch.distributed as torch_dist
    from mmengine.logging import print_log
    if torch.cuda.is_available():
        return ORIGINALS['_init_dist_pytorch'](backend, init_backend,
                                               **kwargs)
    if init_backend != 'torch':
        raise ValueError(f'init_backend={init_backend!r} needs GPUs; a '
                         'CPU-only job supports init_backend="torch"')
    if backend != 'gloo':
        print_log(
            f'no CUDA device: using the gloo backend instead of {backend!r}',
            logger='current')
    torch_dist.init_process_group(backend='gloo', **kwargs)


class LauncherError(RuntimeError):
    """A launcher's environment the job cannot start from (one line)."""


def slurm_first_host(node_list: str) -> str:
    """The first host of a Slurm node list (``node[07-09]`` -> ``node07``),
    expanded by ``scontrol show hostnames``; a single plain host is itself.
    """
    if not any(c in node_list for c in '[],'):
        return node_list
    try:
        result = subprocess.run(['scontrol', 'show', 'hostnames', node_list],
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LauncherError(f'cannot expand SLURM_NODELIST={node_list!r} '
                            f'with scontrol show hostnames: {e}') from e
    hosts = result.stdout.split()
    if result.returncode != 0 or not hosts:
        raise LauncherError(
            f'scontrol show hostnames {node_list} gave no host: '
            f'{result.stderr.strip() or "empty output"}')
    return hosts[0]


#: What srun sets in each task and ``--launcher slurm`` reads.
SLURM_TASK_VARIABLES = ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID',
                        'SLURM_NODELIST')


def slurm_dist_env(environ, port=None) -> dict:
    """torch.distributed's variables for a Slurm task, as mmengine's
    ``_init_dist_slurm`` sets them: rank, world size and local rank from
    ``SLURM_PROCID``/``SLURM_NTASKS``/``SLURM_LOCALID``; ``MASTER_ADDR``
    kept when set, else the node list's first host; ``MASTER_PORT`` from
    ``port``, else kept (tools/slurm/task.sh sets it), else 29500.
    """
    missing = [name for name in SLURM_TASK_VARIABLES if name not in environ]
    if missing:
        raise LauncherError(
            f'--launcher slurm needs {", ".join(missing)} (set by srun in '
            'each task): start the tool with tools/slurm_train.sh, '
            'tools/slurm_test.sh or tools/slurm/train.sbatch')
    numbers = {}
    for name in SLURM_TASK_VARIABLES[:3]:
        try:
            numbers[name] = int(environ[name])
        except ValueError:
            raise LauncherError(f'{name}={environ[name]!r} is not a '
                                'number') from None
    env = {'RANK': str(numbers['SLURM_PROCID']),
           'WORLD_SIZE': str(numbers['SLURM_NTASKS']),
           'LOCAL_RANK': str(numbers['SLURM_LOCALID'])}
    env['MASTER_ADDR'] = environ.get('MASTER_ADDR') or slurm_first_host(
        environ['SLURM_NODELIST'])
    env['MASTER_PORT'] = str(port or environ.get('MASTER_PORT') or 29500)
    return env


def _init_dist_slurm_cpu_aware(backend, port=None, init_backend='torch',
                               **kwargs):
    """mmengine's ``_init_dist_slurm`` that also starts CPU-only jobs.

    mmengine 0.10.7 calls ``torch.cuda.set_device`` here too; without CUDA
    the task joins the job's process group on gloo from Slurm's variables
    (:func:`slurm_dist_env`). GPU jobs take mmengine's path unchanged.
    """
    import torch.distributed as torch_dist
    from mmengine.logging import print_log
    if torch.cuda.is_available():
        return ORIGINALS['_init_dist_slurm'](
            backend, port=port, init_backend=init_backend, **kwargs)
    if init_backend != 'torch':
        raise ValueError(f'init_backend={init_backend!r} needs GPUs; a '
                         'CPU-only job supports init_backend="torch"')
    os.environ.update(slurm_dist_env(os.environ, port))
    if backend != 'gloo':
        print_log(
            f'no CUDA device: using the gloo backend instead of {backend!r}',
            logger='current')
    torch_dist.init_process_group(backend='gloo', **kwargs)


def _patch_cpu_distributed_init() -> None:
    # Remove once mmengine skips torch.cuda.set_device without CUDA.
    from mmengine.dist import utils as dist_utils
    ORIGINALS['_init_dist_pytorch'] = dist_utils._init_dist_pytorch
    ORIGINALS['_init_dist_slurm'] = dist_utils._init_dist_slurm
    dist_utils._init_dist_pytorch = _init_dist_pytorch_cpu_aware
    dist_utils._init_dist_slurm = _init_dist_slurm_cpu_aware


def _exit_on_sigterm_from(parent: int) -> None:
    """Waits for SIGTERM (blocked in the worker) and exits on the parent's,
    as torch's handler does: multiprocessing ends daemonic children so
    when the training process exits."""
    while True:
        if signal.sigwaitinfo({signal.SIGTERM}).si_pid == parent:
            os._exit(0)


def _workers_ignoring_job_signals(original):
    def set_worker_signal_handlers(*args, **kwargs):
        import threading
        original(*args, **kwargs)
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        # Blocked in this thread and the ones it starts, SIGTERM waits for
        # the thread that takes the parent's and drops the others.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        threading.Thread(target=_exit_on_sigterm_from, args=(os.getppid(),),
                         name='sigterm-from-parent', daemon=True).start()
    return set_worker_signal_handlers


def _patch_dataloader_worker_signals() -> None:
    # Slurm sends SIGTERM (scontrol requeue, scancel, preemption, the time
    # limit) and srun forwards SIGUSR1 to every process of a job step. Each
    # DataLoader worker installs a SIGTERM handler that dies unless its
    # parent sent the signal; the training then fails with "DataLoader
    # worker ... killed by signal" instead of saving (PreemptionHook).
    # The workers drop both and leave the stop to the training; SIGTERM
    # from their parent still ends them. Keep while torch's workers die of
    # a signal from outside the job's main process.
    from torch.utils.data._utils import signal_handling
    original = ORIGINALS['_set_worker_signal_handlers'] = \
        signal_handling._set_worker_signal_handlers
    signal_handling._set_worker_signal_handlers = \
        _workers_ignoring_job_signals(original)


def _float32_nms(original):
    def nms(boxes, scores, *args, **kwargs):
        if boxes.dtype != torch.bfloat16 and scores.dtype != torch.bfloat16:
            return original(boxes, scores, *args, **kwargs)
        dets, inds = original(boxes.float(), scores.float(), *args, **kwargs)
        return dets.to(boxes.dtype), inds
    return nms


def _float32_roi_align(original):
    def forward(self, input, rois):
        if input.dtype != torch.bfloat16 and rois.dtype != torch.bfloat16:
            return original(self, input, rois)
        return original(self, input.float(), rois.float()).to(input.dtype)
    return forward


def _patch_bf16_ops() -> None:
    # mmcv 2.1's nms and roi_align kernels take float32/float16 only, and
    # autocast hands them bfloat16 (AMP bf16: --modes amp-bf16 of
    # benchmark_train.py, optim_wrapper.dtype='bfloat16'); they compute in
    # float32 instead. Remove once mmcv dispatches bfloat16.
    import mmcv.ops
    from mmcv.ops.roi_align import RoIAlign
    nms_module = importlib.import_module('mmcv.ops.nms')
    ORIGINALS['nms'] = nms_module.nms
    ORIGINALS['RoIAlign.forward'] = RoIAlign.forward
    # batched_nms looks nms up in its module's globals.
    nms_module.nms = mmcv.ops.nms = _float32_nms(nms_module.nms)
    RoIAlign.forward = _float32_roi_align(RoIAlign.forward)


def adapt_cfg_to_device(cfg) -> None:
    """Makes a distributed config runnable on CPU-only machines, in place.

    mmengine's Runner wraps the model in DDP with
    ``device_ids=[LOCAL_RANK]``, which DDP refuses for a CPU module. An
    explicit ``model_wrapper_cfg`` with ``device_ids=None`` wins over that
    default, and gloo replaces nccl. GPU machines are left unchanged.
    """
    if torch.cuda.is_available() or cfg.get('launcher', 'none') == 'none':
        return
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))


def apply_patches() -> None:
    """Applies every patch once (the list is in the module's docstring)."""
    global _applied
    if _applied:
        return
    _patch_package_utils()
    _patch_checkpoint_loading()
    _patch_runner_checkpoint_types()
    _patch_local_file_backend()
    _patch_cpu_distributed_init()
    _patch_dataloader_worker_signals()
    _patch_bf16_ops()
    _applied = True
