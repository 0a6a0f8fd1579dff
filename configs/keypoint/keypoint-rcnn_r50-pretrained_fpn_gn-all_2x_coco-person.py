# Keypoint detection (docs/recipe.md, 'Experiments'), ImageNet pre-trained (stem
# and stage 1 frozen), on COCO person keypoints: the scratch row's
# counterpart at the same 2x = 180k iterations at batch 16, LR /10 at 120k
# and 160k (docs/recipe.md gives no keypoint schedule; see the scratch row).
_base_ = './keypoint-rcnn_r50-scratch_fpn_gn-all_2x_coco-person.py'
model = dict(backbone={{_base_.imagenet_backbone}})
