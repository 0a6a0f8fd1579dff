# Enhanced baselines: Mask R-CNN R50-FPN GN, pre-trained, 6x + train aug.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance_train-aug.py',
    '../_base_/schedules/schedule_6x.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone={{_base_.imagenet_backbone}})
