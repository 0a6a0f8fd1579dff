# 2x = 2 x 90k = 180000 iterations at batch 16; LR /10 at 120000 and 160000
# (the last 60k and 20k, docs/recipe.md).
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=180000)
