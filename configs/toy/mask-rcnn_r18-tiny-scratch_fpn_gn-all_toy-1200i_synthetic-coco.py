# Toy for make demo (docs/configs.md): scratch, 1200 iterations.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/synthetic-coco_instance.py',
    '../_base_/schedules/schedule_paper-rule.py',
    '../_base_/default_runtime.py',
]
norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
channels = 32
model = dict(
    # The input the toy pre-training used (RGB, ImageNet mean/std;
    # imagenet_weights.py), for both inits.
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(depth=18, base_channels=32, norm_cfg=norm_cfg),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=channels,
              norm_cfg=norm_cfg),
    rpn_head=dict(in_channels=channels, feat_channels=channels,
                  anchor_generator=dict(scales=[4])),
    roi_head=dict(
        # A fixed 2x2 grid: mmcv's adaptive one is most of a CPU iteration.
        bbox_roi_extractor=dict(
            roi_layer=dict(sampling_ratio=2), out_channels=channels),
        bbox_head=dict(in_channels=channels, conv_out_channels=channels,
                       fc_out_channels=256, num_classes=6,
                       norm_cfg=norm_cfg),
        mask_roi_extractor=dict(
            roi_layer=dict(sampling_ratio=2), out_channels=channels),
        mask_head=dict(in_channels=channels, conv_out_channels=channels,
                       num_classes=6, norm_cfg=norm_cfg)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=300),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=300),
        rcnn=dict(max_per_img=50)))

train_cfg = dict(max_iters=1200, val_interval=300)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=100),
    dict(type='DropBeforeEndLR', drops_before_end=(240, 60), gamma=0.1,
         by_epoch=False),
]
# The toy's LR 0.02 is for its batch of 8.
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=300))
log_processor = dict(window_size=20)
