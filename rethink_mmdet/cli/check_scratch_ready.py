"""``tools/misc/check_scratch_ready.py``: the scratch-readiness report."""
import argparse
from typing import TYPE_CHECKING, Optional, Sequence

from mmengine.config import DictAction

from rethink_mmdet.runner import UsageError, load_config

if TYPE_CHECKING:
    from rethink_mmdet.readiness.scratch_readiness import ScratchReadiness


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Build a config\'s model on the CPU (no checkpoint is '
        'loaded) and report, per part, norm layers, frozen parameters, BN '
        'in eval mode, FrozenBN, plain BN, weight decay on norms, pretrained '
        'references and the LR drops; then initialize it as the Runner '
        'does and run one training step on a generated batch. Exit status '
        '1 when a config that '
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
    from rethink_mmdet.readiness.scratch_readiness import (
        check_scratch_readiness,
    )
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


def format_report(result: 'ScratchReadiness') -> str:
    """The report as ``check_scratch_ready.py`` prints it."""
    header = ('part', 'params', 'norm layers', 'frozen', 'BN eval',
              'FrozenBN', 'plain BN', 'norm decay', 'init')
    rows = [header]
    for part in result.parts:
        norms = ', '.join(f'{kind} x{count}' for kind, count in
                          part.norm_counts.items()) or 'none'
        rows.append((part.name, f'{part.num_params / 1e6:.2f}M', norms,
                     str(len(part.frozen)), str(len(part.bn_eval)),
                     str(len(part.frozen_bn)), str(len(part.plain_bn)),
                     str(len(result.norm_decay.get(part.name, {}))),
                     result.inits[part.name]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [f'config: {result.config}',
             f'claims scratch: {result.claim}', '']
    lines += ['  '.join(cell.ljust(width) for cell, width in
                        zip(row, widths)).rstrip() for row in rows]
    lines.append('')
    lines.append('pretrained checkpoints: ' + (
        '; '.join(result.pretrained) if result.pretrained else
        'none (no init_cfg checkpoint, no pretrained=, no load_from)'))
    if result.optimizer:
        decayed = sum(len(d) for d in result.norm_decay.values())
        lines.append(f'optimizer: {result.optimizer}; ' + (
            f'{decayed} norm parameters with weight decay' if decayed else
            'no weight decay on norm parameters'))
    lines.append('LR schedule: ' + ('; '.join(result.schedule) or 'none'))
    if result.forward:
        lines.append(f'forward: {result.forward}')
    if result.strides:
        lines.append(f'strides: {result.strides}')
    lines += [f'init: {note}' for note in result.init_notes]
    for part, cls in result.own_init.items():
        lines.append(f'init: {part} ({cls}) initializes itself and refuses '
                     'ScratchInit: its own random init applies '
                     '(docs/extending.md)')
    lines.append('train step: ' + (
        result.train_step or (f'not run: {result.train_step_skipped}'
                              if result.train_step_skipped else 'failed')))
    problems = result.problems()
    if result.claims_scratch:
        lines += [f'problem: {p}' for p in problems]
        lines.append(
            f'verdict: NOT ready to train from scratch ({len(problems)} '
            f'problem{"s" if len(problems) > 1 else ""})' if problems else
            'verdict: ready to train from scratch')
    else:
        lines += [f'note: {p}' for p in problems]
        lines.append(
            'verdict: does not claim to train from scratch; '
            f'{len(problems)} settings above would block it')
    return '\n'.join(lines)
