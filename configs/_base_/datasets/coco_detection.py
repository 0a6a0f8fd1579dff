# COCO detection: MMDetection's base, evaluated with FasterCocoMetric.
_base_ = 'mmdet::_base_/datasets/coco_detection.py'

val_evaluator = dict(type='FasterCocoMetric')
test_evaluator = val_evaluator
