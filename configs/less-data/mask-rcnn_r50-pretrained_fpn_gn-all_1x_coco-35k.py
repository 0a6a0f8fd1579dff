# Less data, 35k COCO images: Mask R-CNN R50-FPN GN, pre-trained, 1x.
_base_ = '../schedule-study/mask-rcnn_r50-pretrained_fpn_gn-all_1x_coco.py'
train_dataloader = dict(
    dataset=dict(ann_file='annotations/instances_train2017_35k.json'))
