"""``tools/test.py``: MMDetection 3.3's evaluation entry point."""
import argparse
from typing import Dict, Optional, Sequence

from rethink_mmdet.runner.test_job import configure_test, test

from .common import parse_with_common_args


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump predictions to this .pkl file')
    parser.add_argument('--tta', action='store_true',
                        help="test-time augmentation (the config's "
                        'tta_model and tta_pipeline)')
    return parse_with_common_args(parser, argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    return test(configure_test(
        args.config, args.checkpoint, args.cfg_options, args.work_dir,
        args.launcher, tta=args.tta, out=args.out, data_root=args.data_root))
