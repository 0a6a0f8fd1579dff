# Extending (docs/extending.md): Mask R-CNN X101-32x4d FPN GN, scratch, 6x.
_base_ = '../schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'
model = dict(
    backbone=dict(type='ResNeXt', depth=101, groups=32, base_width=4))
