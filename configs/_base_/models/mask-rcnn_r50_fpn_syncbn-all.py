# Mask R-CNN R50-FPN with SyncBN wherever the paper puts a norm, scratch.
_base_ = './mask-rcnn_r50_fpn_gn-all.py'

norm_cfg = dict(_delete_=True, type='AnySyncBN', requires_grad=True)
# Pre-trained rows: torchvision's BN ResNet-50, fine-tuned with SyncBN.
imagenet_backbone = dict(
    frozen_stages=1,
    init_cfg=dict(_delete_=True, type='Pretrained',
                  checkpoint='imagenet://resnet50'))

model = dict(
    # The input imagenet://resnet50 expects (torchvision's: RGB, ImageNet
    # mean/std; rethink_mmdet/models/imagenet_weights.py), for both inits.
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(norm_cfg=norm_cfg),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))
