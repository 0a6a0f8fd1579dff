# Faster R-CNN VGG-16 without any norm layer, from scratch.
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
    # The box head's own init (Xavier fc6/fc7) runs after ScratchInit.
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
