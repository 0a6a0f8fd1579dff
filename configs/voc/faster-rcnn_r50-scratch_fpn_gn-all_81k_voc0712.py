# PASCAL VOC (He et al. 2019, less data; docs/recipe.md claim 4), scratch:
# R50-FPN GN Faster R-CNN from random init, trained on VOC2007 trainval +
# VOC2012 train (10728 images), evaluated on VOC2012 val by VOCMetric
# mAP@0.5, area AP (voc0712-train_voc12-val.py).
# Schedule, our choice (docs/recipe.md gives none for VOC): the rule of the COCO
# less-data rows (configs/less-data/: pre-trained ~40 epochs, scratch 3x the
# pre-trained iterations). 10.7k images is the size of the 10k COCO subset,
# so the same lengths:
#   81k iterations (3 x 27k) x 16 = 1.3M images = 121 epochs; LR /10 at 54k
#   and 72k (1x's shape: a third and a ninth before the end; the paper's
#   last-60k/20k rule would drop at 21k). Evaluated every 9k iterations.
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/voc0712-train_voc12-val.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py',
]
model = dict(roi_head=dict(bbox_head=dict(num_classes=20)))

train_cfg = dict(max_iters=81000, val_interval=9000)
default_hooks = dict(checkpoint=dict(interval=9000))
