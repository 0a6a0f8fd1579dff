import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

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


def test_paper_batch_on_one_gpu_recipe_gives_the_paper_lr_and_schedule():
    # docs/benchmarks.md, "The paper's batch on one GPU": the 6x scratch
    # row, 16 images per iteration in one process, --auto-scale-lr.
    # docs/recipe.md: lr 0.02 at batch 16, 540k iterations (6 x 90k), LR
    # /10 at the last 60k and 20k, 1000 warmup iterations.
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner

    from rethink_mmdet.testing import config_path
    row = config_path(
        'schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py')
    args = train_cli.parse_args([
        row, '--auto-scale-lr', '--cfg-options',
        'train_dataloader.batch_size=16', 'train_dataloader.num_workers=6'])
    cfg = train_cli.configure(args)
    assert total_batch_size(cfg) == 16
    assert cfg.train_cfg.max_iters == 540000
    warmup, rule = cfg.param_scheduler
    assert (warmup['begin'], warmup['end']) == (0, 1000)
    assert drop_points(cfg.train_cfg.max_iters,
                       rule['drops_before_end']) == [480000, 520000]
    assert cfg.auto_scale_lr.enable
    # The LR as mmengine's Runner scales it for this job (one process).
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)

    class Job:
        _train_dataloader = cfg.train_dataloader
        world_size = 1
        param_schedulers = cfg.param_scheduler
        logger = MMLogger.get_current_instance()

    Runner.scale_lr(Job(), wrapper, cfg.auto_scale_lr)
    assert wrapper.optimizer.param_groups[0]['lr'] == pytest.approx(0.02)
    # At 2 images per process the same flags keep the images seen.
    args.cfg_options['train_dataloader.batch_size'] = 2
    cfg = train_cli.configure(args)
    assert cfg.train_cfg.max_iters == 8 * 540000
