# No normalization: Faster R-CNN VGG-16, scratch, 11x.
_base_ = [
    '../_base_/models/faster-rcnn_vgg16_no-norm.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_11x.py',
    '../_base_/default_runtime.py',
]
