"""``tools/analysis_tools/benchmark_data.py``: images/s of a config's
train data pipeline (in-process, 1 and N loader workers) and worker
memory, side by side with stock MMDetection's."""
import argparse
import os
import os.path as osp
import tempfile
from typing import Optional, Sequence

from rethink_mmdet.runner import UsageError

STOCK = 'mmdet::scratch/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Images per second of the train pipeline of CONFIG and, '
        'in the same process, of --vs, on generated COCO-like JPEGs '
        '(~7 polygon instances each, COCO\'s size mix, 1%% crowd RLE): in '
        'this process, through a DataLoader with 1 worker and with '
        '--workers workers; peak memory of one worker; the ratio.')
    parser.add_argument('config', help='config file (mmdet::REL allowed)')
    parser.add_argument(
        '--vs', metavar='CONFIG', nargs='?', const=STOCK,
        help=f'config to compare with (without a value: {STOCK})')
    parser.add_argument('--workers', type=int, default=os.cpu_count(),
                        help='loader workers of the multi-worker run '
                        '(default: the CPU count)')
    parser.add_argument('--num-images', type=int, default=60,
                        help='images timed per setting and worker '
                        '(default: 60)')
    parser.add_argument('--image-size', type=int, nargs=2, default=[1333, 800],
                        metavar=('W', 'H'), help='generated JPEG size '
                        '(default: 1333 800; COCO\'s own are ~640 480)')
    parser.add_argument('--rounds', type=int, default=2,
                        help='alternating rounds; each figure is the best '
                        '(default: 2)')
    parser.add_argument('--batch-size', type=int,
                        help='images per batch (default: the config\'s)')
    parser.add_argument('--profile', action='store_true',
                        help='also print ms per image in each transform')
    parser.add_argument('--data-root', help='where the images are generated '
                        'once and reused (default: a temporary directory)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> list:
    args = parse_args(argv)
    for name in ('workers', 'num_images', 'rounds'):
        if getattr(args, name) < 1:
            raise UsageError(f'--{name.replace("_", "-")} must be >= 1, got '
                             f'{getattr(args, name)}')
    if args.batch_size is not None and args.batch_size < 1:
        raise UsageError(f'--batch-size must be >= 1, got {args.batch_size}')
    if min(args.image_size) < 32:
        raise UsageError(f'--image-size must be >= 32 px, got '
                         f'{args.image_size}')
    import rethink_mmdet  # noqa: F401
    from rethink_mmdet.benchmarks.coco_images import (
        coco_classes,
        make_coco_images,
    )
    from rethink_mmdet.benchmarks.data_speed import compare, format_rows
    from rethink_mmdet.benchmarks.train_speed import resolve_config
    configs = [args.config] + ([args.vs] if args.vs else [])
    paths = [resolve_config(c) for c in configs]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_root or osp.join(tmp, 'coco_like')
        # Enough distinct images for the largest run (N workers' batches
        # plus the first, not timed), so no image is decoded from cache.
        batch = args.batch_size or 2
        needed = args.num_images * args.workers + 2 * batch * args.workers
        ann_file = make_coco_images(root, max(needed, 2 * batch + 2),
                                    args.image_size)
        rows = compare(paths, ann_file, coco_classes(), args.workers,
                       args.num_images, args.batch_size, args.rounds,
                       args.profile)
    for row, name in zip(rows, configs):
        row['config'] = name
    print(format_rows(rows, args.image_size))
    return rows
