"""COCO box/mask and keypoint metrics, and the classifier's accuracy."""
from .classification_accuracy import ClassificationAccuracy
from .coco_keypoint_metric import CocoKeypointMetric, evaluate_keypoints
from .faster_coco_metric import STAT_NAMES, FasterCocoMetric, coco_stats

__all__ = ['ClassificationAccuracy', 'CocoKeypointMetric', 'FasterCocoMetric',
           'STAT_NAMES', 'coco_stats', 'evaluate_keypoints']
