"""COCO 2017's documented quirks, reproduced in the generated datasets.

Each quirk is a function that edits a synthetic split (its COCO dicts and,
for image quirks, its files) the way the real ``instances_train2017.json``
or ``person_keypoints_train2017.json`` is; ``QUIRKS`` and
``KEYPOINT_QUIRKS`` name each with its source. ``with_quirks`` applies
them all, so a test can train on a dataset carrying every one of them
(docs/datasets.md lists them for users).
"""
import json
import os.path as osp
import shutil
from typing import Callable, Dict, NamedTuple, Sequence

from PIL import Image


class Quirk(NamedTuple):
    """One quirk: how to reproduce it and where it is documented.

    Args:
        apply: ``apply(root, train, val)`` edits the train (and val) COCO
            dicts of the dataset at ``root``, and its image files.
        source: Where the real files are shown to have it.
        warning: Text of the check's warning about it ('' for none: what
            MMDetection handles without dropping anything).
    """
    apply: Callable[[str, dict, dict], None]
    source: str
    warning: str


def _ann(coco: dict, index: int) -> dict:
    return coco['annotations'][index]


def _zero_height_box(root, train, val):
    # Annotation 918 of image 200365, as it is in instances_train2017.json.
    ann = _ann(train, 0)
    x, y = ann['bbox'][:2]
    ann.update(bbox=[x, y, 1.03, 0.0], area=0.0, segmentation=[
        [x, y, x, y, x + 1.03, y, x + 1.03, y]])


def _subpixel_box(root, train, val):
    ann = _ann(train, 1)
    ann['bbox'][2] = 0.8
    ann['area'] = round(0.8 * ann['bbox'][3] / 2, 2)


def _crowd(coco: dict, index: int, compressed: bool) -> None:
    from pycocotools import mask as mask_utils
    ann = _ann(coco, index)
    image = next(i for i in coco['images'] if i['id'] == ann['image_id'])
    h, w = image['height'], image['width']
    rle = mask_utils.merge(mask_utils.frPyObjects(ann['segmentation'], h, w))
    if compressed:
        segmentation = dict(size=[h, w], counts=rle['counts'].decode())
    else:
        binary = mask_utils.decode(rle).flatten(order='F')
        counts, current, run = [], 0, 0
        for value in binary:
            if value != current:
                counts.append(run)
                current, run = value, 0
            run += 1
        counts.append(run)
        segmentation = dict(size=[h, w], counts=[int(c) for c in counts])
    ann.update(iscrowd=1, segmentation=segmentation)


def _crowd_rle_counts_list(root, train, val):
    _crowd(train, 2, compressed=False)


def _crowd_rle_compressed(root, train, val):
    _crowd(train, 3, compressed=True)


def _degenerate_polygon_part(root, train, val):
    ann = _ann(train, 4)
    x, y = ann['bbox'][:2]
    ann['segmentation'].append([x, y, x + 1, y + 1])


def _only_degenerate_polygon(root, train, val):
    ann = _ann(train, 5)
    x, y, w, h = ann['bbox']
    ann['segmentation'] = [[x, y, x + w, y + h]]


def _image_without_annotations(root, train, val):
    image = dict(train['images'][0])
    image['id'] = max(i['id'] for i in train['images'] + val['images']) + 1
    name, ext = osp.splitext(image['file_name'])
    image['file_name'] = f'{name}_unannotated{ext}'
    shutil.copy(osp.join(root, train['images'][0]['file_name']),
                osp.join(root, image['file_name']))
    train['images'].append(image)


def _non_contiguous_category_ids(root, train, val):
    # COCO's 80 categories have ids 1-90 with gaps.
    new_id = {c['id']: 3 * c['id'] + 10 for c in train['categories']}
    for coco in (train, val):
        for category in coco['categories']:
            category['id'] = new_id[category['id']]
        for ann in coco['annotations']:
            ann['category_id'] = new_id[ann['category_id']]


def _grayscale_image(root, train, val):
    path = osp.join(root, train['images'][1]['file_name'])
    Image.open(path).convert('L').save(path)


def _person_without_keypoints(root, train, val):
    ann = _ann(train, 0)
    ann.update(keypoints=[0] * len(ann['keypoints']), num_keypoints=0)


def _image_without_labelled_keypoints(root, train, val):
    image_id = _ann(train, 1)['image_id']
    for ann in train['annotations']:
        if ann['image_id'] == image_id:
            ann.update(keypoints=[0] * len(ann['keypoints']),
                       num_keypoints=0)


def _crowd_person(root, train, val):
    _crowd(train, 2, compressed=False)
    ann = _ann(train, 2)
    ann.update(keypoints=[0] * len(ann['keypoints']), num_keypoints=0)


_COCOAPI = 'https://github.com/cocodataset/cocoapi/issues/'
_FORMAT = 'https://cocodataset.org/#format-data'
#: The instances quirks (``instances_train2017.json``).
QUIRKS: Dict[str, Quirk] = dict(
    zero_height_box=Quirk(
        _zero_height_box, f'{_COCOAPI}355 (image 200365, annotation 918; '
        'also image 550395, annotation 2206849)',
        'under one pixel wide or high, or of area 0, dropped'),
    subpixel_box=Quirk(
        _subpixel_box, 'mmdet/datasets/coco.py parse_data_info drops w or '
        'h < 1; cocoapi 355\'s boxes are 1.03 x 0.0 and 5.54 x 0.0',
        'under one pixel wide or high, or of area 0, dropped'),
    crowd_rle_counts_list=Quirk(
        _crowd_rle_counts_list, f'{_FORMAT} (iscrowd=1: uncompressed RLE, '
        'counts as a list)', ''),
    crowd_rle_compressed=Quirk(
        _crowd_rle_compressed, 'compressed RLE (counts as a string), as '
        'pycocotools encodes it; mmdet LoadAnnotations._poly2mask', ''),
    degenerate_polygon_part=Quirk(
        _degenerate_polygon_part, 'mmdet LoadAnnotations._process_masks '
        'drops polygons under 3 points; pycocotools frPyObjects reads a '
        '4-value list as a box', 'polygons with fewer than 3 points'),
    only_degenerate_polygon=Quirk(
        _only_degenerate_polygon, 'mmdet LoadAnnotations._process_masks: '
        'no polygon left -> ignored region', 'left without a valid polygon'),
    image_without_annotations=Quirk(
        _image_without_annotations, f'{_COCOAPI}76 (1021 of train2017\'s '
        '118287 images have no annotation)',
        'left out of training (filter_empty_gt)'),
    non_contiguous_category_ids=Quirk(
        _non_contiguous_category_ids, f'{_FORMAT} (80 categories, ids 1-90)',
        ''),
    grayscale_image=Quirk(
        _grayscale_image, 'single-channel JPEGs (some train2017 images; '
        'widely reported, not counted here); mmcv decodes them to 3 '
        'channels (LoadImageFromFile color_type=color)',
        ''),
)
#: The person-keypoints quirks (``person_keypoints_train2017.json``).
KEYPOINT_QUIRKS: Dict[str, Quirk] = dict(
    person_without_keypoints=Quirk(
        _person_without_keypoints, 'https://cocodataset.org/'
        '#keypoints-eval (num_keypoints=0 persons; COCOeval ignores them)',
        ''),
    image_without_labelled_keypoints=Quirk(
        _image_without_labelled_keypoints, 'detectron2 '
        'MIN_KEYPOINTS_PER_IMAGE (CocoKeypointDataset.min_keypoints_per_'
        'image) drops such images from training',
        'fewer labelled keypoints than min_keypoints_per_image'),
    crowd_person=Quirk(
        _crowd_person, f'{_FORMAT} (crowd persons: RLE, no keypoints)', ''),
    image_without_annotations=QUIRKS['image_without_annotations'],
)


def with_quirks(root: str, names: Sequence[str], keypoints: bool = False,
                prefix: str = None) -> str:
    """Applies the named quirks to the dataset at ``root`` in place.

    Args:
        root: A dataset from ``make_synthetic_coco`` (or, with
            ``keypoints``, ``make_synthetic_coco_keypoints``).
        names: Keys of :data:`QUIRKS` (or :data:`KEYPOINT_QUIRKS`).
        keypoints: The dataset is the keypoint variant.
        prefix: Annotation file prefix (default by the variant).

    Returns:
        The train annotation file.
    """
    table = KEYPOINT_QUIRKS if keypoints else QUIRKS
    prefix = prefix or ('keypoints' if keypoints else 'instances')
    files = [osp.join(root, 'annotations', f'{prefix}_{split}.json')
             for split in ('train', 'val')]
    train, val = (json.load(open(f)) for f in files)
    for name in names:
        table[name].apply(root, train, val)
    for coco, path in zip((train, val), files):
        with open(path, 'w') as f:
            json.dump(coco, f)
    return files[0]
