"""``make demo``: train the toy detector from scratch on the CPU and print
its COCO AP table (:func:`rethink_mmdet.toy.demo_run.run_demo`)."""
import argparse
from typing import Dict, Optional, Sequence

from rethink_mmdet.toy.demo_run import TOY_CONFIG, run_demo


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=TOY_CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/synthetic_coco')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='config overrides for training and evaluation, '
                        "as tools/train.py's")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    return run_demo(args.config, args.work_dir, args.data_root,
                    args.cfg_options)
