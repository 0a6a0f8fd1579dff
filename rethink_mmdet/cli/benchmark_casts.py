"""``tools/analysis_tools/benchmark_casts.py``: casts and ops of one
mixed-precision training step, before and after ``AutocastGN``, counted
with ``torch.profiler`` on the CPU (docs/benchmarks.md)."""
import argparse
import logging
import os.path as osp
import tempfile
from typing import Optional, Sequence

from rethink_mmdet.runner import UsageError

ROW = 'configs/schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Counts the casts (float dtype conversions: calls and '
        'bytes read + written), aten::to calls and outermost aten ops of '
        'one training step of CONFIG: fp32, then MODE with its GroupNorm '
        'layers as nn.GroupNorm ("before") and as the config has them '
        '("after"), with CUDA autocast\'s float32 policy for group_norm '
        'and upsampling emulated on the CPU (--no-emulate: the CPU\'s own '
        'policy). Synthetic COCO data; a benchmark, not a test.')
    parser.add_argument('config', nargs='?', default=ROW,
                        help=f'config file (default: {ROW})')
    parser.add_argument('--mode', default='amp-bf16',
                        help='mixed-precision mode as benchmark_train.py '
                        'names it (default: amp-bf16)')
    parser.add_argument('--input-size', type=int, default=320,
                        help='square train Resize side (default: 320)')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--no-emulate', action='store_true',
                        help='keep the CPU autocast policy for group_norm '
                        'and upsampling')
    parser.add_argument('--data-root', help='synthetic COCO data (default: '
                        'generated into a temporary directory)')
    return parser.parse_args(argv)


def _plain_gn_options(cfg) -> dict:
    """``--cfg-options`` that build every ``AutocastGN`` of the model as
    ``nn.GroupNorm`` (``type='GN'``)."""
    options = {}

    def walk(node, path):
        if isinstance(node, dict):
            if node.get('type') == 'AutocastGN':
                options[f'{path}.type'] = 'GN'
            for key, value in node.items():
                walk(value, f'{path}.{key}')
    walk(cfg.model, 'model')
    return options


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if args.input_size < 32 or args.batch_size < 1:
        raise UsageError('--input-size must be >= 32 and --batch-size >= 1')
    from mmengine.logging import MMLogger

    from rethink_mmdet.benchmarks.cast_counts import count_step
    from rethink_mmdet.benchmarks.train_speed import (
        parse_mode,
        resolve_config,
    )
    from rethink_mmdet.datasets.synthetic_coco import make_synthetic_coco
    from rethink_mmdet.runner import load_config
    try:
        if parse_mode(args.mode)[0] not in ('amp-bf16', 'amp-fp16'):
            raise ValueError(f'--mode {args.mode!r} has no autocast')
    except ValueError as e:
        raise UsageError(str(e)) from e
    plain = _plain_gn_options(load_config(resolve_config(args.config)))
    if not plain:
        raise UsageError(f'{args.config} has no AutocastGN layers to '
                         'compare with nn.GroupNorm')
    runs = [('fp32', 'fp32', {}), ('before: nn.GroupNorm', args.mode, plain),
            ('after: AutocastGN', args.mode, {})]
    size = (args.input_size, args.input_size)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data_root = args.data_root or osp.join(tmp, 'synthetic_coco')
        if args.data_root is None:
            make_synthetic_coco(data_root, num_train=8, num_val=2, seed=0)
        MMLogger.get_current_instance().setLevel(logging.WARNING)
        for name, mode, options in runs:
            counts = count_step(args.config, data_root, size,
                                args.batch_size, mode,
                                not args.no_emulate, options)
            rows.append(dict(run=name, mode=mode, **counts))
    print(format_counts(rows, args))
    return dict(rows=rows)


def format_counts(rows, args) -> str:
    policy = ('CPU autocast policy' if args.no_emulate else
              'CUDA autocast fp32 policy for group_norm and upsampling '
              'EMULATED on the CPU')
    lines = [f'one training step of {args.config}, batch {args.batch_size}'
             f' at {args.input_size}x{args.input_size}; {policy}',
             f'{"run":<22}{"mode":<12}{"ops":>8}{"aten::to":>10}'
             f'{"casts":>8}{"of 1 elem":>11}{"cast MiB":>11}']
    for r in rows:
        lines.append(f'{r["run"]:<22}{r["mode"]:<12}{r["ops"]:>8}'
                     f'{r["to_calls"]:>10}{r["casts"]:>8}'
                     f'{r["scalar_casts"]:>11}{r["cast_mb"]:>11.1f}')
    for r in rows[1:]:
        top = ', '.join(f'{k} {v:.1f}' for k, v in
                        r['cast_mb_by_caller'].items() if v >= 0.05)
        lines.append(f'cast MiB by caller, {r["run"]}: {top}')
    return '\n'.join(lines)
