"""Helpers for tests: find *our* configs and point the toy config at small
generated data (mmdet's own ``get_detector_cfg`` only finds configs inside
an mmdetection checkout)."""
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'toy',
    'mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py')
TOY_KEYPOINT_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'toy',
    'keypoint-rcnn_r18-tiny-scratch_fpn_gn-all_toy-400i_synthetic-coco-kp.py')


def config_path(relative: str) -> str:
    """Absolute path of a config under the repository's ``configs/``."""
    path = osp.join(REPO_ROOT, 'configs', relative)
    if not osp.isfile(path):
        raise FileNotFoundError(f'no config {relative} under {REPO_ROOT}/configs')
    return path


def short_run_overrides(max_iters: int, interval: int = None,
                        batch_size: int = 2,
                        schedule_iters: int = None) -> Dict[str, object]:
    """``--cfg-options`` for a run of a few iterations of any row config.

    Args:
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
    return {
        'train_dataloader.batch_size': batch_size,
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': interval,
        # LinearLR needs end >= 2 to leave its start factor behind.
        'param_scheduler.0.end': 2,
        'param_scheduler.1.end': schedule_iters,
        'param_scheduler.1.drops_before_end': [max(1, schedule_iters // 2)],
        'default_hooks.checkpoint.interval': interval,
        'default_hooks.logger.interval': 1,
        # A model trained for a few iterations scores below the usual 0.05;
        # keeping every detection lets evaluation run its whole path.
        'model.test_cfg.rcnn.score_thr': 0.0,
    }


def toy_overrides(data_root: str, max_iters: int, interval: int = None,
                  batch_size: int = 2, schedule_iters: int = None,
                  config: str = TOY_CONFIG) -> Dict[str, object]:
    """The toy config (or ``config``) on ``data_root`` for a short run
    (see :func:`short_run_overrides` for the arguments)."""
    return {**synthetic_data_overrides(config, data_root),
            **short_run_overrides(max_iters, interval, batch_size,
                                  schedule_iters)}


def _cli_value(value) -> str:
    """A value in the syntax of mmengine's ``DictAction``."""
    if isinstance(value, tuple):
        return '(' + ','.join(_cli_value(v) for v in value) + ')'
    if isinstance(value, list):
        return '[' + ','.join(_cli_value(v) for v in value) + ']'
    return str(value)


def as_cli_options(overrides: Dict[str, object]) -> List[str]:
    """``--cfg-options`` arguments for a subprocess command line."""
    return ['--cfg-options'] + [f'{key}={_cli_value(value)}'
                                for key, value in overrides.items()]


def synthetic_data_overrides(config: str, data_root: str,
                             scale=(128, 128)) -> Dict[str, object]:
    """``--cfg-options`` that point a COCO config at synthetic data.

    Any row config (COCO, 1333x800) then trains and evaluates in seconds on
    the CPU: the data root, annotation files, classes, the Resize scale of
    its train/val/test pipelines and the heads' class count are replaced;
    the rest of the model is untouched. Keypoint configs
    (``CocoKeypointDataset``) get the keypoint variant's files (``data_root``
    from ``make_synthetic_coco_keypoints``), class, keypoint count and OKS
    sigmas.
    """
    from mmengine.config import Config

    from rethink_mmdet.datasets import synthetic_coco_keypoints as kp
    from rethink_mmdet.datasets.synthetic_coco import CATEGORIES
    cfg = Config.fromfile(config)
    root = data_root.rstrip('/') + '/'
    keypoints = _dataset_type(cfg.train_dataloader) == 'CocoKeypointDataset'
    ann_prefix = kp.KEYPOINT_ANN_PREFIX if keypoints else 'instances'
    classes = (kp.CATEGORY['name'], ) if keypoints else tuple(CATEGORIES)
    overrides = {}
    for split, ann in (('train', 'train'), ('val', 'val'), ('test', 'val')):
        prefix = f'{split}_dataloader.dataset'
        overrides.update({
            f'{prefix}.data_root': root,
            f'{prefix}.ann_file': f'annotations/{ann_prefix}_{ann}.json',
            f'{prefix}.data_prefix.img': '',
            f'{prefix}.metainfo.classes': classes,
            f'{split}_dataloader.num_workers': 0,
            f'{split}_dataloader.persistent_workers': False,
        })
        pipeline = cfg[f'{split}_dataloader'].dataset.pipeline
        for index, transform in enumerate(pipeline):
            if transform['type'] == 'Resize':
                overrides[f'{prefix}.pipeline.{index}.scale'] = tuple(scale)
            elif transform['type'] == 'RandomChoiceResize':
                overrides[f'{prefix}.pipeline.{index}.scales'] = [
                    tuple(scale)]
    # The heads predict the synthetic classes, so evaluation can map labels.
    roi_head = cfg.model.get('roi_head', {})
    for head in ('bbox_head', 'mask_head'):
        heads = roi_head.get(head)
        if isinstance(heads, dict):
            overrides[f'model.roi_head.{head}.num_classes'] = len(classes)
        elif isinstance(heads, list):
            for index in range(len(heads)):
                overrides[f'model.roi_head.{head}.{index}.num_classes'] = \
                    len(classes)
    if keypoints:
        overrides['model.roi_head.keypoint_head.num_keypoints'] = len(
            kp.KEYPOINT_NAMES)
    ann_file = root + f'annotations/{ann_prefix}_val.json'
    for evaluator in ('val_evaluator', 'test_evaluator'):
        metrics = cfg[evaluator]
        if isinstance(metrics, dict):
            overrides[f'{evaluator}.ann_file'] = ann_file
            continue
        for index, metric in enumerate(metrics):
            overrides[f'{evaluator}.{index}.ann_file'] = ann_file
            if metric['type'] == 'CocoKeypointMetric':
                overrides[f'{evaluator}.{index}.sigmas'] = [
                    kp.SYNTHETIC_SIGMA] * len(kp.KEYPOINT_NAMES)
    return overrides


def tool_env(first_on_path: Optional[str] = None) -> Dict[str, str]:
    """This process's environment for a tool subprocess: the launch scripts
    use this Python, pick a free port, and import from ``first_on_path``
    first when given (a test's own modules)."""
    env = dict(os.environ, PYTHON=sys.executable)
    env.pop('PORT', None)
    if first_on_path is not None:
        env['PYTHONPATH'] = (f'{first_on_path}{os.pathsep}'
                             + os.environ.get('PYTHONPATH', ''))
    return env


def run_tool(command: List[str], returncode: Optional[int] = 0,
             timeout: int = 600, env: Optional[dict] = None):
    """Runs a tool from the repository root, as a user does.

    Args:
        command: The command line.
        returncode: The exit status expected (None: any); the assertion
            shows the end of the output when it differs.
        timeout: Seconds before the tool counts as hung.
        env: Environment (default: this process's).
    """
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=timeout, env=env)
    if returncode is not None:
        assert result.returncode == returncode, (
            f'{" ".join(command)} exited {result.returncode}, expected '
            f'{returncode}:\n{result.stdout[-3000:]}\n'
            f'{result.stderr[-5000:]}')
    return result


def toy_train_command(work_dir: str, data_root: str, max_iters: int,
                      interval: int = None, extra: Sequence[str] = (),
                      **overrides) -> List[str]:
    """``tools/train.py`` on the toy config for a short run (arguments as
    :func:`toy_overrides`; ``overrides`` are extra ``--cfg-options``)."""
    options = toy_overrides(data_root, max_iters, interval,
                            **{k: overrides.pop(k) for k in (
                                'batch_size', 'schedule_iters')
                               if k in overrides})
    options.update(overrides)
    return [sys.executable, 'tools/train.py', TOY_CONFIG, '--work-dir',
            str(work_dir), *extra, *as_cli_options(options)]


def _dataset_type(dataloader) -> str:
    dataset = dataloader.dataset
    while 'pipeline' not in dataset:  # RepeatDataset and friends
        dataset = dataset.dataset
    return dataset.get('type', '')
