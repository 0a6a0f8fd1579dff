# 3x = 3 x 90k = 270k iterations at batch 16; LR /10 at 210k and 250k.
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=270000)
