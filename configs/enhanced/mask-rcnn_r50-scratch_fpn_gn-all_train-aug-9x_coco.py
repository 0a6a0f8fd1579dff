# Enhanced baselines: Mask R-CNN R50-FPN GN, scratch, 9x + train aug.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance_train-aug.py',
    '../_base_/schedules/schedule_9x.py',
    '../_base_/default_runtime.py',
]
