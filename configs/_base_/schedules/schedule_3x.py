# 3x = 3 x 90k = 270000 iterations at batch 16; LR /10 at 210000 and 250000
# (the last 60k and 20k, docs/recipe.md).
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=270000)
