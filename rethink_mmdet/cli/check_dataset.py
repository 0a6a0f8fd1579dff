"""``tools/misc/check_dataset.py``: every problem of a config's datasets.

Training runs the same checks and stops at the first error; this tool lists
all of them (and the warnings) at once.
"""
import argparse
from typing import Optional, Sequence

from rethink_mmdet.datasets.validation import check_config_datasets
from rethink_mmdet.runner import load_config

SPLITS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Check the datasets of a config before training')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--splits', nargs='+', default=list(SPLITS),
                        choices=SPLITS, help='data loaders to check')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys (as tools/train.py)')
    parser.add_argument('--data-root', metavar='DIR',
                        help='the datasets\' folder (as tools/train.py)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Prints every problem; the exit status is 1 if one is an error."""
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.data_root)
    problems = check_config_datasets(cfg, args.splits)
    errors = [p for p in problems if p.severity == 'error']
    for problem in problems:
        print(f'{problem.severity}: {problem}')
    print(f'{len(errors)} error(s), {len(problems) - len(errors)} '
          f'warning(s) in {", ".join(args.splits)} of {args.config}')
    return 1 if errors else 0
