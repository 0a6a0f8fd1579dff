# 9x = 9 x 90k = 810k iterations at batch 16; LR /10 at 750k and 790k.
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=810000)
