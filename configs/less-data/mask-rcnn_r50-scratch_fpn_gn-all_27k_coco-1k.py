# Less data, 1k COCO images: Mask R-CNN R50-FPN GN, scratch, 27k iters.
_base_ = './mask-rcnn_r50-scratch_fpn_gn-all_81k_coco-10k.py'
train_dataloader = dict(
    dataset=dict(ann_file='annotations/instances_train2017_1k.json'))

train_cfg = dict(max_iters=27000, val_interval=3000)
default_hooks = dict(checkpoint=dict(interval=3000))
