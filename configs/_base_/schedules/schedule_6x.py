# 6x = 6 x 90k = 540k iterations at batch 16; LR /10 at 480k and 520k.
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=540000)
