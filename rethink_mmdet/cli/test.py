"""``tools/test.py``: MMDetection 3.3's evaluation entry point."""
import argparse
import os.path as osp
from typing import Dict, Optional, Sequence

from .common import (UsageError, build_runner, config_from_args,
                     parse_with_common_args)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump predictions to this .pkl file')
    parser.add_argument('--tta', action='store_true',
                        help="test-time augmentation (the config's "
                        'tta_model and tta_pipeline)')
    return parse_with_common_args(parser, argv)


def configure(args: argparse.Namespace):
    cfg = config_from_args(args)
    if not osp.isfile(args.checkpoint):
        raise UsageError(f'checkpoint not found: {args.checkpoint}')
    cfg.load_from = args.checkpoint
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise UsageError(f'--tta needs tta_model and tta_pipeline in '
                             f'{args.config}')
        cfg.model = dict(**cfg.tta_model, module=cfg.model)
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise UsageError(f'--out must be a .pkl file, got {args.out}')
        evaluators = cfg.test_evaluator
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        cfg.test_evaluator = list(evaluators) + [
            dict(type='DumpDetResults', out_file_path=args.out)]
    return cfg


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    runner = build_runner(configure(args))
    return runner.test()
