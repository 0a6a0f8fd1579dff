"""Stopping a run whose loss went non-finite, before it is checkpointed.

A scratch run can diverge in its first thousand iterations; mmengine keeps
training on NaN and its CheckpointHook then saves the NaN model as the
latest checkpoint, so a resume starts from garbage. This hook runs after
each training iteration, before the CheckpointHook (higher priority), and
raises :class:`DivergenceError` naming the iteration and the loss terms that
are not finite; ``last_checkpoint`` keeps pointing at the last good one.
"""
import math
import os.path as osp

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss."""


def _scalar(value) -> float:
    """A logged loss as a float (tensors are detached from the graph)."""
    return float(value.detach() if hasattr(value, 'detach') else value)


@HOOKS.register_module()
class DivergenceGuardHook(Hook):
    """Raises on the first non-finite loss term of a training iteration."""

    # Before CheckpointHook (VERY_LOW) and LoggerHook (BELOW_NORMAL).
    priority = 'NORMAL'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        bad = sorted(name for name, value in (outputs or {}).items()
                     if 'loss' in name and not math.isfinite(_scalar(value)))
        if not bad:
            return
        last = osp.join(runner.work_dir, 'last_checkpoint')
        if osp.isfile(last):
            with open(last) as f:
                kept = f'the last good checkpoint is {f.read().strip()}'
        else:
            kept = 'no checkpoint had been saved yet'
        raise DivergenceError(
            f'iteration {runner.iter + 1}: non-finite loss '
            f'({", ".join(f"{n}={float(outputs[n])}" for n in bad)}); '
            f'training stopped and this model was not saved; {kept}')
