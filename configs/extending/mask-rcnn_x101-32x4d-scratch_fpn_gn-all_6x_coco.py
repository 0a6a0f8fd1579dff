# Extending (docs/extending.md): Mask R-CNN ResNeXt-101 32x4d FPN, GN
# everywhere, random init: the R50 6x scratch row with another backbone.
# ResNeXt is a ResNet subclass, so the base's GN, scratch init, nothing
# frozen and norm_eval=False carry over. 6x = 6 x 90k = 540k iterations at
# batch 16 (8 GPUs x 2 images); LR /10 at 480k and 520k (the last 60k/20k).
_base_ = '../schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'
model = dict(
    backbone=dict(type='ResNeXt', depth=101, groups=32, base_width=4))
