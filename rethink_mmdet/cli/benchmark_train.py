"""``tools/analysis_tools/benchmark_train.py``: training-step time and
memory of a config, side by side with stock MMDetection's, in the step
modes a user can pick (fp32, AMP fp16/bf16, and the speed switches
channels-last, fixed-shapes, compile, joined by +; any batch), and each
against stock's default (fp32, batch 2)."""
import argparse
import json
import logging
import math
import os.path as osp
import tempfile
from typing import Optional, Sequence

from mmengine.config import DictAction

from rethink_mmdet.runner import UsageError

STOCK = 'mmdet::scratch/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'
#: What --vs is measured against besides each mode: stock's default.
BASELINE = ('fp32', 2)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Times the training step (forward, backward, optimizer; '
        'without and with data loading; median after warm-up) and the peak '
        'memory of CONFIG and, in the same process, of --vs, on synthetic '
        'COCO data, in each --modes, and prints the ratios.')
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
                        'per-GPU batch; 16: a whole paper batch on one GPU)')
    parser.add_argument(
        '--modes', nargs='+', default=['fp32'], metavar='MODE',
        help='step modes, each timed in turn: a precision (fp32, amp-fp16, '
        'amp-bf16; default fp32) and/or speed switches (channels-last, '
        'fixed-shapes, compile) joined by +, e.g. '
        'amp-bf16+channels-last+fixed-shapes (default: fp32). amp-fp16 '
        'needs a GPU; on a CPU it is skipped with a message. With --vs, '
        'the --vs config is also timed at fp32 batch 2 (unless a mode '
        'already is) and every row gets its images/s over that baseline')
    parser.add_argument('--amp', action='store_true',
                        help='the same as --modes amp-fp16')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--iters', type=int, default=10,
                        help='recorded steps per config and mode')
    parser.add_argument(
        '--loss-check', type=int, default=0, metavar='N',
        help='also train CONFIG from the same seed for N iterations of fp32 '
        'at batch 2 and each mode over the same images, with the config\'s '
        'LR schedule (auto-scaled to the batch), and check that the losses '
        'track over windows of --loss-window images, so N >= --loss-window '
        '/ 2 (default: 0, no check)')
    parser.add_argument(
        '--loss-check-fastest', action='store_true',
        help='the loss check for the mode in which CONFIG was fastest '
        '(most images/s) only')
    parser.add_argument('--json', metavar='FILE',
                        help='also write the rows, the baseline and the '
                        'loss checks to FILE')
    parser.add_argument('--loss-window', type=int, default=32,
                        help='images per window of the loss comparison '
                        '(default: 32)')
    parser.add_argument('--loss-tolerance', type=float, default=0.1,
                        help='largest relative difference of a window\'s '
                        'mean loss (default: 0.1)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='overrides for every compared config, e.g. '
        'model.train_cfg.rcnn.sampler.num=128 (key=value)')
    parser.add_argument('--data-root', help='synthetic COCO data (default: '
                        'generated into a temporary directory)')
    return parser.parse_args(argv)


def _check_args(args: argparse.Namespace) -> None:
    if args.input_size is not None and len(args.input_size) > 2:
        raise UsageError(f'--input-size takes 1 or 2 values, got '
                         f'{args.input_size}')
    if args.input_size is not None and len(args.input_size) == 1:
        args.input_size *= 2
    for name in ('batch_size', 'iters', 'loss_window'):
        if getattr(args, name) < 1:
            raise UsageError(f'--{name.replace("_", "-")} must be >= 1')
    for name in ('warmup', 'loss_check'):
        if getattr(args, name) < 0:
            raise UsageError(f'--{name.replace("_", "-")} must be >= 0')
    if args.amp:
        args.modes = ['amp-fp16']
    from rethink_mmdet.benchmarks.train_speed import parse_mode
    for mode in args.modes:
        try:
            parse_mode(mode)
        except ValueError as e:
            raise UsageError(f'--modes: {e}') from e
    if args.loss_check and (args.loss_window % 2
                            or args.loss_window % args.batch_size):
        raise UsageError(f'--loss-window {args.loss_window} must be a '
                         f'multiple of 2 and of --batch-size')
    if args.loss_check:
        _check_loss_window(args)


def _check_loss_window(args: argparse.Namespace) -> None:
    """The loss check compares whole windows of images: the reference run
    must see at least one (before any model is built)."""
    from rethink_mmdet.benchmarks.loss_tracking import REFERENCE
    images = args.loss_check * REFERENCE[1]
    if images >= args.loss_window:
        return
    step = math.lcm(2, args.batch_size)
    fits = images // step * step
    window = f' or --loss-window {fits}' if fits else ''
    raise UsageError(
        f'--loss-check {args.loss_check} trains the {REFERENCE[0]} batch-'
        f'{REFERENCE[1]} reference on {images} images, fewer than one '
        f'--loss-window of {args.loss_window}: pass --loss-check '
        f'{-(-args.loss_window // REFERENCE[1])} or more{window}')


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    _check_args(args)
    import torch
    from mmengine.logging import MMLogger

    import rethink_mmdet  # noqa: F401
    from rethink_mmdet.benchmarks import loss_tracking
    from rethink_mmdet.benchmarks.train_speed import (
        compare,
        format_rows,
        mode_problem,
        resolve_config,
    )
    from rethink_mmdet.datasets.synthetic_coco import make_synthetic_coco
    configs = [args.config] + ([args.vs] if args.vs else [])
    for config in configs:
        resolve_config(config)  # a missing file fails before any work
    cuda = torch.cuda.is_available()
    modes = []
    for mode in dict.fromkeys(args.modes):
        problem = mode_problem(mode, cuda)
        if problem:
            print(f'skipping {mode}: {problem}')
        else:
            modes.append(mode)
    if not modes:
        raise UsageError('no --modes left to run on this machine')
    result = dict(rows=[], loss_checks=[])
    with tempfile.TemporaryDirectory() as tmp:
        data_root = args.data_root
        if data_root is None:
            data_root = osp.join(tmp, 'synthetic_coco')
            # Enough images that step+data never waits on a reshuffle.
            make_synthetic_coco(data_root, num_train=64, num_val=4, seed=0)
        MMLogger.get_current_instance().setLevel(logging.WARNING)
        for mode in modes:
            result['rows'] += compare(configs, data_root, args.input_size,
                                      args.batch_size, mode, args.warmup,
                                      args.iters, args.cfg_options)
        if args.vs:
            result['baseline'] = _baseline(result['rows'], args, data_root)
        if args.loss_check:
            checked = modes
            if args.loss_check_fastest:
                ours = [r for r in result['rows'] if r['config'] ==
                        result['rows'][0]['config']]
                checked = [max(ours, key=lambda r: r['images_s'])['mode']]
            runs = [(m, args.batch_size) for m in checked
                    if (m, args.batch_size) != loss_tracking.REFERENCE]
            result['loss_checks'] = loss_tracking.check_modes(
                args.config, data_root, args.input_size, runs,
                args.loss_check, args.loss_window, args.loss_tolerance,
                cfg_options=args.cfg_options)
    device = (torch.cuda.get_device_name() if cuda
              else f'CPU ({torch.get_num_threads()} threads)')
    print(format_rows(result['rows'], f'{device}, input '
                      f'{args.input_size or "1333x800 (config)"}',
                      result.get('baseline')))
    if result['loss_checks']:
        print(loss_tracking.format_checks(
            result['loss_checks'], args.loss_check, args.loss_window,
            args.loss_tolerance))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(result, device=device), f, indent=1, default=str)
    return result


def _baseline(rows: Sequence[dict], args: argparse.Namespace,
              data_root: str) -> dict:
    """The --vs config at fp32, batch 2: a row already measured, or timed
    now on its own."""
    from rethink_mmdet.benchmarks.train_speed import compare
    for row in reversed(rows):  # --vs is the second of each pair
        if (row['config'] == args.vs
                and (row['mode'], row['batch_size']) == BASELINE):
            return row
    return compare([args.vs], data_root, args.input_size, BASELINE[1],
                   BASELINE[0], args.warmup, args.iters,
                   args.cfg_options)[0]
