# Enhanced baselines (docs/recipe.md): Mask R-CNN R101-FPN GN + train aug (short
# side in [640, 800]), random init. 9x = 9 x 90k = 810k iterations at batch 16
# (8 GPUs x 2 images); LR /10 at 750k and 790k (the last 60k and 20k).
_base_ = './mask-rcnn_r50-scratch_fpn_gn-all_train-aug-9x_coco.py'
model = dict(backbone=dict(depth=101))
