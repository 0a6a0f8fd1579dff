# Enhanced baselines (docs/recipe.md): Mask R-CNN R50-FPN GN + train aug (short side
# in [640, 800]), random init. 9x = 9 x 90k = 810k iterations at batch 16 (8
# GPUs x 2 images); LR /10 at 750k and 790k (the last 60k and 20k).
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance_train-aug.py',
    '../_base_/schedules/schedule_9x.py',
    '../_base_/default_runtime.py',
]
