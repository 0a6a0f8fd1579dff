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
