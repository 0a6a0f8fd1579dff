"""Short training runs paced to a floor per iteration, for the tests that
signal or requeue a run mid-way (a real Slurm's jobs, a campaign's rows)."""
from rethink_mmdet.runner.configs import config_path
from rethink_mmdet.runner.synthetic_data import synthetic_data_overrides
from rethink_mmdet.testing import short_run_overrides

#: The toy the jobs train: Faster R-CNN on 64 px synthetic images.
CONFIG = config_path(
    'toy/faster-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1000i_synthetic-coco.py')
# An iteration of this toy takes 0.08 s on an idle machine and over 1 s on
# a busy one: the runs are paced to a floor per iteration, so a signal or a
# requeue lands mid-run however fast the machine is. Sleeping changes no
# number (in place of SpeedSwitchesHook, which does nothing here).
PACE_HOOK = """
import time

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class PaceHook(Hook):

    def __init__(self, seconds):
        self.seconds = seconds

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.start = time.monotonic()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        time.sleep(max(0.0, self.seconds - time.monotonic() + self.start))
"""


def paced_run_overrides(data_root, max_iters, pace=0.25, workers=0):
    """A deterministic run of ``max_iters`` iterations of at least ``pace``
    s, with a checkpoint and a validation at the end only, loading with
    ``workers`` DataLoader workers."""
    return {**synthetic_data_overrides(CONFIG, data_root, scale=(64, 64)),
            **short_run_overrides(max_iters),
            'train_dataloader.num_workers': workers,
            'custom_imports.imports': ['rethink_mmdet', 'pace_hook'],
            'custom_hooks.3.type': 'PaceHook',
            'custom_hooks.3.seconds': pace,
            'randomness.seed': 0, 'randomness.deterministic': True}
