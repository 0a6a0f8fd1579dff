# Enhanced baselines (docs/recipe.md): Mask R-CNN R101-FPN GN + train aug (short
# side in [640, 800]), ImageNet pre-trained (stem and stage 1 frozen). 6x = 6 x
# 90k = 540k iterations at batch 16 (8 GPUs x 2 images); LR /10 at 480k and
# 520k (the last 60k and 20k).
_base_ = './mask-rcnn_r50-pretrained_fpn_gn-all_train-aug-6x_coco.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(checkpoint='imagenet://resnet101_gn')))
