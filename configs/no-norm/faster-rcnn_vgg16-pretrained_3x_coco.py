# No normalization: Faster R-CNN VGG-16, pre-trained, 3x.
_base_ = [
    '../_base_/models/faster-rcnn_vgg16_no-norm.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_3x.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        frozen_stages=2,
        init_cfg=dict(_delete_=True, type='Pretrained',
                      checkpoint='imagenet://vgg16')),
    roi_head=dict(
        bbox_head=dict(
            init_cfg=dict(type='PretrainedVGGFC',
                          checkpoint='imagenet://vgg16'))))
