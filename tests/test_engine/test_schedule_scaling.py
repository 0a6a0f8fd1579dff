import pytest
from mmengine.config import Config

from rethink_mmdet.cli import train as train_cli
from rethink_mmdet.engine.schedule_scaling import (
    scale_schedule_to_batch,
    total_batch_size,
)
from rethink_mmdet.engine.schedulers import drop_points
from rethink_mmdet.testing import TOY_CONFIG, config_path


def _nine_x():
    return Config.fromfile(config_path('_base_/schedules/schedule_9x.py'))


def test_detectron2_9x_at_batch_64():
    # docs/recipe.md: detectron2's 9x at batch 64 is 202.5k iterations with
    # drops at 187.5k and 197.5k (and lr 0.08, which mmengine scales).
    cfg = _nine_x()
    scaled = scale_schedule_to_batch(cfg, 64)
    assert scaled == dict(factor=0.25, max_iters=202500)
    warmup, rule = cfg.param_scheduler
    assert warmup['end'] == 250
    assert drop_points(cfg.train_cfg.max_iters,
                       rule['drops_before_end']) == [187500, 197500]
    assert cfg.train_cfg.val_interval == 30000 // 4


def test_batch_16_is_unchanged():
    cfg = _nine_x()
    assert scale_schedule_to_batch(cfg, 16) == dict(factor=1.0,
                                                    max_iters=810000)
    assert cfg.param_scheduler[0]['end'] == 1000


def test_world_size_from_the_launcher(monkeypatch):
    cfg = Config(dict(launcher='pytorch',
                      train_dataloader=dict(batch_size=2)))
    monkeypatch.setenv('WORLD_SIZE', '32')
    assert total_batch_size(cfg) == 64
    cfg.launcher = 'none'
    assert total_batch_size(cfg) == 2


def test_auto_scale_lr_flag_scales_schedule_and_enables_lr_scaling(
        monkeypatch):
    monkeypatch.setenv('WORLD_SIZE', '1')
    args = train_cli.parse_args([TOY_CONFIG, '--auto-scale-lr',
                                 '--launcher', 'pytorch'])
    cfg = train_cli.configure(args)
    # The toy config: batch 8 per process, base batch 8.
    assert cfg.auto_scale_lr.enable
    assert cfg.train_cfg.max_iters == 1200
    monkeypatch.setenv('WORLD_SIZE', '2')
    cfg = train_cli.configure(args)
    assert cfg.train_cfg.max_iters == 600
    assert cfg.param_scheduler[1]['drops_before_end'] == (120, 30)


def test_epoch_based_schedules_are_refused():
    cfg = Config(dict(train_cfg=dict(type='EpochBasedTrainLoop'),
                      auto_scale_lr=dict(base_batch_size=16)))
    with pytest.raises(ValueError, match='iteration-based'):
        scale_schedule_to_batch(cfg, 32)
