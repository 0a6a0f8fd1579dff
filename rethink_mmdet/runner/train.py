"""Training as ``tools/train.py`` runs it: MMDetection 3.3's options applied
to a config, the datasets checked, then mmengine's Runner."""
import os.path as osp
import sys
from typing import Optional

from mmengine.config import Config

from rethink_mmdet.datasets.validation import validate_config_datasets
from rethink_mmdet.engine.checkpointing import (CheckpointError,
                                                checkpoint_problem,
                                                choose_resume_checkpoint)
from rethink_mmdet.engine.schedule_scaling import (scale_schedule_to_batch,
                                                   total_batch_size)

from . import UsageError, build_runner, load_config, resolve_work_dir


def configure_training(config: str, cfg_options: Optional[dict] = None,
                       work_dir: Optional[str] = None,
                       launcher: str = 'none', amp: bool = False,
                       auto_scale_lr: bool = False,
                       resume: Optional[str] = None) -> Config:
    """The config the Runner gets, with every command-line option applied.

    Args:
        config: Config file path.
        cfg_options: ``--cfg-options`` overrides.
        work_dir: ``--work-dir`` (default: the config's, then
            ``work_dirs/CONFIG_STEM``).
        launcher: ``--launcher``.
        amp: Mixed precision (``AmpOptimWrapper``, dynamic loss scale).
        auto_scale_lr: Scale the LR, and an iteration-based schedule, to
            the total batch.
        resume: A checkpoint path, ``'auto'`` for the newest readable one
            in the work_dir, or None.
    """
    cfg = load_config(config, cfg_options)
    cfg.launcher = launcher
    resolve_work_dir(cfg, work_dir, config)
    if amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper == 'AmpOptimWrapper':
            pass
        elif optim_wrapper != 'OptimWrapper':
            raise UsageError(
                f'--amp needs optim_wrapper.type OptimWrapper, but '
                f'{config} uses {optim_wrapper}')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
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
    return cfg


def _check_local_checkpoint(path: Optional[str]) -> None:
    """Fails now, not after the model is built, on a damaged load_from."""
    if path is None or '://' in path:
        return
    problem = checkpoint_problem(path)
    if problem is not None:
        raise CheckpointError(f'checkpoint {path}: {problem}')


def train(cfg: Config, check_data: bool = True):
    """Checks the datasets (unless ``check_data`` is False), then trains;
    returns the Runner."""
    if check_data:
        for warning in validate_config_datasets(cfg):
            print(f'warning: {warning}', file=sys.stderr)
    runner = build_runner(cfg)
    runner.train()
    return runner
