"""Generated COCO-like training images for the data-pipeline benchmark.

What a paper row's train pipeline spends its time on depends on the image
(JPEG size and content) and the annotations (instances per image, polygon
vertices, object sizes), so the generated images mimic COCO train2017 in
those respects: textured JPEGs (quality 90), a Poisson number of instances
(mean 7.3, COCO's), COCO's size mix (41% small, 34% medium, 25% large by
area, thresholds 32² and 96² px scaled to the image size relative to COCO's
640x480), one polygon of 12-40 vertices per instance, and 1% crowd regions
stored, as in COCO, as uncompressed RLE. Category names are COCO's 80, so a
COCO config reads the files unchanged.

The set is written once per parameter set: :func:`make_coco_images`
leaves a ``generated.json`` manifest and skips a directory whose manifest
matches.
"""
import json
import os
import os.path as osp
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from rethink_mmdet.benchmarks.coco_problem import uncompressed_rle

#: COCO train2017's share of small, medium and large instances.
SIZE_MIX = (0.41, 0.34, 0.25)
#: COCO's area thresholds (px², at COCO's typical 640x480).
SIZE_BOUNDS = ((6**2, 32**2), (32**2, 96**2), (96**2, 400**2))
MEAN_INSTANCES = 7.3
CROWD_FRACTION = 0.01
_VERSION = 1


def coco_classes() -> Tuple[str, ...]:
    """COCO's 80 category names, as MMDetection's ``CocoDataset`` has them."""
    from mmdet.datasets import CocoDataset
    return tuple(CocoDataset.METAINFO['classes'])


def _polygon(rng: np.random.Generator, width: int, height: int,
             scale: float) -> np.ndarray:
    """(V, 2) vertices of a star-shaped polygon of a COCO-distributed size
    inside the image."""
    kind = rng.choice(3, p=SIZE_MIX)
    low, high = (b * scale**2 for b in SIZE_BOUNDS[kind])
    area = np.exp(rng.uniform(np.log(low), np.log(high)))
    aspect = np.exp(rng.uniform(np.log(1 / 3), np.log(3)))
    # A star polygon of radii 0.55-1 fills ~45% of its box on average.
    w = min(np.sqrt(area / 0.45 * aspect), width - 2)
    h = min(np.sqrt(area / 0.45 / aspect), height - 2)
    cx = rng.uniform(w / 2 + 1, width - w / 2 - 1)
    cy = rng.uniform(h / 2 + 1, height - h / 2 - 1)
    n = int(rng.integers(12, 41))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radius = rng.uniform(0.55, 1.0, n)
    return np.stack([cx + w / 2 * radius * np.cos(angles),
                     cy + h / 2 * radius * np.sin(angles)], 1)


def _image(rng: np.random.Generator, width: int, height: int,
           polygons: Sequence[np.ndarray]) -> np.ndarray:
    """A BGR image: smooth gradient, fine noise, filled textured polygons
    (JPEG-compresses to roughly COCO's bytes per pixel)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(0, 255, 3).astype(np.float32)
    slope = rng.uniform(-0.15, 0.15, (2, 3)).astype(np.float32)
    img = (base + xx[..., None] * slope[0] * 640 / width
           + yy[..., None] * slope[1] * 480 / height)
    img += rng.normal(0, 20, (height, width, 1)).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    for poly in polygons:
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        cv2.fillPoly(img, [np.round(poly).astype(np.int32)], colour)
    return img


def _annotation(rng: np.random.Generator, poly: np.ndarray, ann_id: int,
                img_id: int, width: int, height: int,
                crowd_fraction: float) -> dict:
    x1, y1 = poly.min(0)
    x2, y2 = poly.max(0)
    crowd = int(rng.random() < crowd_fraction)
    ann = dict(id=ann_id, image_id=img_id, category_id=int(rng.integers(80))
               + 1, iscrowd=crowd, bbox=[float(x1), float(y1),
                                         float(x2 - x1), float(y2 - y1)])
    xs, ys = poly[:, 0], poly[:, 1]
    ann['area'] = float(0.5 * abs(np.dot(xs, np.roll(ys, 1))
                                  - np.dot(ys, np.roll(xs, 1))))
    if crowd:  # COCO's crowd regions are uncompressed RLE
        binary = np.zeros((height, width), np.uint8)
        cv2.fillPoly(binary, [np.round(poly).astype(np.int32)], 1)
        ann['segmentation'] = uncompressed_rle(binary)
    else:
        ann['segmentation'] = [[round(float(v), 2) for v in poly.reshape(-1)]]
    return ann


def make_coco_images(root: str, num_images: int,
                     image_size: Sequence[int] = (1333, 800),
                     seed: int = 0,
                     crowd_fraction: float = CROWD_FRACTION) -> str:
    """Writes ``num_images`` JPEGs and ``annotations/instances.json`` under
    ``root`` unless a matching set is already there.

    Args:
        root: Output directory.
        num_images: Images to write.
        image_size: ``(width, height)`` of every image.
        seed: Generator seed; same seed, same files.
        crowd_fraction: Share of instances that are crowd regions (RLE).

    Returns:
        The annotation file's path.
    """
    width, height = (int(v) for v in image_size)
    params = dict(version=_VERSION, num_images=num_images,
                  image_size=[width, height], seed=seed,
                  crowd_fraction=crowd_fraction)
    manifest = osp.join(root, 'generated.json')
    ann_file = osp.join(root, 'annotations', 'instances.json')
    if osp.isfile(manifest) and osp.isfile(ann_file):
        with open(manifest) as f:
            if json.load(f) == params:
                return ann_file
    os.makedirs(osp.dirname(ann_file), exist_ok=True)
    rng = np.random.default_rng(seed)
    scale = np.sqrt(width * height / (640 * 480))
    images: List[dict] = []
    annotations: List[dict] = []
    for img_id in range(1, num_images + 1):
        polygons = [_polygon(rng, width, height, scale)
                    for _ in range(rng.poisson(MEAN_INSTANCES))]
        # Large objects first, so smaller ones stay visible on top.
        polygons.sort(key=lambda p: -np.ptp(p[:, 0]) * np.ptp(p[:, 1]))
        name = f'{img_id:012d}.jpg'
        cv2.imwrite(osp.join(root, name), _image(rng, width, height, polygons),
                    [cv2.IMWRITE_JPEG_QUALITY, 90])
        images.append(dict(id=img_id, file_name=name, width=width,
                           height=height))
        for poly in polygons:
            annotations.append(_annotation(rng, poly, len(annotations) + 1,
                                           img_id, width, height,
                                           crowd_fraction))
    categories = [dict(id=i + 1, name=name)
                  for i, name in enumerate(coco_classes())]
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=annotations,
                       categories=categories), f)
    with open(manifest, 'w') as f:
        json.dump(params, f)
    return ann_file
