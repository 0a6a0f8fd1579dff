# Schedule study (docs/recipe.md, 'Experiments'): Mask R-CNN R50-FPN, GN everywhere,
# ImageNet pre-trained (stem and stage 1 frozen). 2x = 2 x 90k = 180k
# iterations at batch 16 (8 GPUs x 2 images); LR /10 at 120k and 160k (the last
# 60k and 20k).
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_2x.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone={{_base_.imagenet_backbone}})
