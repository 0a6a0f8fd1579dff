# Keypoint R-CNN (Mask R-CNN's keypoint variant, He et al. 2017 Sec. 5):
# the GN Mask R-CNN base with the mask branch replaced by the keypoint
# branch (docs/recipe.md, 'Keypoint detection'). RoIAlign to 14x14 (aligned,
# adaptive sampling, as Detectron's), 8 conv3x3 of 512 channels with the
# base's GN(32), deconvolution and 2x upsampling to 56x56 heatmaps for COCO's
# 17 person keypoints; one class (person). Same init as the base: scratch
# (ScratchInit on the whole RoI head), or `imagenet_backbone` for the
# pre-trained rows.
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
