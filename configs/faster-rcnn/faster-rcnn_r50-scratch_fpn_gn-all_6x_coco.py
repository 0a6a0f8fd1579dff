# Faster R-CNN R50-FPN GN, scratch, 6x (MMDetection's scratch row).
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_6x.py',
    '../_base_/default_runtime.py',
]
