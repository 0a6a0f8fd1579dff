# 4x = 4 x 90k = 360000 iterations at batch 16; LR /10 at 300000 and 340000
# (the last 60k and 20k, docs/recipe.md).
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=360000)
