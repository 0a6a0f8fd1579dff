# 1x = 90k iterations at batch 16; LR /10 at 60k and 80k. Short rows
# (less data, VOC) keep these drops at 2/3 and 8/9 of their max_iters.
_base_ = './schedule_paper-rule.py'
train_cfg = dict(max_iters=90000)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1000),
    dict(type='DropBeforeEndLR', fractions_before_end=(1 / 3, 1 / 9),
         gamma=0.1, by_epoch=False),
]
