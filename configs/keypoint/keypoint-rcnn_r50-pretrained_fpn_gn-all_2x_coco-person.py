# Keypoint detection: Keypoint R-CNN R50-FPN GN, pre-trained, 2x.
_base_ = './keypoint-rcnn_r50-scratch_fpn_gn-all_2x_coco-person.py'
model = dict(backbone={{_base_.imagenet_backbone}})
