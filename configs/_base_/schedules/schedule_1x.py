# 1x = 90k iterations at batch 16 with the standard drops at 60k and 80k
# (docs/recipe.md): a third and a ninth of the schedule before its end, the only
# schedule where the "last 60k / last 20k" rule does not apply. Rows with
# other short schedules (less data, VOC) keep this shape by changing only
# max_iters.
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=90000)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1000),
    dict(type='DropBeforeEndLR', fractions_before_end=(1 / 3, 1 / 9),
         gamma=0.1, by_epoch=False),
]
