# COCO train2017 -> val2017 instance segmentation at a single scale (short
# side 800, long side <= 1333, horizontal flip), 2 images per GPU: docs/recipe.md's
# input recipe, which is MMDetection's coco_instance base unchanged.
_base_ = 'mmdet::_base_/datasets/coco_instance.py'

# COCO AP through FasterCocoMetric (faster-coco-eval): CocoMetric's arguments,
# keys and values, several times faster (docs/benchmarks.md);
# type='CocoMetric' restores MMDetection's.
val_evaluator = dict(type='FasterCocoMetric')
test_evaluator = val_evaluator
