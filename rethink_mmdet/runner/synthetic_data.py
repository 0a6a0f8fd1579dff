"""Pointing any row config at the generated synthetic data, so it trains
and evaluates in seconds on a CPU (benchmarks, the checker's examples, tests).
"""
from typing import Dict


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


def _dataset_type(dataloader) -> str:
    dataset = dataloader.dataset
    while 'pipeline' not in dataset:  # RepeatDataset and friends
        dataset = dataset.dataset
    return dataset.get('type', '')
