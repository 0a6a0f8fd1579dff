from .faster_coco_metric import STAT_NAMES, FasterCocoMetric, coco_stats

__all__ = ['FasterCocoMetric', 'STAT_NAMES', 'coco_stats']
