import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import PARAM_SCHEDULERS

from rethink_mmdet.engine.schedulers import (
    DropBeforeEndLR,
    drop_points,
    rule_drop_points,
)
from rethink_mmdet.testing import config_path


@pytest.mark.parametrize('schedule,max_iters,drops', [
    ('schedule_1x.py', 90000, [60000, 80000]),
    ('schedule_2x.py', 180000, [120000, 160000]),
    ('schedule_3x.py', 270000, [210000, 250000]),
    ('schedule_6x.py', 540000, [480000, 520000]),
    ('schedule_9x.py', 810000, [750000, 790000]),
    ('schedule_11x.py', 990000, [930000, 970000]),
])
def test_schedule_bases_follow_the_paper(schedule, max_iters, drops):
    # Expected values are docs/recipe.md's, not the config's.
    cfg = Config.fromfile(config_path(f'_base_/schedules/{schedule}'))
    assert cfg.train_cfg.max_iters == max_iters
    rule = cfg.param_scheduler[1]
    assert rule_drop_points(rule, max_iters) == drops


def _lr_trace(schedulers_cfg, max_iters, base_lr=0.02):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = OptimWrapper(torch.optim.SGD([param], lr=base_lr))
    schedulers = []
    for cfg in schedulers_cfg:
        cfg = dict(cfg, end=cfg.get('end', max_iters))
        schedulers.append(PARAM_SCHEDULERS.build(
            cfg, default_args=dict(optimizer=optimizer)))
    lrs = []
    for _ in range(max_iters):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return lrs


def test_lr_at_chosen_iterations():
    # A 2x-like schedule scaled by 1/1000: 180 iterations, drops 60 and 20
    # before the end, warmup 10 iterations from 1e-3.
    lrs = _lr_trace([
        dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
             end=10),
        dict(type='DropBeforeEndLR', drops_before_end=(60, 20),
             by_epoch=False),
    ], max_iters=180)
    assert lrs[0] == pytest.approx(0.02 * 1e-3)
    # mmengine's LinearLR reaches the full LR at step end - 1.
    assert lrs[5] == pytest.approx(0.02 * (1e-3 + (1 - 1e-3) * 5 / 9))
    assert lrs[10] == pytest.approx(0.02)
    assert lrs[119] == pytest.approx(0.02)
    assert lrs[120] == pytest.approx(0.002)
    assert lrs[159] == pytest.approx(0.002)
    assert lrs[160] == pytest.approx(0.0002)
    assert lrs[179] == pytest.approx(0.0002)


def test_drops_need_a_long_enough_schedule():
    with pytest.raises(ValueError, match='ends at 50000'):
        drop_points(50000, (60000, 20000))


def test_rule_is_iteration_based():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = OptimWrapper(torch.optim.SGD([param], lr=0.1))
    with pytest.raises(ValueError, match='by_epoch=False'):
        DropBeforeEndLR(optimizer, (2, 1), end=10, by_epoch=True)


def test_fractions_keep_the_1x_shape_at_any_length():
    rule = dict(fractions_before_end=(1 / 3, 1 / 9))
    assert rule_drop_points(rule, 90000) == [60000, 80000]
    assert rule_drop_points(rule, 27000) == [18000, 24000]
    lrs = _lr_trace([dict(type='DropBeforeEndLR', by_epoch=False, **rule)],
                    max_iters=90)
    assert lrs[59] == pytest.approx(0.02) and lrs[60] == pytest.approx(0.002)
    assert lrs[80] == pytest.approx(0.0002)


def test_exactly_one_way_to_state_the_drops():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = OptimWrapper(torch.optim.SGD([param], lr=0.1))
    with pytest.raises(ValueError, match='exactly one'):
        DropBeforeEndLR(optimizer, (2, 1), fractions_before_end=(0.5, ),
                        end=10)
    with pytest.raises(ValueError, match='exactly one'):
        DropBeforeEndLR(optimizer, end=10)
