# 9x = 9 x 90k = 810000 iterations at batch 16; LR /10 at 750000 and 790000
# (the last 60k and 20k, docs/recipe.md).
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=810000)
