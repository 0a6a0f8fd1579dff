# Faster R-CNN R50-FPN GN, ImageNet pre-trained (stem and stage 1 frozen) (the
# row MMDetection's configs/scratch and configs/gn also have, to compare like
# with like). 3x = 3 x 90k = 270k iterations at batch 16 (8 GPUs x 2 images);
# LR /10 at 210k and 250k (the last 60k and 20k).
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_3x.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone={{_base_.imagenet_backbone}})
