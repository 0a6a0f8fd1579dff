from .metrics import STAT_NAMES, FasterCocoMetric, coco_stats

__all__ = ['FasterCocoMetric', 'STAT_NAMES', 'coco_stats']
