# Less data, PASCAL VOC: Faster R-CNN R50-FPN GN, scratch, 81k iterations.
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/voc0712-train_voc12-val.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py',
]
model = dict(roi_head=dict(bbox_head=dict(num_classes=20)))

train_cfg = dict(max_iters=81000, val_interval=9000)
default_hooks = dict(checkpoint=dict(interval=9000))
