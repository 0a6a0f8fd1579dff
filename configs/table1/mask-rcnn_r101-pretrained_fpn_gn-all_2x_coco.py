# Table 1: Mask R-CNN R101-FPN GN, pre-trained, 2x.
_base_ = '../schedule-study/mask-rcnn_r50-pretrained_fpn_gn-all_2x_coco.py'
model = dict(
    backbone=dict(
        depth=101, init_cfg=dict(checkpoint='imagenet://resnet101_gn')))
