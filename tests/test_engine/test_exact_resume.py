import random
from types import SimpleNamespace

import numpy as np
import torch

from rethink_mmdet.engine.hooks import ExactResumeHook


def _draw():
    return (torch.rand(3).tolist(), np.random.rand(3).tolist(),
            random.random())


def test_validation_leaves_the_random_streams_where_it_found_them():
    hook = ExactResumeHook()
    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    expected = _draw()
    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    hook.before_val_epoch(runner=None)
    _draw()  # what a validation (loader workers, pipelines) may consume
    hook.after_val_epoch(runner=None)
    assert _draw() == expected


def test_checkpoint_carries_the_torch_state_restored_at_the_resumed_iter():
    hook = ExactResumeHook()
    torch.manual_seed(1)
    checkpoint = {'meta': {'iter': 5}}
    hook.before_save_checkpoint(runner=None, checkpoint=checkpoint)
    expected = torch.rand(4)
    assert checkpoint['rng_state']['world_size'] == 1

    resumed = ExactResumeHook()
    torch.manual_seed(2)
    resumed.after_load_checkpoint(runner=None, checkpoint=checkpoint)
    resumed.before_train_iter(SimpleNamespace(iter=5), batch_idx=5)
    assert torch.equal(torch.rand(4), expected)


def test_a_checkpoint_used_as_load_from_keeps_the_fresh_random_state():
    hook = ExactResumeHook()
    checkpoint = {'meta': {'iter': 5}}
    hook.before_save_checkpoint(runner=None, checkpoint=checkpoint)
    fresh = ExactResumeHook()
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    fresh.after_load_checkpoint(runner=None, checkpoint=checkpoint)
    fresh.before_train_iter(SimpleNamespace(iter=0), batch_idx=0)
    assert torch.equal(torch.rand(4), expected)


class _Loader:
    """Batches whose fetch draws from the torch stream where an epoch
    starts, as a DataLoader does (its workers' base seed)."""

    def __init__(self, epoch_length):
        self.fetched, self.epoch_length = 0, epoch_length

    def __next__(self):
        if self.fetched % self.epoch_length == 0:
            torch.empty((), dtype=torch.int64).random_()
        self.fetched += 1
        return self.fetched


def _train(loop, hook, runner, iters):
    """What IterBasedTrainLoop.run does: the hook, the replay of the
    iterations already trained, then fetch and train."""
    hook.before_train_epoch(runner)
    for _ in range(runner.iter):
        next(loop.dataloader_iterator)
    draws, checkpoint = [], None
    for runner.iter in range(runner.iter, iters):
        next(loop.dataloader_iterator)
        hook.before_train_iter(runner, batch_idx=runner.iter)
        draws.append(torch.rand(2).tolist() + np.random.rand(1).tolist())
        if runner.iter == 1:
            checkpoint = {'meta': {'iter': 2}}
            hook.before_save_checkpoint(runner, checkpoint)
    return draws, checkpoint


def test_a_resume_at_an_epoch_boundary_repeats_the_loaders_draw():
    # Epochs of 2 iterations: the third fetch starts an epoch.
    torch.manual_seed(0), np.random.seed(0)
    loop = SimpleNamespace(dataloader_iterator=_Loader(2))
    runner = SimpleNamespace(iter=0, train_loop=loop)
    expected, checkpoint = _train(loop, ExactResumeHook(), runner, 4)

    torch.manual_seed(0), np.random.seed(0)
    loop = SimpleNamespace(dataloader_iterator=_Loader(2))
    runner = SimpleNamespace(iter=2, train_loop=loop)
    resumed = ExactResumeHook()
    resumed.after_load_checkpoint(runner, checkpoint)
    draws, _ = _train(loop, resumed, runner, 4)
    assert draws == expected[2:]
