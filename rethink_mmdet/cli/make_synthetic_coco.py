"""Generates the embedded synthetic COCO dataset (data/synthetic_coco).

Examples:
    python tools/dataset_converters/make_synthetic_coco.py data/synthetic_coco
    # the keypoint variant (default data/synthetic_coco_keypoints)
    python tools/dataset_converters/make_synthetic_coco.py --keypoints
"""
import argparse

from rethink_mmdet.datasets.synthetic_coco import generate_if_needed
from rethink_mmdet.datasets.synthetic_coco_keypoints import (
    generate_keypoints_if_needed,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', nargs='?', default=None,
                        help='default: data/synthetic_coco, or '
                        'data/synthetic_coco_keypoints with --keypoints')
    parser.add_argument('--num-train', type=int, default=2000)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--keypoints', action='store_true',
                        help='the keypoint variant (houses with 5 keypoints, '
                        'annotations/keypoints_{train,val}.json)')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if the same dataset exists')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out_dir = args.out_dir or ('data/synthetic_coco_keypoints'
                               if args.keypoints else 'data/synthetic_coco')
    generate = (generate_keypoints_if_needed if args.keypoints else
                generate_if_needed)
    generate(out_dir, num_train=args.num_train, num_val=args.num_val,
             seed=args.seed, force=args.force)
    return 0
