# Keypoint R-CNN R50-FPN GN: the GN base with a keypoint branch.
_base_ = './mask-rcnn_r50_fpn_gn-all.py'

model = dict(
    roi_head=dict(
        type='KeypointRoIHead',
        bbox_head=dict(num_classes=1),
        mask_roi_extractor=None,
        mask_head=None,
        keypoint_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0,
                           aligned=True),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        keypoint_head=dict(
            type='KeypointHead',
            num_keypoints=17,
            in_channels=256,
            roi_feat_size=14,
            num_convs=8,
            conv_out_channels=512,
            heatmap_size=56,
            norm_cfg={{_base_.norm_cfg}})))
