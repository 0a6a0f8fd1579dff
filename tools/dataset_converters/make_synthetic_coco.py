#!/usr/bin/env python
"""Generates the embedded synthetic COCO dataset (default data/synthetic_coco).

Example:
    python tools/dataset_converters/make_synthetic_coco.py data/synthetic_coco
"""
import argparse
import sys

from rethink_mmdet.datasets.synthetic_coco import generate_if_needed


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', nargs='?', default='data/synthetic_coco')
    parser.add_argument('--num-train', type=int, default=2000)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if the same dataset exists')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    generate_if_needed(args.out_dir, num_train=args.num_train,
                       num_val=args.num_val, seed=args.seed, force=args.force)
    return 0


if __name__ == '__main__':
    sys.exit(main())
