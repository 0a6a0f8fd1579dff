# Extending (docs/extending.md): Mask R-CNN Swin-T FPN, LN + GN, scratch, 6x.
_base_ = '../schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'
model = dict(
    backbone=dict(_delete_=True, type='SwinTransformer', embed_dims=96,
                  depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24],
                  window_size=7, drop_path_rate=0.2, init_cfg=None),
    neck=dict(in_channels=[96, 192, 384, 768]))
