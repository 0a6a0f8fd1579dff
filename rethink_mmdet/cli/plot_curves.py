"""``tools/analysis_tools/plot_curves.py``: AP against iterations per run."""
import argparse
from typing import Optional, Sequence

from rethink_mmdet.analysis import read_work_dir
from rethink_mmdet.analysis.curves import plot_curves


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Plot validation AP against training length, one line '
        'per work_dir (scratch solid, pre-trained dashed, LR drops dotted); '
        'writes FILE.png and FILE.csv')
    parser.add_argument('work_dirs', nargs='+', metavar='WORK_DIR')
    parser.add_argument('--metric', nargs='+', default=['bbox_mAP'],
                        help='metric keys, one subplot each (default: '
                        'bbox_mAP; e.g. bbox_mAP segm_mAP)')
    parser.add_argument('--out', default='curves.png')
    parser.add_argument('--x', choices=['iters', 'images'], default='iters')
    parser.add_argument('--legend', nargs='+',
                        help='one label per work_dir (default: config name)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None):
    args = parse_args(argv)
    runs = [read_work_dir(w) for w in args.work_dirs]
    _, csv_path = plot_curves(runs, args.metric, args.out, x=args.x,
                              legends=args.legend)
    print(f'wrote {args.out} and {csv_path}')
