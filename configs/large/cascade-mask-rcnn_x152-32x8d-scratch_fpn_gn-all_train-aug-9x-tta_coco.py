# Large model (docs/recipe.md: 50.9 box AP on val2017, no external data): the
# ResNeXt-152 32x8d Cascade Mask R-CNN GN from scratch (9x, train aug) with
# test-time aug. Trains exactly as
# cascade-mask-rcnn_x152-32x8d-scratch_fpn_gn-all_train-aug-9x_coco.py;
# evaluate with tools/test.py CONFIG CHECKPOINT --tta (box AP).
_base_ = [
    './cascade-mask-rcnn_x152-32x8d-scratch_fpn_gn-all_train-aug-9x_coco.py',
    '../_base_/datasets/coco_tta.py',
]
test_evaluator = dict(metric=['bbox'])
