"""``tools/analysis_tools/benchmark_sync_bn.py``: AnySyncBN vs BN."""
import argparse
from typing import Optional, Sequence

from rethink_mmdet.runner import UsageError


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Times forward + backward of a ResNet backbone with '
        'AnySyncBN against BN over several processes (gloo on CPUs, NCCL '
        'with one GPU each) and prints the medians and their ratio.')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument('--world-size', type=int, default=2)
    parser.add_argument('--depth', type=int, default=50,
                        choices=[18, 34, 50, 101, 152])
    parser.add_argument('--input-size', type=int, default=128,
                        help='square input side (default: 128)')
    parser.add_argument('--batch-size', type=int, default=2,
                        help='images per process (default: 2)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads per process (default: 1)')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--iters', type=int, default=10)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    for name in ('world_size', 'input_size', 'batch_size', 'threads',
                 'iters'):
        if getattr(args, name) < 1:
            raise UsageError(f'--{name.replace("_", "-")} must be >= 1')
    import torch
    if args.device == 'cuda' and torch.cuda.device_count() < args.world_size:
        raise UsageError(
            f'--device cuda runs one process per GPU: --world-size '
            f'{args.world_size} needs {args.world_size} GPUs, found '
            f'{torch.cuda.device_count()}')
    from rethink_mmdet.benchmarks.sync_bn_speed import compare
    result = compare(args.world_size, args.device, args.depth,
                     args.input_size, args.batch_size, args.threads,
                     args.warmup, args.iters)
    print(f'ResNet-{args.depth} forward+backward, {args.world_size} '
          f'{args.device} processes, {args.batch_size} x {args.input_size}'
          f'px per process: median s/step')
    print(f'BN         {result["BN"]:.4f}')
    print(f'AnySyncBN  {result["AnySyncBN"]:.4f}')
    print(f'ratio      {result["ratio"]:.3f}x (AnySyncBN / BN)')
    return result
