# "Train aug" of the enhanced baselines (docs/recipe.md): the short side is
# sampled from [640, 800] in steps of 32 (detectron2's ResizeShortestEdge
# choices), long side <= 1333; testing stays at 800.
_base_ = './coco_instance.py'

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True,
         poly2mask=False),
    dict(type='RandomChoiceResize',
         scales=[(1333, short) for short in range(640, 801, 32)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='FastPackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
