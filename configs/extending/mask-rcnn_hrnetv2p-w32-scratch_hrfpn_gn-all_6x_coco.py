# Extending (docs/extending.md): Mask R-CNN HRNetV2p-W32 HRFPN GN, scratch, 6x.
_base_ = '../schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'
widths = (32, 64, 128, 256)
# mmdet's HRNetV2p-W32: stage n has n branches, in 1, 1, 4, 3 modules.
stages = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                num_blocks=(4, ), num_channels=(64, )),
    **{f'stage{n}': dict(num_modules=m, num_branches=n, block='BASIC',
                         num_blocks=(4, ) * n, num_channels=widths[:n])
       for n, m in ((2, 1), (3, 4), (4, 3))})
model = dict(
    backbone=dict(_delete_=True, type='HRNet', extra=stages, norm_eval=False,
                  norm_cfg={{_base_.norm_cfg}},
                  init_cfg={{_base_.scratch_init}}),
    # mmdet's HRFPN ignores norm_cfg.
    neck=dict(_delete_=True, type='HRFPNWithNorm', in_channels=list(widths),
              out_channels=256, norm_cfg={{_base_.norm_cfg}},
              init_cfg={{_base_.scratch_init}}))
