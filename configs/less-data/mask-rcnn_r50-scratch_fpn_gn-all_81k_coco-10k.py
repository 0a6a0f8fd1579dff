# Less data, 10k COCO images: Mask R-CNN R50-FPN GN, scratch, 81k iters.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(
    dataset=dict(ann_file='annotations/instances_train2017_10k.json'))

train_cfg = dict(max_iters=81000, val_interval=9000)
default_hooks = dict(checkpoint=dict(interval=9000))
