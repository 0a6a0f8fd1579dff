"""A generated image-classification task that stands in for ImageNet.

The toy study pre-trains its backbone here before fine-tuning it on the
synthetic COCO shapes, as the paper's detectors start from ImageNet before
COCO. Each image is one object drawn in the synthetic COCO style (textured
gradient background, clutter, a polygon with a random texture; the drawing
helpers are :mod:`.synthetic_coco`'s), and its class is the outline: the
texture is drawn at random, as in the detection images, so only the shape
tells the classes apart (an earlier version that also made the texture part
of the class reached 13% top-1 on 40 classes; docs/study.md).

The outlines are **disjoint from the detection categories**
(:data:`.synthetic_coco.CATEGORIES`): ImageNet's 1000 classes are not COCO's
80 either, but both are photographs of the same visual world. Here the two
tasks share the image domain (backgrounds, textures, clutter, polygon edges)
and no label, so what transfers is generic features, not a detector of the
test classes seen in advance.

Images are drawn on the fly from ``(seed, index)``, so the dataset needs no
disk and every epoch of a given seed sees the same images.
"""
import math
from typing import Dict, List, Tuple

import numpy as np
import torch
from mmdet.registry import DATASETS
from PIL import Image, ImageDraw
from torch.utils.data import Dataset

from .synthetic_coco import CATEGORIES, _background, _draw_clutter, _texture


def _arc(start: float, stop: float, radius: float = 1.0,
         centre: Tuple[float, float] = (0.0, 0.0), steps: int = 16):
    return [(centre[0] + radius * math.cos(a),
             centre[1] + radius * math.sin(a))
            for a in np.linspace(start, stop, steps)]


#: Unit outlines (inside the unit circle), none of them a detection category
#: nor close to one: a pentagon and an octagon, near the detection hexagon
#: and circle at 14-56 px, were dropped, and a lightning bolt replaced the
#: trapezoid, which the classifier confused with the semicircle
#: (docs/study.md).
OUTLINES: Dict[str, List[Tuple[float, float]]] = {
    'diamond': [(0, -1), (0.55, 0), (0, 1), (-0.55, 0)],
    'semicircle': _arc(math.pi, 2 * math.pi) + [(1, 0.3), (-1, 0.3)],
    'crescent': _arc(-0.65 * math.pi, 0.65 * math.pi) + _arc(
        0.42 * math.pi, -0.42 * math.pi, 0.8, (-0.3, 0)),
    'arrow': [(-1, -0.25), (0.2, -0.25), (0.2, -0.6), (1, 0), (0.2, 0.6),
              (0.2, 0.25), (-1, 0.25)],
    'l-shape': [(-0.7, -1), (-0.2, -1), (-0.2, 0.5), (0.7, 0.5), (0.7, 1),
                (-0.7, 1)],
    't-shape': [(-0.9, -0.9), (0.9, -0.9), (0.9, -0.45), (0.25, -0.45),
                (0.25, 0.95), (-0.25, 0.95), (-0.25, -0.45), (-0.9, -0.45)],
    'bolt': [(-0.15, -0.9), (0.4, -0.9), (0.1, -0.15), (0.5, -0.15),
             (-0.25, 0.9), (-0.05, 0.1), (-0.45, 0.1)],
    'heart': _arc(math.pi, 2.2 * math.pi, 0.5, (-0.45, -0.3)) + _arc(
        0.8 * math.pi, 2 * math.pi, 0.5, (0.45, -0.3)) + [(0, 0.95)],
}
assert not set(OUTLINES) & set(CATEGORIES)  # disjoint by construction

CLASSES = tuple(OUTLINES)


def draw_example(seed: int, index: int, size: int = 64,
                 object_size: Tuple[float, float] = (24.0, 56.0)
                 ) -> Tuple[np.ndarray, int]:
    """Image ``index`` of the dataset with seed ``seed``, and its class.

    Returns:
        ``(image, label)``: an HxWx3 uint8 image in BGR order (what
        ``LoadImageFromFile`` gives the detector) and an index into
        :data:`CLASSES`.
    """
    rng = np.random.default_rng([seed, index])
    label = int(rng.integers(len(CLASSES)))
    outline = OUTLINES[CLASSES[label]]
    canvas = Image.fromarray(np.clip(_background(rng, size, size), 0,
                                     255).astype(np.uint8))
    _draw_clutter(rng, canvas)
    pixels = np.asarray(canvas).astype(np.float32)
    diameter = rng.uniform(*object_size)
    aspect = rng.uniform(0.75, 1.33)
    angle = rng.uniform(0, 2 * math.pi)
    cx, cy = rng.uniform(diameter / 2, size - diameter / 2, size=2)
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    polygon = []
    for x, y in outline:
        x, y = x * diameter / 2 * aspect, y * diameter / 2 / aspect
        polygon.append((cx + x * cos_a - y * sin_a,
                        cy + x * sin_a + y * cos_a))
    mask_image = Image.new('L', (size, size), 0)
    ImageDraw.Draw(mask_image).polygon(polygon, fill=1)
    mask = np.asarray(mask_image).astype(bool)
    pixels[mask] = _texture(rng, size, size)[mask]
    image = np.clip(pixels, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image[..., ::-1]), label


@DATASETS.register_module()
class SyntheticShapesClassification(Dataset):
    """``num_images`` generated classification examples (see module doc).

    Each item is ``dict(inputs=uint8 tensor (3, size, size) BGR,
    data_samples=int label)``, for :class:`~rethink_mmdet.models.
    BackboneClassifier` behind an ``ImgDataPreprocessor``.

    Args:
        num_images: Dataset length.
        seed: Seed; the train and val splits use different seeds.
        size: Image side, in pixels.
        object_size: Range of object diameters, in pixels.
    """
    METAINFO = dict(classes=CLASSES)

    def __init__(self, num_images: int, seed: int = 0, size: int = 64,
                 object_size: Tuple[float, float] = (24.0, 56.0),
                 **kwargs):
        if num_images < 1:
            raise ValueError(f'num_images must be positive, got {num_images}')
        if not 0 < object_size[0] <= object_size[1] <= size:
            raise ValueError(f'object_size {object_size} must be an '
                             f'increasing range within the image size {size}')
        self.num_images = num_images
        self.seed = seed
        self.size = size
        self.object_size = tuple(object_size)
        self.metainfo = dict(self.METAINFO)

    def __len__(self) -> int:
        return self.num_images

    def __getitem__(self, index: int) -> dict:
        image, label = draw_example(self.seed, index, self.size,
                                    self.object_size)
        return dict(inputs=torch.from_numpy(image).permute(2, 0, 1),
                    data_samples=label)
