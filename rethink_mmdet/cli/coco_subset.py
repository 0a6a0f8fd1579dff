"""Writes a random N-image subset of a COCO annotation file (less-data).

Example (the 35k row of configs/less-data/):
    python tools/dataset_converters/coco_subset.py \\
        data/coco/annotations/instances_train2017.json 35000 --seed 0 \\
        --out data/coco/annotations/instances_train2017_35k.json

Prints the kept images and instances per category and in total. The same
file, N and seed always give the same subset (see
rethink_mmdet.datasets.coco_sampling).
"""
import argparse
import sys

from rethink_mmdet.datasets.coco_sampling import make_coco_subset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[2:]))
    parser.add_argument('ann_file', help='COCO instances JSON to draw from')
    parser.add_argument('num_images', type=int, help='images to keep')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the draw (default: 0)')
    parser.add_argument('--out', required=True, help='subset JSON to write')
    return parser.parse_args(argv)


def format_summary(summary):
    """The per-category table and totals, one line each."""
    width = max([len(c['name']) for c in summary['categories']] + [8])
    lines = [f'{"category":<{width}}  {"images":>7}  {"instances":>9}']
    for cat in summary['categories']:
        lines.append(f'{cat["name"]:<{width}}  {cat["images"]:>7}  '
                     f'{cat["instances"]:>9}')
    lines.append(f'{"total":<{width}}  {summary["num_images"]:>7}  '
                 f'{summary["num_instances"]:>9}')
    lines.append(f'{summary["images_without_annotations"]} of the '
                 f'{summary["num_images"]} images have no annotation')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    try:
        summary = make_coco_subset(args.ann_file, args.num_images, args.seed,
                                   args.out)
    except (OSError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    print(f'{args.out}: {summary["num_images"]} of '
          f'{summary["source_images"]} images of {args.ann_file} '
          f'(seed {args.seed})')
    print(format_summary(summary))
    return 0
