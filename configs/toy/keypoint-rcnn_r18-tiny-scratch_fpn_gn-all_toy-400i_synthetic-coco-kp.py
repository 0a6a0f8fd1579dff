# Toy Keypoint R-CNN (docs/configs.md): scratch, 400 iterations.
_base_ = [
    '../_base_/models/keypoint-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/synthetic-coco_keypoints.py',
    '../_base_/schedules/schedule_paper-rule.py',
    '../_base_/default_runtime.py',
]
norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
channels = 32
model = dict(
    # The toy detectors' input (RGB, ImageNet mean/std), as before the GN
    # base took Detectron's.
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
                       fc_out_channels=256, norm_cfg=norm_cfg),
        keypoint_roi_extractor=dict(
            roi_layer=dict(sampling_ratio=2), out_channels=channels),
        keypoint_head=dict(num_keypoints=5, in_channels=channels,
                           conv_out_channels=channels, norm_cfg=norm_cfg)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=300),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=300),
        rcnn=dict(max_per_img=50)))

train_cfg = dict(max_iters=400, val_interval=200)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=50),
    dict(type='DropBeforeEndLR', drops_before_end=(80, 20), gamma=0.1,
         by_epoch=False),
]
# The toy's LR 0.02 is for its batch of 8.
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=200))
log_processor = dict(window_size=20)
