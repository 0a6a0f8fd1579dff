from .metrics import (STAT_NAMES, CocoKeypointMetric, FasterCocoMetric,
                      coco_stats, evaluate_keypoints)

__all__ = ['CocoKeypointMetric', 'FasterCocoMetric', 'STAT_NAMES',
           'coco_stats', 'evaluate_keypoints']
