"""Training as ``tools/train.py`` runs it: MMDetection 3.3's options applied
to a config, the datasets checked, then mmengine's Runner."""
import os
import os.path as osp
import sys
from importlib.util import find_spec
from typing import Optional, Sequence

from mmengine.config import Config

from rethink_mmdet.engine.checkpointing import (
    CheckpointError,
    checkpoint_problem,
    choose_resume_checkpoint,
)
from rethink_mmdet.engine.schedule_scaling import (
    scale_schedule_to_batch,
    total_batch_size,
)
from rethink_mmdet.engine.tracking import TRACKERS
from rethink_mmdet.models.imagenet_weights import imagenet_problems
from rethink_mmdet.runner import (
    UsageError,
    build_runner,
    load_config,
    mark_finished,
    release_process_group,
    resolve_work_dir,
)
from rethink_mmdet.runner.data_check import check_data_once

#: Optimizer wrappers that already train in mixed precision (``--amp``
#: keeps them).
AMP_WRAPPERS = ('AmpOptimWrapper', 'MixedPrecisionOptimWrapper')


def configure_training(config: str, cfg_options: Optional[dict] = None,
                       work_dir: Optional[str] = None,
                       launcher: str = 'none', amp: bool = False,
                       auto_scale_lr: bool = False,
                       resume: Optional[str] = None,
                       data_root: Optional[str] = None,
                       track: Sequence[str] = ()) -> Config:
    """The config the Runner gets, with every command-line option applied.

    Args:
        config: Config file path.
        cfg_options: ``--cfg-options`` overrides.
        work_dir: ``--work-dir`` (default: the config's, then
            ``work_dirs/CONFIG_STEM``).
        launcher: ``--launcher``.
        amp: Mixed precision (``MixedPrecisionOptimWrapper``: a dynamic
            loss scale in float16, none in bfloat16).
        auto_scale_lr: Scale the LR, and an iteration-based schedule, to
            the total batch.
        resume: A checkpoint path, ``'auto'`` for the newest readable one
            in the work_dir, or None.
        data_root: ``--data-root``: where the datasets are
            (:func:`~rethink_mmdet.runner.data_root.apply_data_root`).
        track: ``--track``: names of :data:`~rethink_mmdet.engine.tracking.
            TRACKERS` whose backends log this training as one run.
    """
    cfg = load_config(config, cfg_options, data_root)
    cfg.launcher = launcher
    resolve_work_dir(cfg, work_dir, config)
    if amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper in AMP_WRAPPERS:
            pass
        elif optim_wrapper != 'OptimWrapper':
            raise UsageError(
                f'--amp needs optim_wrapper.type OptimWrapper, but '
                f'{config} uses {optim_wrapper}')
        else:
            # AmpOptimWrapper without its GradScaler in bfloat16
            # (optim_wrapper.dtype; default float16 on a GPU).
            cfg.optim_wrapper.type = 'MixedPrecisionOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if auto_scale_lr:
        scale = cfg.get('auto_scale_lr')
        if not scale or 'base_batch_size' not in scale:
            raise UsageError(
                f'--auto-scale-lr needs auto_scale_lr.base_batch_size in '
                f'{config}')
        cfg.auto_scale_lr.enable = True
        if cfg.train_cfg.get('type') == 'IterBasedTrainLoop':
            # Images seen stay the paper's: iterations, warmup and LR drops
            # scale by base batch / batch (mmengine scales the LR).
            batch = total_batch_size(cfg)
            scaled = scale_schedule_to_batch(cfg, batch)
            print(f'--auto-scale-lr: total batch {batch} vs '
                  f'{scale.base_batch_size}: schedule x{scaled["factor"]:g}, '
                  f'max_iters={scaled["max_iters"]}', flush=True)
    elif cfg.get('auto_scale_lr', {}).get('base_batch_size'):
        _warn_if_not_the_base_batch(cfg)
    if resume == 'auto':
        cfg.resume = True
        # mmengine would take last_checkpoint blindly, and start from
        # iteration 0 when it is damaged; this skips damaged checkpoints.
        # The chosen checkpoint has passed the same check already.
        cfg.load_from = (choose_resume_checkpoint(cfg.work_dir)
                         if osp.isdir(cfg.work_dir) else None)
    else:
        if resume is not None:
            cfg.resume = True
            cfg.load_from = resume
        _check_local_checkpoint(cfg.get('load_from'))
    add_trackers(cfg, track)
    return cfg


def add_trackers(cfg: Config, track: Sequence[str]) -> None:
    """Appends the vis backend of each name in ``track`` to the config's
    visualizer, after the backends it has (``LocalVisBackend`` stays: the
    analysis tools read its ``scalars.json``); one the config already has
    is not added twice (mmengine refuses two of a name)."""
    unknown = [name for name in track if name not in TRACKERS]
    if unknown:
        raise UsageError(f'--track {unknown[0]}: not one of '
                         f'{", ".join(TRACKERS)}')
    if not track:
        return
    for name in dict.fromkeys(track):
        # The package's name is the option's; now, not at the first log.
        if find_spec(name) is None:
            raise UsageError(f'--track {name} needs the {name} package: '
                             f'{sys.executable} -m pip install {name}')
    if cfg.get('visualizer') is None:
        cfg.visualizer = dict(type='DetLocalVisualizer', name='visualizer',
                              vis_backends=[dict(type='LocalVisBackend')])
    backends = list(cfg.visualizer.get('vis_backends') or [])
    for name in track:
        if all(b.get('type') != TRACKERS[name] for b in backends):
            backends.append(dict(type=TRACKERS[name]))
    cfg.visualizer.vis_backends = backends


def _warn_if_not_the_base_batch(cfg: Config) -> None:
    """One warning, from the first process, when the total batch is not
    the one the config's LR and schedule are for."""
    batch, base = total_batch_size(cfg), cfg.auto_scale_lr.base_batch_size
    if batch == base or os.environ.get('RANK', '0') != '0':
        return
    per_process = cfg.train_dataloader.batch_size
    print(f'warning: total batch {batch} ({batch // per_process} processes '
          f'x {per_process} images) is not the config\'s base batch {base} '
          f'(auto_scale_lr.base_batch_size): this run does not follow the '
          f'paper\'s schedule (LR for {base}, iterations counted in '
          f'batches of {base}); add --auto-scale-lr to scale the LR and the '
          f'schedule to {batch}', file=sys.stderr, flush=True)


def _check_local_checkpoint(path: Optional[str]) -> None:
    """Fails now, not after the model is built, on a damaged load_from."""
    if path is None or '://' in path:
        return
    problem = checkpoint_problem(path)
    if problem is not None:
        raise CheckpointError(f'checkpoint {path}: {problem}')


def train(cfg: Config, check_data: bool = True):
    """Checks the ImageNet checkpoints the model loads, then the datasets
    (unless ``check_data`` is False; once per job), then trains; returns
    the Runner."""
    problems = imagenet_problems(cfg.get('model', {}))
    if problems:
        # Before any dataset or model is built: seconds, not minutes.
        raise CheckpointError(problems[0])
    if check_data:
        check_data_once(cfg)
    runner = build_runner(cfg)
    runner.train()
    # A preempted run stops early and exits 0: finished only at the end.
    if runner.iter >= runner.max_iters:
        mark_finished(runner, 'train', max_iters=runner.max_iters)
    release_process_group()
    return runner
