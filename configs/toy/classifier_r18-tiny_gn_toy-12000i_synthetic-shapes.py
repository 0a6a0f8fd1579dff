# Toy study's ImageNet stand-in (docs/study.md): 12000 iterations.
_base_ = './mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py'

model = dict(
    _delete_=True,
    type='BackboneClassifier',
    backbone={{_base_.model.backbone}},
    num_classes=8,
    in_channels=256,
    # The detector's normalization, on BGR images as loaded.
    data_preprocessor=dict(
        type='ImgDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True))

# Objects at the large half of the detector's 14-56 px (docs/study.md).
shapes = dict(type='SyntheticShapesClassification', size=64,
              object_size=(28, 56))
train_dataloader = dict(
    _delete_=True,
    # Batch 32 reached 87% where 64 reached 84% on the same images.
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # Each training image seen once (12000 x 32).
    dataset=dict(num_images=384000, seed=1, **shapes))
val_dataloader = dict(
    _delete_=True,
    batch_size=100,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(num_images=1000, seed=2, **shapes))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='ClassificationAccuracy')
test_evaluator = val_evaluator

# AdamW: SGD at 0.05-0.1 stayed near chance longer here (docs/study.md).
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.001, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.))
train_cfg = dict(max_iters=12000, val_interval=1500)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=100),
    dict(type='DropBeforeEndLR', fractions_before_end=(1 / 3, 1 / 9),
         gamma=0.1, by_epoch=False),
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=3000))
