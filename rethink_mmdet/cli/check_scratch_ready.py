"""``tools/misc/check_scratch_ready.py``: the scratch-readiness report."""
import argparse
from typing import Optional, Sequence

from mmengine.config import DictAction

from .common import UsageError, load_config


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Build a config\'s model on the CPU (no checkpoint is '
        'loaded) and report, per part, norm layers, frozen parameters, BN '
        'in eval mode, FrozenBN, plain BN, weight decay on norms, pretrained '
        'references and the LR drops. Exit status 1 when a config that '
        'claims scratch (-scratch in its name, or ScratchInit on its '
        'backbone) is not ready, 0 otherwise, 2 on bad input.')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--scratch', action='store_true',
        help='hold the config to scratch even if neither its name '
        '(-scratch) nor its backbone init (ScratchInit) claims it')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. model.backbone.frozen_stages=1')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from rethink_mmdet.analysis.scratch_readiness import (
        check_scratch_readiness, format_report)
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    try:
        result = check_scratch_readiness(cfg, args.config, args.scratch)
    except (AssertionError, ValueError, KeyError, TypeError) as e:
        # A config the Runner could not build either: say so in one line.
        raise UsageError(f'cannot build the model of {args.config}: '
                         f'{type(e).__name__}: {e}') from e
    print(format_report(result))
    return 0 if result.ready else 1
