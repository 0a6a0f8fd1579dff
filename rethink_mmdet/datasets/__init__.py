from .coco_subset import make_coco_subset
from .synthetic_coco import CATEGORIES, make_split, make_synthetic_coco
from .validation import (DataProblem, DatasetError, check_coco_dataset,
                         check_config_datasets, validate_config_datasets)

__all__ = ['CATEGORIES', 'DataProblem', 'DatasetError', 'check_coco_dataset',
           'check_config_datasets', 'make_split', 'make_synthetic_coco',
           'make_coco_subset', 'validate_config_datasets']
