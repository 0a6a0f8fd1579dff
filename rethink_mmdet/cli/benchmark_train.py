"""``tools/analysis_tools/benchmark_train.py``: training-step time and
memory of a config, side by side with stock MMDetection's."""
import argparse
import logging
import os.path as osp
import tempfile
from typing import Optional, Sequence

from mmengine.config import DictAction

from rethink_mmdet.runner import UsageError

STOCK = 'mmdet::scratch/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Times the training step (forward, backward, optimizer; '
        'without and with data loading; median after warm-up) and the peak '
        'memory of CONFIG and, in the same process, of --vs, on synthetic '
        'COCO data, and prints the ratio.')
    parser.add_argument('config', help='config file (mmdet::REL allowed)')
    parser.add_argument(
        '--vs', metavar='MMDET_CONFIG', nargs='?', const=STOCK,
        help=f'config to compare with (without a value: {STOCK})')
    parser.add_argument(
        '--input-size', type=int, nargs='+', metavar='SIDE',
        help='train Resize scale: one side (square, e.g. 320 on a CPU) or '
        'LONG SHORT (default: the configs\' 1333 800)')
    parser.add_argument('--batch-size', type=int, default=2,
                        help='images per step (default: 2, the paper\'s '
                        'per-GPU batch)')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (AmpOptimWrapper)')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--iters', type=int, default=10,
                        help='recorded steps per config and mode')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='overrides for every compared config, e.g. '
        'model.train_cfg.rcnn.sampler.num=128 (key=value)')
    parser.add_argument('--data-root', help='synthetic COCO data (default: '
                        'generated into a temporary directory)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> list:
    args = parse_args(argv)
    if args.input_size is not None and len(args.input_size) > 2:
        raise UsageError(f'--input-size takes 1 or 2 values, got '
                         f'{args.input_size}')
    if args.input_size is not None and len(args.input_size) == 1:
        args.input_size *= 2
    for name in ('batch_size', 'iters'):
        if getattr(args, name) < 1:
            raise UsageError(f'--{name.replace("_", "-")} must be >= 1')
    if args.warmup < 0:
        raise UsageError('--warmup must be >= 0')
    import torch
    import rethink_mmdet  # noqa: F401
    from mmengine.logging import MMLogger
    from rethink_mmdet.benchmarks.train_speed import (compare, format_rows,
                                                      resolve_config)
    from rethink_mmdet.datasets.synthetic_coco import make_synthetic_coco
    configs = [args.config] + ([args.vs] if args.vs else [])
    for config in configs:
        resolve_config(config)  # a missing file fails before any work
    if args.amp and not torch.cuda.is_available():
        raise UsageError('--amp needs a GPU (torch.cuda.is_available() is '
                         'False)')
    with tempfile.TemporaryDirectory() as tmp:
        data_root = args.data_root
        if data_root is None:
            data_root = osp.join(tmp, 'synthetic_coco')
            # Enough images that step+data never waits on a reshuffle.
            make_synthetic_coco(data_root, num_train=64, num_val=4, seed=0)
        MMLogger.get_current_instance().setLevel(logging.WARNING)
        rows = compare(configs, data_root, args.input_size, args.batch_size,
                       args.amp, args.warmup, args.iters, args.cfg_options)
    device = (torch.cuda.get_device_name() if torch.cuda.is_available()
              else f'CPU ({torch.get_num_threads()} threads)')
    print(format_rows(rows, device + (', AMP' if args.amp else '')
                      + f', batch {args.batch_size}, input '
                      f'{args.input_size or "1333x800 (config)"}'))
    return rows
