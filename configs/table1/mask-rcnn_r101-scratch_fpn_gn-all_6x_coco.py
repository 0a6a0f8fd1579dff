# Table 1: Mask R-CNN R101-FPN GN, scratch, 6x.
_base_ = '../schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'
model = dict(backbone=dict(depth=101))
