"""The keypoint variant of the synthetic dataset, in COCO person-keypoints
format, so Keypoint R-CNN trains and evaluates on the CPU.

Every object is a ``house`` (a pentagon: apex, two eaves, two base corners)
drawn by :mod:`.synthetic_coco`'s generator (same backgrounds, clutter,
textures and placement; 1-4 objects of 20-64 px), rotated at most
:data:`MAX_ANGLE` from upright so that, as with people, "up" and the sides
are learnable. Its five vertices are the keypoints; left/right pairs are
named ``left_*``/``right_*`` as COCO's are, so flips swap them
(:func:`.coco_keypoints.keypoint_flip_indices`).

Visibility follows COCO: 2 visible, 1 labelled but covered by an object drawn
later, 0 unlabelled (every :data:`UNLABELLED_EVERY`-th object, like COCO's
persons without keypoints; pycocotools ignores those). Coordinates use COCO's
keypoint convention, pixel indices (a continuous ``x`` is stored as
``x - 0.5``; :data:`COCO_KEYPOINT_OFFSET`).
"""
import math
from typing import Dict, List, Sequence, Tuple

from .coco_keypoints import COCO_KEYPOINT_OFFSET
from .synthetic_coco import (
    generate_if_needed,
    instance_annotation,
    make_synthetic_coco,
)

KEYPOINT_NAMES = ('apex', 'left_eave', 'right_eave', 'left_base',
                  'right_base')
#: The house's unit outline: apex, then clockwise on screen (y down): right
#: eave, right base, left base, left eave. Mirror-symmetric, so left/right
#: swap under flips.
HOUSE_OUTLINE = [(0.0, -1.0), (0.8, -0.2), (0.8, 0.9), (-0.8, 0.9),
                 (-0.8, -0.2)]
#: Index of each keypoint of :data:`KEYPOINT_NAMES` in :data:`HOUSE_OUTLINE`.
_VERTEX_OF_KEYPOINT = (0, 4, 1, 3, 2)
SKELETON = [[1, 2], [1, 3], [2, 4], [3, 5], [4, 5]]
MAX_ANGLE = math.pi / 4
UNLABELLED_EVERY = 10
KEYPOINT_ANN_PREFIX = 'keypoints'
#: OKS sigma of every synthetic keypoint for COCOeval: COCO's largest (hips,
#: 0.107; the eyes have 0.025), as the houses are small (areas of 300-2000
#: px²): a 2 px error on a 300 px² house still scores OKS 0.85.
SYNTHETIC_SIGMA = 0.1
CATEGORY = dict(id=1, name='house', supercategory='shape',
                keypoints=list(KEYPOINT_NAMES), skeleton=SKELETON)


def _inside(point: Tuple[float, float],
            polygon: Sequence[Tuple[float, float]]) -> bool:
    """Even-odd ray casting: is ``point`` inside ``polygon``?"""
    x, y = point
    inside = False
    for (x0, y0), (x1, y1) in zip(polygon, list(polygon[1:]) + [polygon[0]]):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def _keypoint_annotations(objects: List[Dict], first_ann_id: int,
                          image_id: int) -> List[Dict]:
    """Instance annotations with the houses' keypoints (COCO format)."""
    annotations = []
    for i, obj in enumerate(objects):
        ann_id = first_ann_id + i
        ann = instance_annotation(obj, ann_id, image_id, CATEGORY['id'])
        labelled = ann_id % UNLABELLED_EVERY != 0
        keypoints = []
        for vertex in _VERTEX_OF_KEYPOINT:
            point = obj['polygon'][vertex]
            covered = any(_inside(point, later['polygon'])
                          for later in objects[i + 1:])
            visibility = (1 if covered else 2) if labelled else 0
            if visibility:
                keypoints += [round(point[0] - COCO_KEYPOINT_OFFSET, 2),
                              round(point[1] - COCO_KEYPOINT_OFFSET, 2),
                              visibility]
            else:
                keypoints += [0, 0, 0]
        ann.update(keypoints=keypoints,
                   num_keypoints=sum(v > 0 for v in keypoints[2::3]))
        annotations.append(ann)
    return annotations


def make_synthetic_coco_keypoints(out_dir: str, num_train: int = 2000,
                                  num_val: int = 200, seed: int = 0,
                                  **split_kwargs) -> Dict[str, str]:
    """Writes train/val images and ``annotations/keypoints_{train,val}.json``.

    Args:
        out_dir: Dataset root.
        num_train: Number of training images.
        num_val: Number of validation images.
        seed: Seed (same arguments, same bytes).
        **split_kwargs: Passed to :func:`.synthetic_coco.make_split`.

    Returns:
        The annotation file of each split, by split name.
    """
    kwargs = dict(object_size=(20.0, 64.0), max_objects=4,
                  outlines={'house': HOUSE_OUTLINE}, max_angle=MAX_ANGLE,
                  coco_categories=[CATEGORY], annotate=_keypoint_annotations)
    kwargs.update(split_kwargs)
    return make_synthetic_coco(out_dir, num_train, num_val, seed,
                               ann_prefix=KEYPOINT_ANN_PREFIX, **kwargs)


def generate_keypoints_if_needed(out_dir: str, num_train: int = 2000,
                                 num_val: int = 200, seed: int = 0,
                                 force: bool = False) -> Dict[str, str]:
    """:func:`make_synthetic_coco_keypoints` unless ``out_dir`` already
    holds it (see :func:`.synthetic_coco.generate_if_needed`)."""
    return generate_if_needed(
        out_dir, num_train, num_val, seed, force,
        make=make_synthetic_coco_keypoints, prefix=KEYPOINT_ANN_PREFIX,
        stamp_extra=dict(keypoints=True))
