# "Train aug": short side sampled from [640, 800] (docs/configs.md).
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
