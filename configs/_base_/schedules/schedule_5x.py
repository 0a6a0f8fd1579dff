# 5x = 5 x 90k = 450000 iterations at batch 16; LR /10 at 390000 and 430000
# (the last 60k and 20k, docs/recipe.md).
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=450000)
