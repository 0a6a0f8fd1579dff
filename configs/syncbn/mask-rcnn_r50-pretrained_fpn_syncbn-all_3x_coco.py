# SyncBN rows (docs/recipe.md, claims 1 and 6): Mask R-CNN R50-FPN, SyncBN
# everywhere (statistics over the batch of 16), ImageNet pre-trained (stem and
# stage 1 frozen). 3x = 3 x 90k = 270k iterations at batch 16 (8 GPUs x 2
# images); LR /10 at 210k and 250k (the last 60k and 20k).
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_syncbn-all.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_3x.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone={{_base_.imagenet_backbone}})
