# Enhanced baselines: Mask R-CNN R101-FPN GN, scratch, 9x + train aug.
_base_ = './mask-rcnn_r50-scratch_fpn_gn-all_train-aug-9x_coco.py'
model = dict(backbone=dict(depth=101))
