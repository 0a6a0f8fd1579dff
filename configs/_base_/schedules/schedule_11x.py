# 11x = 11 x 90k = 990000 iterations at batch 16; LR /10 at 930000 and 970000
# (the last 60k and 20k, docs/recipe.md).
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=990000)
