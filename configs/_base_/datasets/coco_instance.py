# COCO train2017 -> val2017 instance segmentation at a single scale (short
# side 800, long side <= 1333, horizontal flip), 2 images per GPU: docs/recipe.md's
# input recipe, which is MMDetection's coco_instance base unchanged.
_base_ = 'mmdet::_base_/datasets/coco_instance.py'

# The same inputs, faster (docs/benchmarks.md, "Data pipeline"): polygons stay
# polygons until the RoI head crops them (poly2mask=False; equal mask
# targets, tests/test_datasets/test_polygon_mask_targets.py; crowd RLE is
# ignored in training either way) and the image is packed with one cheap copy.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True,
         poly2mask=False),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='FastPackDetInputs'),
]
# Workers per GPU: measured rate per worker vs the GPU's (docs/benchmarks.md).
train_dataloader = dict(num_workers=2, dataset=dict(pipeline=train_pipeline))

# COCO AP through FasterCocoMetric (faster-coco-eval): CocoMetric's arguments,
# keys and values, several times faster (docs/benchmarks.md);
# type='CocoMetric' restores MMDetection's.
val_evaluator = dict(type='FasterCocoMetric')
test_evaluator = val_evaluator
