# 1x = 90k iterations at batch 16 with the standard drops at 60k and 80k
# (RECIPE.md), i.e. 30k and 10k before the end: the only schedule where the
# "last 60k / last 20k" rule does not apply.
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=90000)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1000),
    dict(type='DropBeforeEndLR', drops_before_end=(30000, 10000), gamma=0.1,
         by_epoch=False),
]
