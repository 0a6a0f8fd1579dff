# Less data, 1k COCO images: Mask R-CNN R50-FPN GN, pre-trained, 9k iters.
_base_ = './mask-rcnn_r50-pretrained_fpn_gn-all_1x_coco-35k.py'
train_dataloader = dict(
    dataset=dict(ann_file='annotations/instances_train2017_1k.json'))

train_cfg = dict(max_iters=9000, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000))
