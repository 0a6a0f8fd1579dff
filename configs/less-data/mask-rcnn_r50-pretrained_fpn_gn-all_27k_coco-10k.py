# Less data, 10k COCO images: Mask R-CNN R50-FPN GN, pre-trained, 27k iters.
_base_ = './mask-rcnn_r50-pretrained_fpn_gn-all_1x_coco-35k.py'
train_dataloader = dict(
    dataset=dict(ann_file='annotations/instances_train2017_10k.json'))

train_cfg = dict(max_iters=27000, val_interval=3000)
default_hooks = dict(checkpoint=dict(interval=3000))
