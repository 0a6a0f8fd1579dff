# Schedule study (Fig. 1): Mask R-CNN R50-FPN GN, pre-trained, 2x.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_2x.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone={{_base_.imagenet_backbone}})
