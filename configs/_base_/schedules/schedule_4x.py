# 4x = 4 x 90k = 360k iterations at batch 16; LR /10 at 300k and 340k.
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=360000)
