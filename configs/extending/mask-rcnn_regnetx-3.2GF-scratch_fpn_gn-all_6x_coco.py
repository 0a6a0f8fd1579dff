# Extending (docs/extending.md): Mask R-CNN RegNetX-3.2GF FPN GN, scratch, 6x.
_base_ = '../schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'
# 16 groups: 432, one of the stage widths, is not divisible by 32.
norm_cfg = dict(type='GN', num_groups=16, requires_grad=True)
# RegNet takes arch, not depth: a new backbone with the scratch settings.
model = dict(
    backbone=dict(_delete_=True, type='RegNet', arch='regnetx_3.2gf',
                  frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False,
                  init_cfg={{_base_.scratch_init}}),
    neck=dict(in_channels=[96, 192, 432, 1008], norm_cfg=norm_cfg),
    roi_head=dict(bbox_head=dict(norm_cfg=norm_cfg),
                  mask_head=dict(norm_cfg=norm_cfg)))
