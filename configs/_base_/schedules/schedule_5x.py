# 5x = 5 x 90k = 450k iterations at batch 16; LR /10 at 390k and 430k.
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=450000)
