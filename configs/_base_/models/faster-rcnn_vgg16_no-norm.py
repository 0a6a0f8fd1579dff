# Faster R-CNN with a VGG-16 backbone and no normalization layer anywhere:
# the paper's "training without BN/GN" row (docs/recipe.md, "No normalization"),
# which asks whether a detector with no norm at all can still be trained
# from random init (it can, given a long enough schedule: ~11x).
# The original Faster R-CNN design: conv1_1-conv5_3 with ReLU, no pool5,
# one stride-16 512-channel map; RPN with 3 scales x 3 ratios on it; 7x7 RoI
# features (RoIAlign, as the paper's Detectron-era baselines) into fc6/fc7
# (2 x 4096 fc) and the box classifier/regressor. No neck, no FPN.
# Initialized for training from random init: MSRA (Kaiming fan_out) convs,
# Xavier fc6/fc7, normal 0.01/0.001 last layers (ScratchInit); nothing
# frozen. Pre-trained rows override the backbone and box-head init.
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'

scratch_init = dict(type='ScratchInit')

model = dict(
    backbone=dict(
        _delete_=True, type='VGG16NoNorm', frozen_stages=-1,
        init_cfg=scratch_init),
    neck=None,
    rpn_head=dict(
        in_channels=512,
        feat_channels=512,
        anchor_generator=dict(
            _delete_=True,
            type='AnchorGenerator',
            scales=[8, 16, 32],
            ratios=[0.5, 1.0, 2.0],
            strides=[16]),
        init_cfg=scratch_init),
    # On the whole RoI head; the box head's own default init (Xavier fc6/fc7,
    # normal fc_cls/fc_reg) then runs after it and agrees with it.
    roi_head=dict(
        init_cfg=scratch_init,
        bbox_roi_extractor=dict(
            _delete_=True,
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=512,
            featmap_strides=[16]),
        bbox_head=dict(
            type='Shared2FCBBoxHead',
            in_channels=512,
            fc_out_channels=4096,
            roi_feat_size=7)))
