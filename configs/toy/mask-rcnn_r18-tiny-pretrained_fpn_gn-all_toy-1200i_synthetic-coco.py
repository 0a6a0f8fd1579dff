# Toy, from the toy pre-training (docs/configs.md): 1200 iterations.
_base_ = './mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py'
model = dict(
    backbone=dict(
        frozen_stages=1,
        init_cfg=dict(
            _delete_=True, type='Pretrained',
            checkpoint='imagenet://toy-resnet18_gn_synthetic-shapes')))
