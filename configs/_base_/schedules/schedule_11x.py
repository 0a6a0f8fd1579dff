# 11x = 11 x 90k = 990k iterations at batch 16; LR /10 at 930k and 970k.
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=990000)
