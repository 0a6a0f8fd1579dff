# Mask R-CNN R50-FPN with GroupNorm(32) everywhere the paper puts a norm
# (docs/recipe.md): backbone stem, blocks and shortcuts, FPN lateral and output
# convs, the 4conv1fc box head and the mask head's 4 convs; the RPN head has
# none. Initialized for training from random init: MSRA (Kaiming fan_out)
# convs, norms 1/0, no zero-init of the blocks' last gamma, nothing frozen,
# norm statistics updated. Pre-trained rows use `imagenet_backbone`.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
scratch_init = dict(type='ScratchInit')
# A pre-trained row adds one line:
#     model = dict(backbone={{_base_.imagenet_backbone}})
# The imagenet:// checkpoint resolves to $RETHINK_IMAGENET_DIR/resnet50_gn.pth
# when that file exists (offline nodes), else to Detectron's GN ImageNet model.
# Stem and first stage frozen, as MMDetection's and Detectron's GN baselines.
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
    # On the whole RoI head: FCNMaskHead refuses an init_cfg of its own. The
    # box head's own init (Xavier fc, normal fc_cls/fc_reg) then re-applies
    # the usual init to its fc layers, as ScratchInit would.
    roi_head=dict(
        init_cfg=scratch_init,
        bbox_head=dict(
            type='Shared4Conv1FCBBoxHead',
            conv_out_channels=256,
            norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))
