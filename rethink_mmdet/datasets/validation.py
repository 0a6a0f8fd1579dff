"""Checks of a config's datasets that run before training starts.

MMDetection reads the annotations when the data loader is built and
silently drops what it cannot use (boxes under one pixel, categories not
in ``classes``); a missing image fails at the iteration that draws it,
possibly hours in. These checks report each problem at once, naming the
file, the id, what is wrong and what was expected. What MMDetection drops
or handles is a warning, what would crash or corrupt the run an error
(the rules: :mod:`.coco_check`).
"""
import os.path as osp
from typing import Iterator, List, Optional, Sequence

from .coco_check import check_coco_dataset
from .data_problems import DataProblem, SplitOptions

__all__ = ['DataProblem', 'DatasetError', 'annotated_datasets',
           'check_coco_dataset', 'check_config_datasets',
           'dataset_paths', 'validate_config_datasets']

#: The loaders checked before training.
TRAINING_SPLITS = ('train_dataloader', 'val_dataloader')


class DatasetError(Exception):
    """A dataset of the config that training would fail on."""


def _coco_like(dataset_type: str) -> bool:
    from mmdet.datasets import CocoDataset
    from mmdet.registry import DATASETS
    cls = DATASETS.get(dataset_type)
    return cls is not None and issubclass(cls, CocoDataset)


def _config_classes(dataset_cfg: dict) -> Optional[Sequence[str]]:
    from mmdet.registry import DATASETS
    metainfo = dataset_cfg.get('metainfo') or {}
    if metainfo.get('classes'):
        return tuple(metainfo['classes'])
    cls = DATASETS.get(dataset_cfg.get('type', ''))
    return tuple(getattr(cls, 'METAINFO', {}).get('classes', ())) or None


def _split_options(dataset_cfg: dict) -> SplitOptions:
    """What the dataset's pipeline and filters make of its annotations."""
    test_mode = bool(dataset_cfg.get('test_mode', False))
    filter_cfg = (dataset_cfg.get('filter_cfg') or {}) if not test_mode \
        else {}
    with_mask = any(
        isinstance(t, dict) and t.get('type') == 'LoadAnnotations'
        and t.get('with_mask', False)
        for t in dataset_cfg.get('pipeline') or [])
    keypoints = dataset_cfg.get('type') == 'CocoKeypointDataset'
    return SplitOptions(
        with_mask=with_mask,
        filter_empty_gt=bool(filter_cfg.get('filter_empty_gt', False)),
        min_size=int(filter_cfg.get('min_size', 0) or 0),
        keypoints=keypoints,
        min_keypoints_per_image=(
            int(dataset_cfg.get('min_keypoints_per_image', 1))
            if keypoints and not test_mode else 0))


def annotated_datasets(dataset_cfg: dict) -> Iterator[dict]:
    """Datasets with an ``ann_file``, through wrappers (Concat, Repeat)."""
    if 'ann_file' in dataset_cfg:
        yield dataset_cfg
    inner = dataset_cfg.get('dataset')
    if isinstance(inner, dict):
        yield from annotated_datasets(inner)
    for each in dataset_cfg.get('datasets') or []:
        yield from annotated_datasets(each)


def dataset_paths(dataset_cfg: dict):
    """``(ann_file, img_dir)`` of a dataset config, with its data_root."""
    data_root = dataset_cfg.get('data_root') or ''
    ann_file = osp.join(data_root, dataset_cfg['ann_file'])
    prefix = dataset_cfg.get('data_prefix') or {}
    img_dir = prefix.get('img', prefix.get('img_path', ''))
    return ann_file, osp.join(data_root, img_dir)


def _model_num_classes(model_cfg: dict) -> Iterator[tuple]:
    """``(key, num_classes)`` of every head of the model config."""
    def walk(node, key):
        if isinstance(node, dict):
            if 'num_classes' in node and key != 'model.rpn_head':
                yield f'{key}.num_classes', node['num_classes']
            for child, value in node.items():
                yield from walk(value, f'{key}.{child}')
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                yield from walk(value, f'{key}.{i}')
    yield from walk(model_cfg, 'model')


def check_config_datasets(cfg, splits: Sequence[str] = TRAINING_SPLITS
                          ) -> List[DataProblem]:
    """Every problem of the datasets the config's ``splits`` use, and of
    heads whose ``num_classes`` differ from the datasets' classes."""
    problems, checked_heads, checked = [], False, set()
    for split in splits:
        loader = cfg.get(split)
        if not loader or 'dataset' not in loader:
            continue
        for dataset in annotated_datasets(loader['dataset']):
            ann_file, img_dir = dataset_paths(dataset)
            classes = _config_classes(dataset)
            options = _split_options(dataset)
            # The same split often serves several loaders (val = test).
            seen = (ann_file, img_dir, classes, repr(options))
            if seen in checked:
                continue
            checked.add(seen)
            if _coco_like(dataset.get('type', '')):
                problems += check_coco_dataset(ann_file, img_dir, classes,
                                               options=options)
            else:
                problems += [DataProblem(p, 'does not exist')
                             for p in (ann_file, img_dir)
                             if not osp.exists(p)]
            if classes and not checked_heads:
                checked_heads = True
                problems += [
                    DataProblem(ann_file, f'{key}={value}, but the {split} '
                                f'dataset has {len(classes)} classes; '
                                'expected equal')
                    for key, value in _model_num_classes(cfg.get('model', {}))
                    if value != len(classes)]
    return problems


def raise_first_error(problems: Sequence[DataProblem]) -> List[DataProblem]:
    """Raises :class:`DatasetError` on the first error of ``problems``;
    returns the warnings."""
    errors = [p for p in problems if p.severity == 'error']
    if errors:
        more = (f' (and {len(errors) - 1} more problem(s): '
                'tools/misc/check_dataset.py CONFIG lists them all)'
                if len(errors) > 1 else '')
        raise DatasetError(f'{errors[0]}{more}')
    return [p for p in problems if p.severity == 'warning']


def validate_config_datasets(cfg, splits: Sequence[str] = TRAINING_SPLITS
                             ) -> List[DataProblem]:
    """Raises :class:`DatasetError` on the first error of
    :func:`check_config_datasets`; returns its warnings."""
    return raise_first_error(check_config_datasets(cfg, splits))
