# Table 1 (R101-FPN GN rows; the R50 rows are in schedule-study/): Mask R-CNN
# R101-FPN, GN everywhere, ImageNet pre-trained (stem and stage 1 frozen). 3x =
# 3 x 90k = 270k iterations at batch 16 (8 GPUs x 2 images); LR /10 at 210k and
# 250k (the last 60k and 20k).
_base_ = '../schedule-study/mask-rcnn_r50-pretrained_fpn_gn-all_3x_coco.py'
model = dict(
    backbone=dict(
        depth=101, init_cfg=dict(checkpoint='imagenet://resnet101_gn')))
