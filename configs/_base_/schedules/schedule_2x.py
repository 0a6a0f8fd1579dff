# 2x = 2 x 90k = 180k iterations at batch 16; LR /10 at 120k and 160k.
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=180000)
