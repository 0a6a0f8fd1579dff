from .coco_subset import make_coco_subset
from .synthetic_coco import CATEGORIES, make_split, make_synthetic_coco
from .synthetic_shapes import (CLASSES as SHAPE_CLASSES,
                               SyntheticShapesClassification)

__all__ = ['CATEGORIES', 'make_split', 'make_synthetic_coco',
           'make_coco_subset', 'SHAPE_CLASSES',
           'SyntheticShapesClassification']
