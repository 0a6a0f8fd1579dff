# Enhanced baselines (docs/recipe.md): Cascade Mask R-CNN R50-FPN GN + train aug
# (short side in [640, 800]), ImageNet pre-trained (stem and stage 1 frozen).
# 6x = 6 x 90k = 540k iterations at batch 16 (8 GPUs x 2 images); LR /10 at
# 480k and 520k (the last 60k and 20k).
_base_ = [
    '../_base_/models/cascade-mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance_train-aug.py',
    '../_base_/schedules/schedule_6x.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone={{_base_.imagenet_backbone}})
