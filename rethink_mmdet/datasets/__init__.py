from .coco_keypoints import (COCO_KEYPOINT_OFFSET, CocoKeypointDataset,
                             keypoint_flip_indices)
from .coco_subset import make_coco_subset
from .keypoint_transforms import (LoadKeypoints, PackKeypointDetInputs,
                                  transform_keypoints)
from .synthetic_coco import CATEGORIES, make_split, make_synthetic_coco
from .synthetic_coco_keypoints import make_synthetic_coco_keypoints

__all__ = ['CATEGORIES', 'make_split', 'make_synthetic_coco',
           'make_coco_subset', 'COCO_KEYPOINT_OFFSET', 'CocoKeypointDataset',
           'keypoint_flip_indices', 'LoadKeypoints', 'PackKeypointDetInputs',
           'transform_keypoints', 'make_synthetic_coco_keypoints']
