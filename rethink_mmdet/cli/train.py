"""``tools/train.py``: MMDetection 3.3's training entry point, same flags."""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

from rethink_mmdet.datasets.validation import validate_config_datasets
from rethink_mmdet.engine.checkpointing import (CheckpointError,
                                                checkpoint_problem,
                                                choose_resume_checkpoint)
from rethink_mmdet.engine.schedule_scaling import (scale_schedule_to_batch,
                                                   total_batch_size)

from .common import (UsageError, build_runner, config_from_args,
                     parse_with_common_args)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision training')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the LR by total batch / auto_scale_lr.base_batch_size '
        'and an iteration-based schedule (iterations, warmup, LR drops) by '
        'the inverse, so the images seen stay the same')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CHECKPOINT, or without a value from the latest '
        'readable checkpoint in the work_dir')
    parser.add_argument(
        '--skip-data-check', action='store_true',
        help='start without checking the datasets first (see '
        'tools/misc/check_dataset.py)')
    return parse_with_common_args(parser, argv)


def configure(args: argparse.Namespace):
    """The config the Runner gets, with every command-line option applied."""
    cfg = config_from_args(args)
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper == 'AmpOptimWrapper':
            pass
        elif optim_wrapper != 'OptimWrapper':
            raise UsageError(
                f'--amp needs optim_wrapper.type OptimWrapper, but '
                f'{args.config} uses {optim_wrapper}')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        scale = cfg.get('auto_scale_lr')
        if not scale or 'base_batch_size' not in scale:
            raise UsageError(
                f'--auto-scale-lr needs auto_scale_lr.base_batch_size in '
                f'{args.config}')
        cfg.auto_scale_lr.enable = True
        if cfg.train_cfg.get('type') == 'IterBasedTrainLoop':
            # Images seen stay the paper's: iterations, warmup and LR drops
            # scale by base batch / batch (mmengine scales the LR).
            batch = total_batch_size(cfg)
            scaled = scale_schedule_to_batch(cfg, batch)
            print(f'--auto-scale-lr: total batch {batch} vs '
                  f'{scale.base_batch_size}: schedule x{scaled["factor"]:g}, '
                  f'max_iters={scaled["max_iters"]}', flush=True)
    if args.resume == 'auto':
        cfg.resume = True
        # mmengine would take last_checkpoint blindly, and start from
        # iteration 0 when it is damaged; this skips damaged checkpoints.
        # The chosen checkpoint has passed the same check already.
        cfg.load_from = (choose_resume_checkpoint(cfg.work_dir)
                         if osp.isdir(cfg.work_dir) else None)
    else:
        if args.resume is not None:
            cfg.resume = True
            cfg.load_from = args.resume
        _check_local_checkpoint(cfg.get('load_from'))
    return cfg


def _check_local_checkpoint(path: Optional[str]) -> None:
    """Fails now, not after the model is built, on a damaged load_from."""
    if path is None or '://' in path:
        return
    problem = checkpoint_problem(path)
    if problem is not None:
        raise CheckpointError(f'checkpoint {path}: {problem}')


def main(argv: Optional[Sequence[str]] = None):
    args = parse_args(argv)
    cfg = configure(args)
    if not args.skip_data_check:
        for warning in validate_config_datasets(cfg):
            print(f'warning: {warning}', file=sys.stderr)
    runner = build_runner(cfg)
    runner.train()
    return runner
