# Toy study's ImageNet stand-in (docs/configs.md): 1500 iterations.
_base_ = './mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py'

model = dict(
    _delete_=True,
    type='BackboneClassifier',
    backbone={{_base_.model.backbone}},
    num_classes=40,
    in_channels=256,
    # The detector's normalization, on BGR images as loaded.
    data_preprocessor=dict(
        type='ImgDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True))

train_dataloader = dict(
    _delete_=True,
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='SyntheticShapesClassification', num_images=48000,
                 seed=1, size=32, object_size=(14, 30)))
val_dataloader = dict(
    _delete_=True,
    batch_size=100,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SyntheticShapesClassification', num_images=1000,
                 seed=2, size=32, object_size=(14, 30)))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='ClassificationAccuracy')
test_evaluator = val_evaluator

# LR 0.005: on this task 0.01-0.05 stayed at chance (docs/study.md).
optim_wrapper = dict(optimizer=dict(lr=0.005))
train_cfg = dict(max_iters=1500, val_interval=500)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=100),
    dict(type='DropBeforeEndLR', fractions_before_end=(1 / 3, 1 / 9),
         gamma=0.1, by_epoch=False),
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=500))
