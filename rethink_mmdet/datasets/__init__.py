"""Datasets and transforms configs name, the synthetic data, the data check."""
from .coco_keypoints import (
                             COCO_KEYPOINT_OFFSET,
                             CocoKeypointDataset,
                             keypoint_flip_indices,
)
from .coco_sampling import make_coco_subset
from .keypoint_transforms import (
                             LoadKeypoints,
                             PackKeypointDetInputs,
                             transform_keypoints,
)
from .pack_inputs import FastPackDetInputs
from .synthetic_coco import CATEGORIES, make_split, make_synthetic_coco
from .synthetic_coco_keypoints import make_synthetic_coco_keypoints
from .synthetic_shapes import CLASSES as SHAPE_CLASSES
from .synthetic_shapes import SyntheticShapesClassification
from .validation import (
                             DataProblem,
                             DatasetError,
                             check_coco_dataset,
                             check_config_datasets,
                             validate_config_datasets,
)

__all__ = ['CATEGORIES', 'COCO_KEYPOINT_OFFSET', 'CocoKeypointDataset',
           'DataProblem', 'DatasetError', 'FastPackDetInputs',
           'LoadKeypoints',
           'PackKeypointDetInputs', 'SHAPE_CLASSES',
           'SyntheticShapesClassification', 'check_coco_dataset',
           'check_config_datasets', 'keypoint_flip_indices', 'make_split',
           'make_synthetic_coco', 'make_coco_subset',
           'make_synthetic_coco_keypoints', 'transform_keypoints',
           'validate_config_datasets']
