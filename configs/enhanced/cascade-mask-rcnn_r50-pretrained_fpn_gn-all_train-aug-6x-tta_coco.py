# Enhanced baselines: Cascade R50-FPN GN, pre-trained, 6x + train aug + TTA.
_base_ = [
    './cascade-mask-rcnn_r50-pretrained_fpn_gn-all_train-aug-6x_coco.py',
    '../_base_/datasets/coco_tta.py',
]
# Evaluation only: tools/test.py THIS_FILE CHECKPOINT --tta with the
# CHECKPOINT trained by
# cascade-mask-rcnn_r50-pretrained_fpn_gn-all_train-aug-6x_coco.py
test_evaluator = dict(metric=['bbox'])
