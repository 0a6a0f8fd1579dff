"""Helpers for tests: find *our* configs and point the toy config at small
generated data (mmdet's own ``get_detector_cfg`` only finds configs inside
an mmdetection checkout)."""
import os.path as osp
from typing import Dict, List

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'toy',
    'mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py')


def config_path(relative: str) -> str:
    """Absolute path of a config under the repository's ``configs/``."""
    path = osp.join(REPO_ROOT, 'configs', relative)
    if not osp.isfile(path):
        raise FileNotFoundError(f'no config {relative} under {REPO_ROOT}/configs')
    return path


def toy_overrides(data_root: str, max_iters: int, interval: int = None,
                  batch_size: int = 2,
                  schedule_iters: int = None) -> Dict[str, object]:
    """``--cfg-options`` that train the toy config briefly on ``data_root``.

    Args:
        data_root: A dataset made by ``make_synthetic_coco``.
        max_iters: Training length (at least 2).
        interval: Checkpoint and validation interval (default:
            ``max_iters``); the log has every iteration.
        batch_size: Training images per iteration and process.
        schedule_iters: Length the LR schedule is laid out for (default:
            ``max_iters``): 2 warmup iterations, then one LR drop half-way.
            A run resumed to a longer ``max_iters`` keeps its scheduler.
    """
    interval = interval or max_iters
    schedule_iters = schedule_iters or max_iters
    root = data_root.rstrip('/') + '/'
    return {
        'train_dataloader.dataset.data_root': root,
        'val_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root,
        'val_evaluator.ann_file': root + 'annotations/instances_val.json',
        'test_evaluator.ann_file': root + 'annotations/instances_val.json',
        'train_dataloader.batch_size': batch_size,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': interval,
        # LinearLR needs end >= 2 to leave its start factor behind.
        'param_scheduler.0.end': 2,
        'param_scheduler.1.end': schedule_iters,
        'param_scheduler.1.drops_before_end': [max(1, schedule_iters // 2)],
        'default_hooks.checkpoint.interval': interval,
        'default_hooks.logger.interval': 1,
    }


def as_cli_options(overrides: Dict[str, object]) -> List[str]:
    """``--cfg-options`` arguments for a subprocess command line."""
    options = []
    for key, value in overrides.items():
        if isinstance(value, (list, tuple)):
            value = '[' + ','.join(str(v) for v in value) + ']'
        options.append(f'{key}={value}')
    return ['--cfg-options'] + options
