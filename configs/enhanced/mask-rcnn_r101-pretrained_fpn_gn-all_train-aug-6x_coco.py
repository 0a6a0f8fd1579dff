# Enhanced baselines: Mask R-CNN R101-FPN GN, pre-trained, 6x + train aug.
_base_ = './mask-rcnn_r50-pretrained_fpn_gn-all_train-aug-6x_coco.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(checkpoint='imagenet://resnet101_gn')))
