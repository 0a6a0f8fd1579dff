# COCO instances: MMDetection's base (800/1333, flip), FasterCocoMetric.
_base_ = 'mmdet::_base_/datasets/coco_instance.py'

# Same inputs, faster (docs/benchmarks.md, "Data pipeline"): polygon masks
# until the RoI crop, one cheap copy when packing.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True,
         poly2mask=False),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='FastPackDetInputs'),
]
train_dataloader = dict(num_workers=2, dataset=dict(pipeline=train_pipeline))

val_evaluator = dict(type='FasterCocoMetric')
test_evaluator = val_evaluator
