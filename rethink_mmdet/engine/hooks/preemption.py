"""Stopping cleanly when the scheduler preempts the job.

Slurm (and most schedulers) send SIGTERM before they kill a job, and the
sbatch template (tools/slurm/train.sbatch) asks for SIGUSR1 a few minutes
before the time limit. On either signal this hook lets the current
iteration finish, saves a checkpoint as the CheckpointHook would (same
name, same contents, ``last_checkpoint`` updated) and ends training; the
process exits 0 and ``--resume`` in the requeued job continues from that
iteration exactly (with :class:`ExactResumeHook`). All ranks stop at the
same iteration: the signal may reach them at different times, so they agree
on it after every iteration with one small all-reduce. A training stopped
before its last iteration leaves the file :data:`STOPPED_MARKER` in the
work_dir (removed when training starts), so the batch script requeues only
a training that has iterations left: a signal during the final validation
otherwise cost a requeued run that replays the data loader to the end.
"""
import os
import os.path as osp
import signal
from typing import Dict, Sequence

import torch
from mmengine.dist import all_reduce, get_world_size, is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.registry import HOOKS

from .exact_resume import ExactResumeHook, _checkpoint_due

#: In the work_dir while a training stopped by a signal has iterations left.
STOPPED_MARKER = 'preempted'


@HOOKS.register_module()
class PreemptionHook(Hook):
    """Saves a checkpoint and stops training on a preemption signal.

    Args:
        signals: Names of the signals that request the stop.
    """

    # After the CheckpointHook (VERY_LOW): a save due this iteration has
    # happened, and is not repeated.
    priority = 'LOWEST'

    def __init__(self, signals: Sequence[str] = ('SIGTERM', 'SIGUSR1')):
        self.signals = [getattr(signal, name) for name in signals]
        self._requested = False
        self._previous: Dict[int, object] = {}

    def _request(self, signum, frame) -> None:
        # Only a flag: the iteration in flight finishes undisturbed.
        self._requested = True

    def before_train(self, runner) -> None:
        marker = osp.join(runner.work_dir, STOPPED_MARKER)
        if is_main_process() and osp.exists(marker):
            os.remove(marker)
        for signum in self.signals:
            self._previous[signum] = signal.signal(signum, self._request)

    def after_train(self, runner) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _agreed(self) -> bool:
        """Whether any rank got the signal (a collective on every rank)."""
        if get_world_size() == 1:
            return self._requested
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
        flag = torch.tensor([int(self._requested)], device=device)
        all_reduce(flag, op='max')
        return bool(flag.item())

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if not self._agreed():
            return
        if not _checkpoint_due(runner):
            for hook in runner.hooks:
                if isinstance(hook, ExactResumeHook):
                    hook.collect_states()
            for hook in runner.hooks:
                if isinstance(hook, CheckpointHook):
                    hook._save_checkpoint(runner)
        runner.train_loop.stop_training = True
        if runner.iter + 1 >= runner.max_iters:
            return  # the training ends here anyway
        if is_main_process():
            with open(osp.join(runner.work_dir, STOPPED_MARKER), 'w') as f:
                f.write(f'stopped after iteration {runner.iter + 1} of '
                        f'{runner.max_iters}\n')
        runner.logger.warning(
            f'preemption signal: stopped after iteration {runner.iter + 1} '
            f'with a checkpoint in {runner.work_dir}; run again with '
            '--resume to continue')
