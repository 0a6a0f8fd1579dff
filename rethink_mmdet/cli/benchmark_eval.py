"""``tools/analysis_tools/benchmark_eval.py``: CocoMetric vs
FasterCocoMetric."""
import argparse
import contextlib
import logging
import os
from typing import Optional, Sequence

from rethink_mmdet.runner import UsageError


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Times MMDetection's CocoMetric against FasterCocoMetric "
        'on a generated COCO-sized problem (~7 instances and 100 detections '
        'per image, RLE masks for segm), end to end (process + '
        'compute_metrics), and prints both times, the ratio and the largest '
        'difference across the 12 AP/AR numbers.')
    parser.add_argument('--num-images', type=int, default=5000,
                        help='images in the problem (default: 5000, '
                        'val2017)')
    parser.add_argument('--types', nargs='+', choices=['bbox', 'segm'],
                        default=['bbox', 'segm'])
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> list:
    args = parse_args(argv)
    if args.num_images < 1:
        raise UsageError(f'--num-images must be >= 1, got {args.num_images}')
    import rethink_mmdet  # noqa: F401
    from rethink_mmdet.benchmarks.eval_speed import compare, format_rows
    from rethink_mmdet.evaluation.metrics import faster_coco_metric
    if faster_coco_metric.faster_coco_eval is None:
        raise UsageError('faster-coco-eval is not installed '
                         '(pip install faster-coco-eval==1.8.0)')
    # pycocotools prints its progress, the metrics log theirs: both would
    # drown the table (printing is timed all the same).
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    with open(os.devnull, 'w') as devnull, \
            contextlib.redirect_stdout(devnull):
        rows = compare(args.num_images, args.types, args.seed)
    print(format_rows(rows, args.num_images))
    return rows
