"""The check of one COCO-format split, by what MMDetection 3.3 does with it.

What ``CocoDataset`` (``parse_data_info``, ``filter_data``) and
``LoadAnnotations`` silently drop or handle is a *warning*, one per kind,
with a count and the first example: real COCO 2017 has such annotations
(docs/datasets.md lists them with their sources), and training on it must
start. What would crash a run or silently corrupt it is an *error*.

The per-annotation loop is plain Python over the parsed JSON, so the check
costs the JSON parse plus a few seconds at train2017's 860k annotations
(docs/benchmarks.md); image files are looked up with one directory listing
per folder rather than one ``stat`` per image.
"""
import gc
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Set

from .data_problems import DataProblem, SplitOptions, Tally

# Boxes may reach a pixel past the border (COCO's own do, from rounding).
BORDER_TOLERANCE = 1.0


class PolygonSizes(tuple):
    """A polygon segmentation as the rules see it: the number of values of
    each polygon (-1 for a part that is not a list)."""


def _compact(obj: dict) -> dict:
    """``json.load``'s object hook: keeps of each segmentation only what
    the rules read, so train2017's polygons never all sit in memory."""
    segmentation = obj.get('segmentation')
    if isinstance(segmentation, list):
        obj['segmentation'] = PolygonSizes(
            len(p) if isinstance(p, list) else -1 for p in segmentation)
    elif isinstance(obj.get('counts'), list) and 'size' in obj:
        obj['counts'] = []  # uncompressed RLE: its type is what counts
    return obj


def _load_coco_json(ann_file: str) -> tuple:
    """``(data, problem)``: the parsed file, or the error that stops it."""
    # The cyclic GC would scan the growing tree again and again (a third
    # of the parse time at train2017's size); nothing here makes cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with open(ann_file, 'rb') as f:
            data = json.load(f, object_hook=_compact)
    except json.JSONDecodeError as e:
        return None, DataProblem(
            ann_file, f'malformed JSON at line {e.lineno} column {e.colno}: '
            f'{e.msg}; expected a COCO annotation file')
    finally:
        if gc_was_enabled:
            gc.enable()
    missing = [key for key in ('images', 'annotations', 'categories')
               if not isinstance(data, dict)
               or not isinstance(data.get(key), list)]
    if missing:
        return None, DataProblem(
            ann_file, f'no list under key(s) {missing}; expected a COCO '
            'file with "images", "annotations" and "categories"')
    return data, None


def _files_on_disk(img_dir: str, names: Set[str]) -> Set[str]:
    """The ``names`` (relative paths) that exist, one listing per folder."""
    present = set()
    by_folder: Dict[str, List[str]] = {}
    for name in names:
        by_folder.setdefault(osp.dirname(name), []).append(name)
    for folder, members in by_folder.items():
        try:
            listed = {e.name for e in os.scandir(osp.join(img_dir, folder))}
        except OSError:
            continue
        present.update(n for n in members if osp.basename(n) in listed)
    return present


def _check_images(data, img_dir, tally, opts) -> dict:
    images = {}
    for image in data['images']:
        image_id = image.get('id')
        if image_id in images:
            # pycocotools keeps the last: the other's annotations move.
            tally.add('error', 'image ids listed twice; expected unique ids',
                      f'image id {image_id}')
        images[image_id] = image
        width, height = image.get('width'), image.get('height')
        if not (isinstance(width, (int, float)) and width > 0
                and isinstance(height, (int, float)) and height > 0):
            tally.add('error', 'images without a positive width/height; '
                      'CocoDataset needs both',
                      f'image id {image_id}: {width}x{height}')
            image['width'] = image['height'] = 0
        elif min(width, height) < opts.min_size:
            tally.add('warning', f'images under filter_cfg.min_size='
                      f'{opts.min_size} px, dropped from training',
                      f'image id {image_id}: {width}x{height}')
    names = {str(image.get('file_name', '')) for image in images.values()}
    present = _files_on_disk(img_dir, names)
    for image_id, image in images.items():
        if str(image.get('file_name', '')) not in present:
            tally.add('error', 'images listed but missing on disk',
                      f'image id {image_id}: '
                      f'{osp.join(img_dir, str(image.get("file_name")))}')
    return images


def _polygons_ok(segmentation, tally, where) -> bool:
    """Whether ``LoadAnnotations`` gets a mask from ``segmentation``."""
    if isinstance(segmentation, PolygonSizes):
        if -1 in segmentation:
            tally.add('error', 'polygon segmentations with a part that is '
                      'not a list; LoadAnnotations fails on them', where)
            return False
        kept = [n for n in segmentation if n >= 6 and n % 2 == 0]
        if len(kept) < len(segmentation):
            tally.add('warning', 'polygons with fewer than 3 points or an '
                      'odd count, dropped by LoadAnnotations', where)
        if not kept:
            tally.add('warning', 'annotations left without a valid polygon, '
                      'turned into ignored regions by LoadAnnotations', where)
        return bool(kept)
    if not (isinstance(segmentation, dict)
            and isinstance(segmentation.get('counts'), (list, str))
            and segmentation.get('size') is not None):
        tally.add('warning', 'segmentations neither polygons nor RLE with '
                  '"counts" and "size", ignored by LoadAnnotations', where)
        return False
    return True


def _kept(ann, image, cat_ids, tally, where) -> bool:
    """Whether ``CocoDataset.parse_data_info`` keeps ``ann`` (its rule)."""
    bbox = ann.get('bbox')
    if not (isinstance(bbox, list) and len(bbox) == 4
            and all(isinstance(v, (int, float)) for v in bbox)):
        tally.add('error', 'annotations whose bbox is not [x, y, w, h]; '
                  'CocoDataset would fail on them', f'{where}: bbox {bbox}')
        return False
    if ann.get('ignore', False):
        return False
    x, y, w, h = bbox
    area = ann.get('area')
    numeric_area = isinstance(area, (int, float))
    # Tested before the image overlap (CocoDataset tests it after; both
    # drop): a 1.03 x 0.0 box is reported as what it is.
    if w < 1 or h < 1 or (numeric_area and area <= 0):
        tally.add('warning', 'annotations under one pixel wide or high, or '
                  'of area 0, dropped by CocoDataset',
                  f'{where}: bbox {bbox}, area {area}')
        return False
    inter_w = max(0, min(x + w, image['width']) - max(x, 0))
    inter_h = max(0, min(y + h, image['height']) - max(y, 0))
    if inter_w * inter_h == 0:
        tally.add('warning', 'boxes with no area inside their image, dropped '
                  'by CocoDataset', f'{where}: bbox {bbox}')
        return False
    if not numeric_area:
        tally.add('error', 'annotations without a numeric "area"; '
                  'CocoDataset would fail on them', where)
        return False
    if (x < -BORDER_TOLERANCE or y < -BORDER_TOLERANCE
            or x + w > image['width'] + BORDER_TOLERANCE
            or y + h > image['height'] + BORDER_TOLERANCE):
        tally.add('warning', 'boxes reaching outside their image, kept '
                  'unclipped by CocoDataset',
                  f'{where}: bbox {bbox} in {image["width"]}x'
                  f'{image["height"]}')
    return ann.get('category_id') in cat_ids


def _check_annotations(data, images, tally, opts, class_ids) -> tuple:
    """``(in_class, labelled)``: ids of images with an annotation of a
    class (what ``filter_empty_gt`` keeps), and labelled keypoints of the
    kept instances per image id."""
    categories = {c.get('id') for c in data['categories']}
    num_keypoints = _num_keypoints(data, class_ids, tally, opts)
    seen_ids, in_class, labelled = set(), set(), {}
    for ann in data['annotations']:
        ann_id, image_id = ann.get('id'), ann.get('image_id')
        where = f'annotation id {ann_id} (image id {image_id})'
        if ann_id in seen_ids:
            tally.add('error', 'annotation ids listed twice; CocoDataset '
                      'asserts unique ids', where)
        seen_ids.add(ann_id)
        image = images.get(image_id)
        if image is None:
            tally.add('error', 'annotations of an image id not in "images"',
                      where)
            continue
        if ann.get('category_id') not in categories:
            tally.add('error', 'annotations of a category_id not in '
                      f'"categories" (ids {sorted(categories)})',
                      f'{where}: category_id {ann.get("category_id")}')
            continue
        if ann.get('category_id') in class_ids:
            in_class.add(image_id)
        if not _kept(ann, image, class_ids, tally, where):
            continue
        if opts.with_mask:
            segmentation = ann.get('segmentation')
            if not segmentation:
                tally.add('error', 'kept annotations without a segmentation;'
                          ' LoadAnnotations(with_mask=True) fails on them',
                          where)
            elif not ann.get('iscrowd'):
                _polygons_ok(segmentation, tally, where)
        if num_keypoints:
            labelled[image_id] = labelled.get(image_id, 0) + (
                _labelled_keypoints(ann, num_keypoints, tally, where))
    return in_class, labelled


def _num_keypoints(data, class_ids, tally, opts) -> int:
    if not opts.keypoints:
        return 0
    lengths = {len(c['keypoints']) for c in data['categories']
               if c.get('id') in class_ids and 'keypoints' in c}
    if not lengths or any('keypoints' not in c for c in data['categories']
                          if c.get('id') in class_ids):
        tally.add('error', 'categories without a "keypoints" list; '
                  'CocoKeypointDataset needs one', f'class ids '
                  f'{sorted(class_ids)}')
        return 0
    return max(lengths)


def _labelled_keypoints(ann, num_keypoints, tally, where) -> int:
    values = ann.get('keypoints') or []
    if not values:
        return 0
    if len(values) != 3 * num_keypoints:
        tally.add('error', f'keypoint lists not of {num_keypoints} x 3 '
                  'values; CocoKeypointDataset fails on them',
                  f'{where}: {len(values)} values')
        return 0
    return sum(1 for v in values[2::3] if v > 0)


def _check_classes(data, ann_file, classes, problems) -> Set[int]:
    names = {c.get('id'): c.get('name') for c in data['categories']}
    missing = [c for c in classes if c not in names.values()]
    if missing:
        problems.append(DataProblem(
            ann_file, f'the config\'s classes {missing} are not categories '
            f'of this file (its categories: {sorted(names.values())}); '
            'expected metainfo.classes to name categories of the file'))
    return {i for i, name in names.items() if name in classes}


def check_coco_dataset(ann_file: str, img_dir: str,
                       classes: Optional[Sequence[str]] = None,
                       needs_annotations: bool = True,
                       options: Optional[SplitOptions] = None
                       ) -> List[DataProblem]:
    """Every problem of one COCO-format split, errors first.

    Args:
        ann_file: The COCO JSON file.
        img_dir: The folder its ``file_name`` entries are relative to.
        classes: The config's class names, if known (all categories if not).
        needs_annotations: Whether an image list without annotations is an
            error (training and evaluation splits need annotations).
        options: What the dataset config sets (:class:`SplitOptions`);
            ``classes`` and ``needs_annotations`` win over its fields.
    """
    opts = options or SplitOptions()
    opts.classes = classes if classes is not None else opts.classes
    opts.needs_annotations = needs_annotations
    if not osp.isfile(ann_file):
        return [DataProblem(ann_file, 'annotation file does not exist')]
    if not osp.isdir(img_dir):
        return [DataProblem(img_dir, 'image folder does not exist')]
    data, problem = _load_coco_json(ann_file)
    if problem is not None:
        return [problem]
    if not data['images']:
        return [DataProblem(ann_file, 'the split is empty: no images')]
    problems = []
    if opts.needs_annotations and not data['annotations']:
        problems.append(DataProblem(
            ann_file, 'no annotations; expected at least one'))
    class_ids = ({c.get('id') for c in data['categories']}
                 if not opts.classes else
                 _check_classes(data, ann_file, opts.classes, problems))
    tally = Tally(ann_file)
    images = _check_images(data, img_dir, tally, opts)
    in_class, labelled = _check_annotations(data, images, tally, opts,
                                            class_ids)
    _check_dropped_categories(data, class_ids, tally)
    _check_training_images(images, in_class, labelled, tally, opts)
    problems += tally.problems()
    return sorted(problems, key=lambda p: p.severity != 'error')


def _check_dropped_categories(data, class_ids, tally) -> None:
    names = {c.get('id'): c.get('name') for c in data['categories']}
    for ann in data['annotations']:
        cat = ann.get('category_id')
        if cat in names and cat not in class_ids:
            tally.add('warning', f'annotations of category {names[cat]!r}, '
                      'not in the config\'s classes, ignored',
                      f'annotation id {ann.get("id")} (image id '
                      f'{ann.get("image_id")})')


def _check_training_images(images, in_class, labelled, tally,
                           opts) -> None:
    """Images training leaves out (``filter_data`` of CocoDataset and
    CocoKeypointDataset): no annotation of a class, or too few labelled
    keypoints among the kept instances."""
    for image_id in images:
        if image_id not in in_class:
            if opts.filter_empty_gt:
                tally.add('warning', 'images without an annotation of the '
                          'classes, left out of training (filter_empty_gt)',
                          f'image id {image_id}')
        elif labelled.get(image_id, 0) < opts.min_keypoints_per_image:
            tally.add('warning', 'images with fewer labelled keypoints than '
                      'min_keypoints_per_image, left out of training',
                      f'image id {image_id}')
