"""A small COCO-format instance-segmentation dataset, generated from a seed.

It stands in for COCO where no dataset may be downloaded: the CPU demo and the
tests train and evaluate on it through MMDetection's unchanged ``CocoDataset``.

Each image has a textured gradient background with clutter (thin lines and dots
smaller than any object, never annotated) and 1-6 objects. An object is a
polygon of one of the :data:`CATEGORIES` shapes with a random size, aspect
ratio, rotation, colour and texture (solid, stripes, checker or noise). Objects
may overlap a little (at most :data:`MAX_OVERLAP` of either object's box);
later objects are drawn on top, and every annotation keeps its full polygon
(amodal), so ``bbox`` and ``area`` are exactly those of ``segmentation``.
"""
import json
import math
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

CATEGORIES = ('circle', 'square', 'triangle', 'star', 'hexagon', 'cross')
#: Largest intersection between two objects' boxes, as a fraction of the
#: smaller box: enough overlap to matter, not enough to hide an object.
MAX_OVERLAP = 0.25
_TEXTURES = ('solid', 'stripes', 'checker', 'noise')
#: Bumped whenever the generator's output changes, so old copies regenerate.
_GENERATOR_VERSION = 1

Polygon = List[Tuple[float, float]]


def _regular(count: int, start: float = 0.0,
             radii: Sequence[float] = (1.0, )) -> Polygon:
    """``count`` vertices around the unit circle from angle ``start``,
    cycling through ``radii``."""
    return [(radii[i % len(radii)] * math.cos(a),
             radii[i % len(radii)] * math.sin(a))
            for i, a in enumerate(np.linspace(
                start, start + 2 * math.pi, count, endpoint=False))]


#: Unit outline (vertices inside the unit circle, before scaling) of each
#: shape category, in category order.
SHAPE_OUTLINES: Dict[str, Polygon] = {
    'circle': _regular(32),
    'square': [(-0.75, -0.75), (0.75, -0.75), (0.75, 0.75), (-0.75, 0.75)],
    'triangle': [(math.cos(a), math.sin(a))
                 for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)],
    'star': _regular(10, -math.pi / 2, radii=(1.0, 0.45)),
    'hexagon': _regular(6),
    'cross': [(-0.3, -0.9), (0.3, -0.9), (0.3, -0.3), (0.9, -0.3),
              (0.9, 0.3), (0.3, 0.3), (0.3, 0.9), (-0.3, 0.9), (-0.3, 0.3),
              (-0.9, 0.3), (-0.9, -0.3), (-0.3, -0.3)],
}
assert tuple(SHAPE_OUTLINES) == CATEGORIES


def _place_polygon(rng: np.random.Generator, category: str, outline: Polygon,
                   size: float, center: Tuple[float, float],
                   max_angle: Optional[float] = None) -> Polygon:
    """Scale, stretch and rotate a unit outline to ``size`` pixels (any
    angle, or within +-``max_angle`` radians of upright; circles are not
    rotated)."""
    aspect = rng.uniform(0.7, 1.4)
    if category == 'circle':
        angle = 0.0
    elif max_angle is None:
        angle = rng.uniform(0, 2 * math.pi)
    else:
        angle = rng.uniform(-max_angle, max_angle)
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    points = []
    for x, y in outline:
        x, y = x * size / 2 * aspect, y * size / 2 / aspect
        points.append((center[0] + x * cos_a - y * sin_a,
                       center[1] + x * sin_a + y * cos_a))
    return points


def polygon_area(points: Sequence[Tuple[float, float]]) -> float:
    """Area of a simple polygon by the shoelace formula, in pixels."""
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    return float(0.5 * abs(np.dot(xs, np.roll(ys, 1)) -
                           np.dot(ys, np.roll(xs, 1))))


def _bbox(points: Polygon) -> List[float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def _overlap(box_a: List[float], box_b: List[float]) -> float:
    """Intersection of two xywh boxes over the smaller box's area."""
    ix = max(0.0, min(box_a[0] + box_a[2], box_b[0] + box_b[2]) -
             max(box_a[0], box_b[0]))
    iy = max(0.0, min(box_a[1] + box_a[3], box_b[1] + box_b[3]) -
             max(box_a[1], box_b[1]))
    smaller = min(box_a[2] * box_a[3], box_b[2] * box_b[3])
    return ix * iy / smaller


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, size=3).astype(np.float32)


def _texture(rng: np.random.Generator, height: int, width: int,
             kind: str = None) -> np.ndarray:
    """An HxWx3 float image filled with texture ``kind`` (default: drawn
    at random from :data:`_TEXTURES`)."""
    if kind is None:
        kind = _TEXTURES[rng.integers(len(_TEXTURES))]
    base, other = _random_colour(rng), _random_colour(rng)
    yy, xx = np.mgrid[0:height, 0:width]
    if kind == 'solid':
        pattern = np.zeros((height, width))
    elif kind == 'stripes':
        period = rng.integers(4, 9)
        angle = rng.uniform(0, math.pi)
        phase = xx * math.cos(angle) + yy * math.sin(angle)
        pattern = (phase // (period / 2)) % 2
    elif kind == 'checker':
        cell = rng.integers(3, 7)
        pattern = ((xx // cell) + (yy // cell)) % 2
    else:
        pattern = rng.uniform(0, 1, size=(height, width))
    return base + pattern[..., None] * (other - base)


def _background(rng: np.random.Generator, height: int,
                width: int) -> np.ndarray:
    top, bottom = _random_colour(rng), _random_colour(rng)
    ramp = np.linspace(0, 1, height)[:, None, None]
    image = top + ramp * (bottom - top) + np.zeros((1, width, 1))
    image += rng.normal(0, 8, size=image.shape)
    return image


def _draw_clutter(rng: np.random.Generator, canvas: Image.Image) -> None:
    """Lines and dots that are not objects, so the model learns shape."""
    draw = ImageDraw.Draw(canvas)
    width, height = canvas.size
    for _ in range(rng.integers(2, 7)):
        x0, x1 = rng.uniform(0, width, size=2)
        y0, y1 = rng.uniform(0, height, size=2)
        draw.line([(x0, y0), (x1, y1)],
                  fill=tuple(int(c) for c in _random_colour(rng)), width=1)
    for _ in range(rng.integers(0, 6)):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(1, 3)
        draw.ellipse([x - r, y - r, x + r, y + r],
                     fill=tuple(int(c) for c in _random_colour(rng)))


def _make_image(rng: np.random.Generator, height: int, width: int,
                min_size: float, max_size: float, max_objects: int,
                outlines: Optional[Dict[str, Polygon]] = None,
                max_angle: Optional[float] = None
                ) -> Tuple[np.ndarray, List[Dict]]:
    """Draws one image of objects with the given unit ``outlines`` by
    category (default: :data:`SHAPE_OUTLINES`); returns it (HxWx3 uint8)
    and its objects, in drawing order (later objects are on top)."""
    outlines = SHAPE_OUTLINES if outlines is None else outlines
    categories = list(outlines)
    pixels = _background(rng, height, width)
    canvas = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    _draw_clutter(rng, canvas)
    pixels = np.asarray(canvas).astype(np.float32)

    objects: List[Dict] = []
    wanted = rng.integers(1, max_objects + 1)
    for _ in range(wanted * 10):  # rejection sampling of placements
        if len(objects) == wanted:
            break
        category = categories[rng.integers(len(categories))]
        size = rng.uniform(min_size, max_size)
        center = (rng.uniform(size / 2, width - size / 2),
                  rng.uniform(size / 2, height - size / 2))
        polygon = _place_polygon(rng, category, outlines[category], size,
                                 center, max_angle)
        box = _bbox(polygon)
        inside = (box[0] >= 0 and box[1] >= 0 and box[0] + box[2] <= width
                  and box[1] + box[3] <= height)
        if not inside or box[2] < 4 or box[3] < 4:
            continue
        if any(_overlap(box, o['bbox']) > MAX_OVERLAP for o in objects):
            continue
        mask_image = Image.new('L', (width, height), 0)
        ImageDraw.Draw(mask_image).polygon(polygon, fill=1)
        mask = np.asarray(mask_image).astype(bool)
        pixels[mask] = _texture(rng, height, width)[mask]
        objects.append(dict(category=category, polygon=polygon, bbox=box))
    image = np.clip(pixels, 0, 255).astype(np.uint8)
    return image, objects


def instance_annotation(obj: Dict, ann_id: int, image_id: int,
                        category_id: int) -> Dict:
    """The COCO annotation of one drawn object (polygon, box, area)."""
    flat = [round(c, 2) for point in obj['polygon'] for c in point]
    rounded = list(zip(flat[0::2], flat[1::2]))
    return dict(
        id=ann_id, image_id=image_id, category_id=category_id,
        segmentation=[flat], area=round(polygon_area(rounded), 2),
        bbox=[round(v, 2) for v in _bbox(rounded)], iscrowd=0)


#: ``annotate(objects, first_ann_id, image_id)`` -> COCO annotations.
Annotator = Callable[[List[Dict], int, int], List[Dict]]


def _shape_annotations(objects: List[Dict], first_ann_id: int,
                       image_id: int) -> List[Dict]:
    category_ids = {name: i + 1 for i, name in enumerate(CATEGORIES)}
    return [instance_annotation(obj, first_ann_id + i, image_id,
                                category_ids[obj['category']])
            for i, obj in enumerate(objects)]


def make_split(out_dir: str, split: str, num_images: int, seed: int,
               image_size: Tuple[int, int] = (112, 144),
               object_size: Tuple[float, float] = (14.0, 56.0),
               max_objects: int = 6, first_image_id: int = 1,
               first_ann_id: int = 1,
               coco_categories: Optional[List[Dict]] = None,
               annotate: Annotator = _shape_annotations,
               **image_kwargs) -> Dict:
    """Generates one split: images under ``out_dir/split`` and its COCO dict.

    Args:
        out_dir: Dataset root.
        split: Split name, e.g. ``'train'``; images go to ``out_dir/split/``.
        num_images: Number of images.
        seed: Seed of this split's random generator.
        image_size: Inclusive range of image height and width, in pixels.
        object_size: Range of object diameters, in pixels.
        max_objects: Most objects per image (at least one).
        first_image_id: Id of the first image (ids are consecutive).
        first_ann_id: Id of the first annotation.
        coco_categories: The COCO ``categories`` (default: the shapes).
        annotate: Turns an image's drawn objects into its annotations
            (default: one instance annotation per shape).
        **image_kwargs: Passed to :func:`_make_image` (``outlines`` of the
            categories drawn, ``max_angle``).

    Returns:
        The COCO dictionary (``images``, ``annotations``, ``categories``).
    """
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(out_dir, split), exist_ok=True)
    categories = coco_categories or [
        dict(id=i + 1, name=name, supercategory='shape')
        for i, name in enumerate(CATEGORIES)]
    images, annotations = [], []
    ann_id = first_ann_id
    for index in range(num_images):
        image_id = first_image_id + index
        height, width = (int(v) for v in rng.integers(
            image_size[0], image_size[1] + 1, size=2))
        pixels, objects = _make_image(rng, height, width, *object_size,
                                      max_objects, **image_kwargs)
        # Both formats, so loaders are exercised on PNG and JPEG files.
        extension = 'png' if index % 2 else 'jpg'
        file_name = f'{split}/{image_id:06d}.{extension}'
        Image.fromarray(pixels).save(
            osp.join(out_dir, file_name),
            **({'quality': 95} if extension == 'jpg' else {}))
        images.append(dict(id=image_id, file_name=file_name, height=height,
                           width=width))
        new = annotate(objects, ann_id, image_id)
        annotations.extend(new)
        ann_id += len(new)
    return dict(
        info=dict(description='rethink_mmdet synthetic shapes', version='1.0',
                  seed=seed),
        licenses=[], images=images, annotations=annotations,
        categories=categories)


def make_synthetic_coco(out_dir: str, num_train: int = 2000,
                        num_val: int = 200, seed: int = 0,
                        ann_prefix: str = 'instances',
                        **split_kwargs) -> Dict[str, str]:
    """Writes the train and val splits and their ``instances_*.json``
    (``{ann_prefix}_*.json``).

    The same arguments give byte-identical annotation files and images.

    Args:
        out_dir: Dataset root; gets ``train/``, ``val/`` and
            ``annotations/instances_{train,val}.json``.
        num_train: Number of training images.
        num_val: Number of validation images.
        seed: Seed; the val split uses a generator derived from it, so the
            splits never share an image.
        **split_kwargs: Passed to :func:`make_split` (sizes, objects).

    Returns:
        The annotation file of each split, by split name.
    """
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    ann_files = {}
    next_image_id, next_ann_id = 1, 1
    for split, count, split_seed in (('train', num_train, seed),
                                     ('val', num_val, seed + 1_000_003)):
        coco = make_split(out_dir, split, count, split_seed,
                          first_image_id=next_image_id,
                          first_ann_id=next_ann_id, **split_kwargs)
        next_image_id += count
        next_ann_id += len(coco['annotations'])
        ann_files[split] = osp.join(out_dir, 'annotations',
                                    f'{ann_prefix}_{split}.json')
        with open(ann_files[split], 'w') as f:
            json.dump(coco, f)
    return ann_files


def generate_if_needed(out_dir: str, num_train: int = 2000,
                       num_val: int = 200, seed: int = 0,
                       force: bool = False,
                       make: Callable[..., Dict[str, str]] = None,
                       prefix: str = 'instances',
                       stamp_extra: Optional[Dict] = None) -> Dict[str, str]:
    """``make`` (default :func:`make_synthetic_coco`) unless ``out_dir``
    already holds its output.

    A ``generator.json`` beside the annotations records the arguments (and
    ``stamp_extra``, which names a variant); the dataset is regenerated when
    they differ or a file is missing. ``prefix`` is the variant's annotation
    file prefix.
    """
    import time
    params = dict(num_train=num_train, num_val=num_val, seed=seed,
                  version=_GENERATOR_VERSION, **(stamp_extra or {}))
    make = make or make_synthetic_coco
    stamp = osp.join(out_dir, 'annotations', 'generator.json')
    ann_files = {split: osp.join(out_dir, 'annotations',
                                 f'{prefix}_{split}.json')
                 for split in ('train', 'val')}
    if not force and osp.isfile(stamp) and all(
            osp.isfile(f) for f in ann_files.values()):
        with open(stamp) as f:
            if json.load(f) == params:
                print(f'synthetic COCO already in {out_dir} (seed {seed}, '
                      f'{num_train} train / {num_val} val images)')
                return ann_files
    start = time.time()
    ann_files = make(out_dir, num_train, num_val, seed)
    with open(stamp, 'w') as f:
        json.dump(params, f)
    counts = {}
    for split, path in ann_files.items():
        with open(path) as f:
            coco = json.load(f)
        counts[split] = (len(coco['images']), len(coco['annotations']))
    seconds = time.time() - start
    print(f'synthetic COCO written to {out_dir} in {seconds:.1f}s: '
          + ', '.join(f'{split} {n_img} images / {n_ann} objects'
                      for split, (n_img, n_ann) in counts.items()))
    return ann_files
