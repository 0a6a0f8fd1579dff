"""Resume that continues the interrupted run exactly, random draws included.

mmengine's resume restores the weights, optimizer (momentum), LR
schedulers and message hub, re-seeds, and advances the data loader by the
iterations already trained, which replays the data order and the
augmentations (drawn in the loader's workers, or with numpy in the main
process, from the seed). What it loses is the main process's torch random
state, which the RPN and R-CNN samplers draw from: the resumed run picks
other anchors and proposals than the uninterrupted one would have. This hook
stores the random states in each checkpoint and restores them after the
replay, right before the first batch the resumed run trains on: the data
loader itself draws from the torch stream whenever it starts an epoch (its
workers' base seed), so a state restored after that fetch missed the draw
the uninterrupted run made there (a resume at an epoch boundary drew other
anchors). It also keeps validation from consuming random
numbers, so that a run validated at iteration N continues as one resumed
from the checkpoint of iteration N.
"""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


def _capture_rng_state() -> dict:
    state = {'torch': torch.get_rng_state(),
             'numpy': np.random.get_state(),
             'python': random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def _restore_rng_state(state: dict, numpy_and_python: bool = True) -> None:
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
    if numpy_and_python:
        np.random.set_state(state['numpy'])
        random.setstate(state['python'])


def _checkpoint_due(runner) -> bool:
    """Whether the CheckpointHook saves after the current iteration."""
    from mmengine.hooks import CheckpointHook
    for hook in runner.hooks:
        if isinstance(hook, CheckpointHook) and not hook.by_epoch:
            return bool(
                hook.every_n_train_iters(runner, hook.interval,
                                         hook.save_begin)
                or (hook.save_last and hook.is_last_train_iter(runner)))
    return False


class _RestoreBeforeFetch:
    """The training loop's data iterator, which restores a saved random
    state right before the first batch after ``skip`` replayed ones."""

    def __init__(self, iterator, skip: int, state: dict) -> None:
        self._iterator = iterator
        self._skip = skip
        self._state: Optional[dict] = state

    def __iter__(self):
        return self

    def __next__(self):
        if self._skip:
            self._skip -= 1
        elif self._state is not None:
            _restore_rng_state(self._state)
            self._state = None
        return next(self._iterator)


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Saves the random state of every rank in checkpoints and restores it
    after ``--resume``; makes validation neutral to the random streams.

    An iteration-based loop gets every state (torch, CUDA, numpy, Python)
    back right before its first batch after the replay, where the
    interrupted run had them. A loop without a replay (epoch-based) gets
    the torch state back before its first iteration.
    """

    # After-iteration work runs before the CheckpointHook's (VERY_LOW).
    priority = 'LOW'

    def __init__(self) -> None:
        self._resumed_state: Optional[dict] = None
        self._resumed_iter: Optional[int] = None
        self._outside_validation: Optional[dict] = None
        self._gathered: Optional[list] = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if _checkpoint_due(runner):
            self.collect_states()

    def collect_states(self) -> None:
        """Hands every rank's random state to rank 0 before a save: only
        rank 0 saves (and calls ``before_save_checkpoint``). A collective:
        every rank calls it, after the same iteration (PreemptionHook calls
        it for the checkpoints it saves)."""
        if get_world_size() > 1:
            self._gathered = all_gather_object(_capture_rng_state())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        states = self._gathered or [_capture_rng_state()]
        self._gathered = None
        checkpoint['rng_state'] = {'world_size': len(states),
                                   'per_rank': states}

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = checkpoint.get('rng_state')
        if saved is None:
            return
        if saved['world_size'] != get_world_size():
            runner.logger.warning(
                f'checkpoint random state is from {saved["world_size"]} '
                f'processes, this job has {get_world_size()}: the resumed '
                'run will not repeat the interrupted one exactly')
            return
        self._resumed_state = saved['per_rank'][get_rank()]
        self._resumed_iter = checkpoint['meta'].get('iter')

    def before_train_epoch(self, runner) -> None:
        loop = runner.train_loop
        if self._resumed_state is None \
                or not hasattr(loop, 'dataloader_iterator'):
            return
        # A checkpoint given as load_from (not resumed) starts at 0.
        if runner.iter == self._resumed_iter:
            loop.dataloader_iterator = _RestoreBeforeFetch(
                loop.dataloader_iterator, runner.iter, self._resumed_state)
        self._resumed_state = None

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        if self._resumed_state is None:
            return
        # A checkpoint given as load_from (not resumed) starts at 0.
        if runner.iter == self._resumed_iter:
            _restore_rng_state(self._resumed_state, numpy_and_python=False)
        self._resumed_state = None

    def before_val_epoch(self, runner) -> None:
        self._outside_validation = _capture_rng_state()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._outside_validation is not None:
            _restore_rng_state(self._outside_validation)
            self._outside_validation = None
