"""The metrics configs name."""
from .metrics import (
                      STAT_NAMES,
                      ClassificationAccuracy,
                      CocoKeypointMetric,
                      FasterCocoMetric,
                      coco_stats,
                      evaluate_keypoints,
)

__all__ = ['ClassificationAccuracy', 'CocoKeypointMetric', 'FasterCocoMetric',
           'STAT_NAMES', 'coco_stats', 'evaluate_keypoints']
