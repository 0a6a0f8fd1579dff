# Mask R-CNN R50-FPN with GN(32) wherever the paper puts a norm, scratch.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

# GN that stays in bf16/fp16 under --amp (CUDA autocast would run GN in
# fp32); outside autocast it is nn.GroupNorm, same weights
# (rethink_mmdet/models/layers/autocast_group_norm.py).
norm_cfg = dict(type='AutocastGN', num_groups=32, requires_grad=True)
scratch_init = dict(type='ScratchInit')
# A pre-trained row adds model = dict(backbone={{_base_.imagenet_backbone}}):
# ImageNet weights, stem and stage 1 frozen (docs/configs.md).
imagenet_backbone = dict(
    frozen_stages=1,
    init_cfg=dict(_delete_=True, type='Pretrained',
                  checkpoint='imagenet://resnet50_gn'))

model = dict(
    # The input imagenet://resnet50_gn expects (Detectron's: BGR, mean only;
    # rethink_mmdet/models/imagenet_weights.py), for both inits.
    data_preprocessor=dict(mean=[103.53, 116.28, 123.675],
                           std=[1.0, 1.0, 1.0], bgr_to_rgb=False),
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        zero_init_residual=False,
        init_cfg=dict(_delete_=True, **scratch_init)),
    neck=dict(norm_cfg=norm_cfg, init_cfg=scratch_init),
    rpn_head=dict(init_cfg=scratch_init),
    # On the whole RoI head: FCNMaskHead refuses an init_cfg of its own.
    roi_head=dict(
        init_cfg=scratch_init,
        bbox_head=dict(
            type='Shared4Conv1FCBBoxHead',
            conv_out_channels=256,
            norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))
