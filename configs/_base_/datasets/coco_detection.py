# COCO train2017 -> val2017 detection (boxes only) for the Faster R-CNN rows:
# single scale 800/1333 with flip, 2 images per GPU (MMDetection's base).
_base_ = 'mmdet::_base_/datasets/coco_detection.py'
