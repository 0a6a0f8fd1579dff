# Less data, 35k COCO images: Mask R-CNN R50-FPN GN, scratch, 3x.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_3x.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(
    dataset=dict(ann_file='annotations/instances_train2017_35k.json'))
