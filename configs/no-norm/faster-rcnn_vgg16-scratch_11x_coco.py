# Paper: "Rethinking ImageNet Pre-training", training without BN/GN
# (docs/recipe.md, "No normalization"): Faster R-CNN VGG-16, no norm layer,
# from random init (MSRA), the row that catches up with pre-training at ~11x.
# Schedule: 11x = 11 x 90k = 990000 iterations at batch 16 (8 GPUs x 2),
# LR /10 at 930000 and 970000; lr 0.02 with 1000-iteration warmup, as every
# row. docs/recipe.md gives no special LR for norm-free training; a smaller LR or
# a longer warmup is a common remedy if it diverges early, not a paper fact.
_base_ = [
    '../_base_/models/faster-rcnn_vgg16_no-norm.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_11x.py',
    '../_base_/default_runtime.py',
]
