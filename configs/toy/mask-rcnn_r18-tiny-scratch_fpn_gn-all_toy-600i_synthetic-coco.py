# The toy at half the schedule, for curves of several schedule lengths:
# 600 iterations at batch 8; the rule's drops stay 240 and 60 iterations
# before the end (360, 540), as the paper's stay 60k and 20k.
_base_ = './mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py'
train_cfg = dict(max_iters=600, val_interval=150)
default_hooks = dict(checkpoint=dict(interval=150))
