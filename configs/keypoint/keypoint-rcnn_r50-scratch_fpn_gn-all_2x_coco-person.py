# Keypoint detection (docs/recipe.md, 'Experiments': "Mask R-CNN keypoint variant,
# R50-FPN GN, scratch vs pre-trained (scratch catches up fast)"), random
# init, on COCO person keypoints. docs/recipe.md gives no keypoint schedule: both
# inits use the same 2x so "catches up fast" is tested at equal length (the
# periodic validations give the curves). 2x = 2 x 90k = 180k iterations at
# batch 16 (8 GPUs x 2 images); LR /10 at 120k and 160k (the last 60k/20k).
_base_ = [
    '../_base_/models/keypoint-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_person-keypoints.py',
    '../_base_/schedules/schedule_2x.py',
    '../_base_/default_runtime.py',
]
