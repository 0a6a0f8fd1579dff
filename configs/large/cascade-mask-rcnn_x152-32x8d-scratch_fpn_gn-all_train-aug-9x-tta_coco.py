# Large model: Cascade X152-32x8d FPN GN, scratch, 9x + train aug + TTA.
_base_ = [
    './cascade-mask-rcnn_x152-32x8d-scratch_fpn_gn-all_train-aug-9x_coco.py',
    '../_base_/datasets/coco_tta.py',
]
# Evaluation only: tools/test.py THIS_FILE CHECKPOINT --tta with the
# CHECKPOINT trained by
# cascade-mask-rcnn_x152-32x8d-scratch_fpn_gn-all_train-aug-9x_coco.py
test_evaluator = dict(metric=['bbox'])
