# Large model (docs/recipe.md: 50.9 box AP on val2017 with test-time aug, no
# external data): Cascade Mask R-CNN ResNeXt-152 32x8d FPN GN, random init,
# train aug. 9x = 9 x 90k = 810k iterations at batch 16 (8 GPUs x 2 images); LR
# /10 at 750k and 790k (the last 60k and 20k).
_base_ = [
    '../_base_/models/cascade-mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance_train-aug.py',
    '../_base_/schedules/schedule_9x.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(type='ResNeXt', depth=152, groups=32, base_width=8))
