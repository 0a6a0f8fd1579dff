# COCO instances: MMDetection's base (800/1333, flip), FasterCocoMetric.
_base_ = 'mmdet::_base_/datasets/coco_instance.py'

val_evaluator = dict(type='FasterCocoMetric')
test_evaluator = val_evaluator
