"""``tools/analysis_tools/benchmark_test.py``: ``tools/test.py``'s wall
time split into data, model and metric, side by side with stock
MMDetection's config."""
import argparse
import contextlib
import logging
import os
import os.path as osp
import tempfile
from typing import Optional, Sequence

from rethink_mmdet.runner import UsageError

STOCK = 'mmdet::scratch/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Runs tools/test.py\'s evaluation of CONFIG and, in the '
        'same process, of --vs, on a generated COCO-like val set (640x480 '
        'JPEGs, ~7 polygon instances each) with a tiny Mask R-CNN (the same '
        'weights for both, 100 detections per image), and prints the wall '
        'time of each phase: data loading, model, metric (process, '
        'compute), set-up.')
    parser.add_argument('config', help='config file (mmdet::REL allowed)')
    parser.add_argument(
        '--vs', metavar='CONFIG', nargs='?', const=STOCK,
        help=f'config to compare with (without a value: {STOCK})')
    parser.add_argument('--num-images', type=int, default=5000,
                        help='val images (default: 5000, val2017)')
    parser.add_argument('--input-size', type=int, nargs=2, default=[256, 192],
                        metavar=('LONG', 'SHORT'), help='the test Resize '
                        'scale (keep ratio; default: 256 192)')
    parser.add_argument('--workers', type=int, default=0,
                        help='test loader workers (default: 0: the data '
                        'phase is the pipeline itself, in this process)')
    parser.add_argument('--data-root', help='where the images are generated '
                        'once and reused (default: a temporary directory)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> list:
    args = parse_args(argv)
    if args.num_images < 1:
        raise UsageError(f'--num-images must be >= 1, got {args.num_images}')
    if args.workers < 0:
        raise UsageError(f'--workers must be >= 0, got {args.workers}')
    if min(args.input_size) < 32:
        raise UsageError(f'--input-size must be >= 32 px, got '
                         f'{args.input_size}')
    import rethink_mmdet  # noqa: F401
    from rethink_mmdet.benchmarks.coco_images import make_coco_images
    from rethink_mmdet.benchmarks.test_speed import compare, format_rows
    from rethink_mmdet.benchmarks.train_speed import resolve_config
    configs = [args.config] + ([args.vs] if args.vs else [])
    paths = [resolve_config(c) for c in configs]
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_root or osp.join(tmp, 'coco_like')
        ann_file = make_coco_images(root, args.num_images, (640, 480))
        # pycocotools prints its progress (timed all the same).
        with open(os.devnull, 'w') as devnull, \
                contextlib.redirect_stdout(devnull):
            rows = compare(paths, ann_file, args.input_size, tmp,
                           args.workers)
    for row, name in zip(rows, configs):
        row['config'] = name
    print(format_rows(rows))
    return rows
