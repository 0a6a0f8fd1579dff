# Toy study (docs/study.md): pre-trained (stem, stage 1 frozen), 1000 iters.
_base_ = ('./faster-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1000i_'
          'synthetic-coco.py')
model = dict(
    backbone=dict(
        frozen_stages=1,
        init_cfg=dict(
            _delete_=True, type='Pretrained',
            checkpoint='imagenet://toy-resnet18_gn_synthetic-shapes')))
