# COCO train2017 -> val2017 detection (boxes only) for the Faster R-CNN rows:
# single scale 800/1333 with flip, 2 images per GPU (MMDetection's base).
_base_ = 'mmdet::_base_/datasets/coco_detection.py'

# COCO AP through FasterCocoMetric (faster-coco-eval): CocoMetric's arguments,
# keys and values, several times faster (docs/benchmarks.md);
# type='CocoMetric' restores MMDetection's.
val_evaluator = dict(type='FasterCocoMetric')
test_evaluator = val_evaluator
