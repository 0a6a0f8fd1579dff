"""Keeping the paper's schedule in images seen when the batch is not 16.

The paper's schedules are stated at batch 16 (docs/recipe.md). On another total
batch B, detectron2's rule keeps the images seen: iterations, warmup and LR
drop points scale by 16 / B and the LR by B / 16 (its 9x at batch 64:
202.5k iterations, drops at 187.5k and 197.5k, lr 0.08). mmengine's
``auto_scale_lr`` only scales the LR; :func:`scale_schedule_to_batch` scales
the rest, and ``tools/train.py --auto-scale-lr`` applies both.
"""
import os
from typing import Dict

from mmengine.config import Config

#: Scheduler arguments that count iterations, by scheduler type.
_ITERATION_ARGS = ('begin', 'end', 'milestones', 'drops_before_end')


def total_batch_size(cfg: Config) -> int:
    """Images per iteration over all processes of the job being launched.

    The world size comes from the launcher's environment (torchrun's
    ``WORLD_SIZE``, Slurm's ``SLURM_NTASKS``), 1 without a launcher.
    """
    world_size = 1
    if cfg.get('launcher', 'none') == 'slurm':
        world_size = int(os.environ.get('SLURM_NTASKS', 1))
    elif cfg.get('launcher', 'none') != 'none':
        world_size = int(os.environ.get('WORLD_SIZE', 1))
    return world_size * cfg.train_dataloader.batch_size


def _scale(value, factor: float):
    if isinstance(value, (list, tuple)):
        return type(value)(_scale(v, factor) for v in value)
    return int(round(value * factor))


def scale_schedule_to_batch(cfg: Config, batch_size: int) -> Dict[str, float]:
    """Rescales an iteration-based schedule from its base batch, in place.

    Args:
        cfg: Config with ``auto_scale_lr.base_batch_size`` and an
            ``IterBasedTrainLoop``.
        batch_size: The job's total batch size.

    Returns:
        What changed: ``factor`` (base batch / batch) and the new
        ``max_iters``. The LR itself is left to mmengine's ``auto_scale_lr``.

    Raises:
        ValueError: for epoch-based schedules, which need no rescaling of
            this kind (an epoch is the same images whatever the batch).
    """
    base = cfg.auto_scale_lr.base_batch_size
    if cfg.train_cfg.get('type') != 'IterBasedTrainLoop':
        raise ValueError(
            'scale_schedule_to_batch rescales iteration-based schedules; '
            f"train_cfg.type is {cfg.train_cfg.get('type')!r}")
    factor = base / batch_size
    if factor == 1:
        return dict(factor=1.0, max_iters=cfg.train_cfg.max_iters)
    cfg.train_cfg.max_iters = _scale(cfg.train_cfg.max_iters, factor)
    if 'val_interval' in cfg.train_cfg:
        cfg.train_cfg.val_interval = max(
            1, _scale(cfg.train_cfg.val_interval, factor))
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
    if checkpoint and not checkpoint.get('by_epoch', True):
        checkpoint.interval = max(1, _scale(checkpoint.interval, factor))
    schedulers = cfg.param_scheduler
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for scheduler in schedulers:
        if scheduler.get('by_epoch', True):
            continue
        for key in _ITERATION_ARGS:
            if key in scheduler:
                scheduler[key] = _scale(scheduler[key], factor)
    return dict(factor=factor, max_iters=cfg.train_cfg.max_iters)
