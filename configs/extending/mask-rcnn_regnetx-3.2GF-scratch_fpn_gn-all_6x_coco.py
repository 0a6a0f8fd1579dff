# Extending (docs/extending.md): Mask R-CNN RegNetX-3.2GF FPN, GN everywhere,
# random init. RegNet takes `arch` instead of ResNet's `depth`, so the
# backbone is replaced (_delete_) and the scratch settings restated. GN has
# 16 groups: 432, one of the stage widths, is not divisible by 32.
# 6x = 6 x 90k = 540k iterations at batch 16 (8 GPUs x 2 images); LR /10 at
# 480k and 520k (the last 60k and 20k).
_base_ = '../schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'
norm_cfg = dict(type='GN', num_groups=16, requires_grad=True)
model = dict(
    backbone=dict(_delete_=True, type='RegNet', arch='regnetx_3.2gf',
                  frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False,
                  init_cfg={{_base_.scratch_init}}),
    neck=dict(in_channels=[96, 192, 432, 1008], norm_cfg=norm_cfg),
    roi_head=dict(bbox_head=dict(norm_cfg=norm_cfg),
                  mask_head=dict(norm_cfg=norm_cfg)))
