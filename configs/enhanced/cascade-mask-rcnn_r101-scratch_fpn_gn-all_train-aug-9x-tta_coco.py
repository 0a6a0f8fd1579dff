# Enhanced baselines (docs/recipe.md): + test-time multi-scale and flip augmentation
# on the R101-FPN GN Cascade Mask R-CNN with train aug, random init (9x).
# Trains exactly as
# cascade-mask-rcnn_r101-scratch_fpn_gn-all_train-aug-9x_coco.py; evaluate with
# tools/test.py CONFIG CHECKPOINT --tta (box AP: MMDetection has no mask TTA).
_base_ = [
    './cascade-mask-rcnn_r101-scratch_fpn_gn-all_train-aug-9x_coco.py',
    '../_base_/datasets/coco_tta.py',
]
test_evaluator = dict(metric=['bbox'])
