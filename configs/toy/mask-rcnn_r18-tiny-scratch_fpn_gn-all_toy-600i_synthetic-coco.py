# Toy (docs/configs.md): scratch, 600 iterations.
_base_ = './mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py'
train_cfg = dict(max_iters=600, val_interval=150)
default_hooks = dict(checkpoint=dict(interval=150))
