"""Checks of a config's datasets that run before training starts.

MMDetection reads the annotations when the data loader is built and
silently drops what it cannot use (boxes under one pixel, categories not
in ``classes``); a missing image fails at the iteration that draws it,
possibly hours in. These checks report each problem at once, naming the
file, the id, what is wrong and what was expected.
"""
import json
import os.path as osp
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence

# Boxes may reach a pixel past the border (COCO's own do, from rounding).
_BORDER_TOLERANCE = 1.0


class DatasetError(Exception):
    """A dataset of the config that training would fail on."""


@dataclass
class DataProblem:
    """One problem found in a dataset.

    Args:
        file: The annotation file (or folder) it is in.
        message: What is wrong, with ids, and what was expected.
        severity: ``'error'`` (training refuses to start) or ``'warning'``.
    """
    file: str
    message: str
    severity: str = 'error'

    def __str__(self) -> str:
        return f'{self.file}: {self.message}'


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


def _iter_annotated_datasets(dataset_cfg: dict) -> Iterator[dict]:
    """Datasets with an ``ann_file``, through wrappers (Concat, Repeat)."""
    if 'ann_file' in dataset_cfg:
        yield dataset_cfg
    inner = dataset_cfg.get('dataset')
    if isinstance(inner, dict):
        yield from _iter_annotated_datasets(inner)
    for each in dataset_cfg.get('datasets') or []:
        yield from _iter_annotated_datasets(each)


def _resolved_paths(dataset_cfg: dict):
    data_root = dataset_cfg.get('data_root') or ''
    ann_file = osp.join(data_root, dataset_cfg['ann_file'])
    prefix = dataset_cfg.get('data_prefix') or {}
    img_dir = prefix.get('img', prefix.get('img_path', ''))
    return ann_file, osp.join(data_root, img_dir)


def _load_coco_json(ann_file: str, problems: List[DataProblem]):
    try:
        with open(ann_file) as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        problems.append(DataProblem(
            ann_file, f'malformed JSON at line {e.lineno} column {e.colno}: '
            f'{e.msg}; expected a COCO annotation file'))
        return None
    missing = [key for key in ('images', 'annotations', 'categories')
               if not isinstance(data, dict)
               or not isinstance(data.get(key), list)]
    if missing:
        problems.append(DataProblem(
            ann_file, f'no list under key(s) {missing}; expected a COCO '
            'file with "images", "annotations" and "categories"'))
        return None
    return data


def _check_images(data, ann_file, img_dir, problems) -> dict:
    images = {}
    for image in data['images']:
        image_id = image.get('id')
        if image_id in images:
            problems.append(DataProblem(
                ann_file, f'image id {image_id} is listed twice'))
        images[image_id] = image
        if not (image.get('width', 0) > 0 and image.get('height', 0) > 0):
            problems.append(DataProblem(
                ann_file, f'image id {image_id}: width/height '
                f'{image.get("width")}x{image.get("height")}; expected '
                'positive sizes'))
        path = osp.join(img_dir, image.get('file_name', ''))
        if not osp.isfile(path):
            problems.append(DataProblem(
                ann_file, f'image id {image_id}: {path} is listed but '
                'missing on disk'))
    return images


def _check_annotations(data, ann_file, images, problems) -> set:
    categories = {c.get('id') for c in data['categories']}
    used = set()
    for ann in data['annotations']:
        where = f'annotation id {ann.get("id")} (image id ' \
                f'{ann.get("image_id")})'
        image = images.get(ann.get('image_id'))
        if image is None:
            problems.append(DataProblem(
                ann_file, f'{where}: no image with this id; expected an '
                'id from "images"'))
            continue
        if ann.get('category_id') not in categories:
            problems.append(DataProblem(
                ann_file, f'{where}: category_id {ann.get("category_id")} '
                f'is not in "categories" (ids {sorted(categories)})'))
        used.add(ann.get('category_id'))
        bbox = ann.get('bbox')
        if not (isinstance(bbox, list) and len(bbox) == 4):
            problems.append(DataProblem(
                ann_file, f'{where}: bbox {bbox}; expected [x, y, w, h]'))
            continue
        x, y, w, h = bbox
        if w <= 0 or h <= 0:
            problems.append(DataProblem(
                ann_file, f'{where}: bbox {bbox} has a non-positive size; '
                'expected w > 0 and h > 0'))
        elif (x < -_BORDER_TOLERANCE or y < -_BORDER_TOLERANCE
              or x + w > image['width'] + _BORDER_TOLERANCE
              or y + h > image['height'] + _BORDER_TOLERANCE):
            problems.append(DataProblem(
                ann_file, f'{where}: bbox {bbox} lies outside the '
                f'{image["width"]}x{image["height"]} image'))
    return used


def _check_classes(data, ann_file, classes, used, problems) -> None:
    names = {c.get('id'): c.get('name') for c in data['categories']}
    missing = [c for c in classes if c not in names.values()]
    if missing:
        problems.append(DataProblem(
            ann_file, f'the config\'s classes {missing} are not categories '
            f'of this file (its categories: {sorted(names.values())}); '
            'expected metainfo.classes to name categories of the file'))
    dropped = sorted(names[i] for i in used
                     if i in names and names[i] not in classes)
    if dropped:
        problems.append(DataProblem(
            ann_file, f'annotations of categories {dropped} are not in the '
            'config\'s classes and will be ignored', severity='warning'))


def check_coco_dataset(ann_file: str, img_dir: str,
                       classes: Optional[Sequence[str]] = None,
                       needs_annotations: bool = True
                       ) -> List[DataProblem]:
    """Every problem of one COCO-format split.

    Args:
        ann_file: The COCO JSON file.
        img_dir: The folder its ``file_name`` entries are relative to.
        classes: The config's class names, if known.
        needs_annotations: Whether an image list without annotations is an
            error (training and evaluation splits need annotations).
    """
    problems = []
    if not osp.isfile(ann_file):
        return [DataProblem(ann_file, 'annotation file does not exist')]
    if not osp.isdir(img_dir):
        return [DataProblem(img_dir, 'image folder does not exist')]
    data = _load_coco_json(ann_file, problems)
    if data is None:
        return problems
    if not data['images']:
        return [DataProblem(ann_file, 'the split is empty: no images')]
    if needs_annotations and not data['annotations']:
        problems.append(DataProblem(
            ann_file, 'no annotations; expected at least one'))
    images = _check_images(data, ann_file, img_dir, problems)
    used = _check_annotations(data, ann_file, images, problems)
    if classes:
        _check_classes(data, ann_file, classes, used, problems)
    return problems


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


def check_config_datasets(cfg, splits: Sequence[str] = (
        'train_dataloader', 'val_dataloader')) -> List[DataProblem]:
    """Every problem of the datasets the config's ``splits`` use, and of
    heads whose ``num_classes`` differ from the datasets' classes."""
    problems, checked_heads, checked = [], False, set()
    for split in splits:
        loader = cfg.get(split)
        if not loader or 'dataset' not in loader:
            continue
        for dataset in _iter_annotated_datasets(loader['dataset']):
            ann_file, img_dir = _resolved_paths(dataset)
            classes = _config_classes(dataset)
            # The same split often serves several loaders (val = test).
            if (ann_file, img_dir, classes) in checked:
                continue
            checked.add((ann_file, img_dir, classes))
            if _coco_like(dataset.get('type', '')):
                problems += check_coco_dataset(ann_file, img_dir, classes)
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


def validate_config_datasets(cfg, splits: Sequence[str] = (
        'train_dataloader', 'val_dataloader')) -> List[DataProblem]:
    """Raises :class:`DatasetError` on the first error of
    :func:`check_config_datasets`; returns its warnings."""
    problems = check_config_datasets(cfg, splits)
    errors = [p for p in problems if p.severity == 'error']
    if errors:
        more = (f' (and {len(errors) - 1} more problem(s): '
                'tools/misc/check_dataset.py CONFIG lists them all)'
                if len(errors) > 1 else '')
        raise DatasetError(f'{errors[0]}{more}')
    return [p for p in problems if p.severity == 'warning']
