# 6x = 6 x 90k = 540000 iterations at batch 16; LR /10 at 480000 and 520000
# (the last 60k and 20k, docs/recipe.md).
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=540000)
