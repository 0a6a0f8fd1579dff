# PASCAL VOC (He et al. 2019, less data; docs/recipe.md claim 4), pre-trained:
# R50-FPN GN Faster R-CNN fine-tuned from ImageNet (stem and stage 1 frozen),
# trained on VOC2007 trainval + VOC2012 train (10728 images), evaluated on
# VOC2012 val by VOCMetric mAP@0.5, area AP (voc0712-train_voc12-val.py).
# Schedule, our choice (docs/recipe.md gives none for VOC): the rule of the COCO
# less-data rows (configs/less-data/: pre-trained ~40 epochs, scratch 3x the
# pre-trained iterations). 10.7k images is the size of the 10k COCO subset,
# so the same lengths:
#   27k iterations x 16 = 432k images = 40 epochs; LR /10 at 18k and 24k
#   (1x's shape: a third and a ninth before the end). mmdet's and Detectron's
#   pre-trained VOC schedule is shorter: 18k iterations on 07+12 trainval
#   (16.5k images, 17 epochs). Evaluated every 3k iterations.
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/voc0712-train_voc12-val.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone={{_base_.imagenet_backbone}},
    roi_head=dict(bbox_head=dict(num_classes=20)))

train_cfg = dict(max_iters=27000, val_interval=3000)
default_hooks = dict(checkpoint=dict(interval=3000))
