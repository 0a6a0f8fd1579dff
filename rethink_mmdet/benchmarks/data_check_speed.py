"""The data check at train2017's size, beside MMDetection loading the file.

:func:`write_train2017_like` streams a generated ``instances`` file with
train2017's counts (118,287 images, 860,001 annotations, 1,021 images
without annotations, ~1% crowd regions as uncompressed RLE, 80 categories
with COCO's ids 1-90, polygons of ~24 points with 2 decimals: about
train2017's 448 MB) and creates an empty file for every image, so the
check's image lookups hit a real folder of 118k entries. Each measurement
runs in a fresh interpreter (wall time, peak RSS): the check as
``tools/train.py`` runs it (the ``coco_instance`` base's options), and
``CocoDataset(..., lazy_init=False)`` (what building the train loader
does: parse, filter, serialize).
"""
import json
import math
import os
import os.path as osp
import random
import subprocess
import sys
from typing import Dict, Sequence

#: train2017's counts (cocoapi issue 76 for the unannotated images).
NUM_IMAGES, NUM_ANNOTATIONS, NUM_UNANNOTATED = 118_287, 860_001, 1_021
COCO_CATEGORY_IDS = [i for i in range(1, 91) if i not in (
    12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


def _polygon_templates(rng: random.Random, count: int = 4096) -> list:
    """Pre-formatted polygons (with their boxes and areas), reused by the
    annotations: JSON parsing costs the same, generation far less."""
    templates = []
    for _ in range(count):
        points = max(4, int(rng.gauss(24, 8)))
        cx, cy = rng.uniform(60, 580), rng.uniform(60, 420)
        radius = rng.uniform(5, 55)
        coords = []
        for k in range(points):
            angle = 6.283185 * k / points
            r = radius * rng.uniform(0.6, 1.0)
            coords += [round(cx + r * math.cos(angle), 2),
                       round(cy + r * math.sin(angle), 2)]
        xs, ys = coords[0::2], coords[1::2]
        bbox = [min(xs), min(ys), round(max(xs) - min(xs), 2),
                round(max(ys) - min(ys), 2)]
        templates.append((json.dumps([coords]), json.dumps(bbox),
                          round(bbox[2] * bbox[3] * 0.7, 2)))
    return templates


def write_train2017_like(root: str, class_names: Sequence[str],
                         seed: int = 0) -> Dict[str, str]:
    """Writes ``root/annotations/instances_train2017.json`` (categories
    ``class_names``, COCO's 80) and an empty ``root/train2017/NAME.jpg``
    per image; returns both paths."""
    rng = random.Random(seed)
    img_dir = osp.join(root, 'train2017')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    ann_file = osp.join(root, 'annotations', 'instances_train2017.json')
    image_ids = rng.sample(range(1, 600_000), NUM_IMAGES)
    annotated = image_ids[NUM_UNANNOTATED:]
    templates = _polygon_templates(rng)
    crowd_counts = json.dumps([rng.randint(1, 400) for _ in range(60)])
    with open(ann_file, 'w') as f:
        f.write('{"info": {"description": "train2017-sized, generated"}, '
                '"licenses": [], "images": [')
        for n, image_id in enumerate(image_ids):
            name = f'{image_id:012d}.jpg'
            open(osp.join(img_dir, name), 'wb').close()
            f.write(('' if n == 0 else ', ') + json.dumps(dict(
                id=image_id, file_name=name, width=640, height=480,
                license=1, date_captured='2013-11-14 11:18:45')))
        f.write('], "annotations": [')
        for ann_id in range(1, NUM_ANNOTATIONS + 1):
            polygon, bbox, area = templates[rng.randrange(len(templates))]
            crowd = ann_id % 100 == 0
            segmentation = ('{"counts": %s, "size": [480, 640]}'
                            % crowd_counts) if crowd else polygon
            f.write(('' if ann_id == 1 else ', ') + (
                '{"segmentation": %s, "area": %s, "iscrowd": %d, '
                '"image_id": %d, "bbox": %s, "category_id": %d, "id": %d}'
                % (segmentation, area, crowd,
                   annotated[ann_id % len(annotated)], bbox,
                   rng.choice(COCO_CATEGORY_IDS), ann_id)))
        f.write('], "categories": [')
        f.write(', '.join(json.dumps(dict(id=i, name=name,
                                          supercategory='thing'))
                          for i, name in zip(COCO_CATEGORY_IDS,
                                             class_names)))
        f.write(']}')
    return dict(ann_file=ann_file, img_dir=img_dir + '/')


_CHILD = r'''
import json, resource, sys, time
kind, ann_file, img_dir = sys.argv[1:4]
import rethink_mmdet  # noqa
from mmdet.datasets import CocoDataset
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if kind == 'check':
    from rethink_mmdet.datasets.coco_check import (SplitOptions,
                                                   check_coco_dataset)
    problems = check_coco_dataset(
        ann_file, img_dir, CocoDataset.METAINFO['classes'],
        options=SplitOptions(with_mask=True, filter_empty_gt=True,
                             min_size=32))
    size = sum(p.severity == 'error' for p in problems)
else:
    dataset = CocoDataset(ann_file=ann_file, data_prefix=dict(img=img_dir),
                          filter_cfg=dict(filter_empty_gt=True, min_size=32),
                          pipeline=[], lazy_init=False)
    size = len(dataset)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(kind=kind, seconds=seconds, peak_mb=peak / 1024,
                      added_mb=(peak - base) / 1024, result=size)))
'''


def measure(kind: str, ann_file: str, img_dir: str) -> dict:
    """Wall time and peak memory of ``kind`` (``'check'`` or ``'load'``)
    in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, '-c', _CHILD, kind, ann_file, img_dir],
        check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
