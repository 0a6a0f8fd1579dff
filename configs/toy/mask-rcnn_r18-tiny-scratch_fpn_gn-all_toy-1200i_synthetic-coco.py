# Toy Mask R-CNN for the CPU demo and tests: the paper configs' model,
# schedule and runtime bases with every size shrunk, trained from scratch on
# the synthetic shapes (make_synthetic_coco.py).
#   model: ResNet-18 at 1/2 width (32-256 channels), FPN and heads at 32
#          channels (on 2 CPU cores the RoI heads, not the backbone, take
#          most of an iteration), GN with 8 groups (too few channels for 32),
#          anchors half the size for 128 px images.
#   schedule: the paper's rule scaled to the toy: 1200 iterations at batch 8
#          (9.6k images seen, ~5 epochs), LR /10 at the last 240 and 60
#          iterations (960, 1140), 100 warmup iterations.
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
        # A fixed 2x2 sampling grid per bin (Detectron's): mmcv's adaptive
        # grid makes RoIAlign most of a CPU iteration.
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
# The toy's LR 0.02 is for its batch of 8 (--auto-scale-lr scales from here).
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=300))
log_processor = dict(window_size=20)
