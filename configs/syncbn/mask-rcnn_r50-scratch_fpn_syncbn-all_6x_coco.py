# SyncBN baselines: Mask R-CNN R50-FPN SyncBN, scratch, 6x.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_syncbn-all.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_6x.py',
    '../_base_/default_runtime.py',
]
