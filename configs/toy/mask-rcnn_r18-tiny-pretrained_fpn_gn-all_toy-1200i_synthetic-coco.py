# The toy Mask R-CNN fine-tuned from a pre-trained backbone instead of random
# init, as the paper's pre-trained rows (docs/recipe.md): the backbone is loaded by
# the `imagenet` init policy, stem and stage 1 frozen (as the model base's
# `imagenet_backbone`); neck and heads keep the scratch (MSRA) init.
# The checkpoint is the toy study's stand-in for ImageNet (tools/study.py
# pre-trains classifier_r18-tiny_gn_toy-1500i_synthetic-shapes.py and writes
# $RETHINK_IMAGENET_DIR/toy-resnet18_gn_synthetic-shapes.pth).
_base_ = './mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py'
model = dict(
    backbone=dict(
        frozen_stages=1,
        init_cfg=dict(
            _delete_=True, type='Pretrained',
            checkpoint='imagenet://toy-resnet18_gn_synthetic-shapes')))
