"""The study's Markdown report: what it measured, claim by claim.

Every number comes from the runs' logged validations (``RunLog``); each
statement is written from the numbers, whichever way they come out. The
paper's claims are those of docs/recipe.md ("Claims the package must let a user
re-test").
"""
from typing import Dict, List, Optional, Sequence, Tuple

from rethink_mmdet.analysis.work_dirs import RunLog

from .plan import Run

BOX = 'coco/bbox_mAP'
#: AP difference the report calls "caught up"/"ahead": an arbitrary
#: tolerance, stated in the report (one seed per run measures no spread).
TOLERANCE = 1.0


def _ap(log: RunLog, key: str = BOX, iteration: Optional[int] = None
        ) -> float:
    values = log.metric(key)
    return 100 * values[max(values) if iteration is None else iteration]


def _compare(a: float, b: float, a_name: str, b_name: str) -> str:
    gap = a - b
    if abs(gap) <= TOLERANCE:
        return (f'{a_name} and {b_name} are within {TOLERANCE:g} AP '
                f'({gap:+.1f})')
    return (f'{a_name} is {"ahead of" if gap > 0 else "behind"} {b_name} '
            f'by {abs(gap):.1f} AP')


def _pick(pairs, init: str, train_images=None) -> List[Tuple[Run, RunLog]]:
    return [(run, log) for run, log in pairs
            if run.init == init and run.train_images == train_images]


def runs_table(pairs: Sequence[Tuple[Run, RunLog]],
               seconds: Dict[str, float]) -> str:
    """One Markdown row per detection run: its final metrics and time."""
    lines = ['| run | iterations | train images | first val (iter): box AP '
             '| final box AP | AP50 | AP75 | final mask AP | minutes |',
             '|---|---|---|---|---|---|---|---|---|']
    for run, log in pairs:
        first = min(log.metric(BOX))
        images = run.train_images or 'all'
        lines.append(
            f'| {run.label} | {run.max_iters} | {images} | '
            f'{_ap(log, BOX, first):.1f} ({first}) | {_ap(log):.1f} | '
            f'{_ap(log, "coco/bbox_mAP_50"):.1f} | '
            f'{_ap(log, "coco/bbox_mAP_75"):.1f} | '
            f'{_ap(log, "coco/segm_mAP"):.1f} | '
            f'{seconds.get(run.name, float("nan")) / 60:.1f} |')
    return '\n'.join(lines)


def claims(pairs: Sequence[Tuple[Run, RunLog]], pretrain: RunLog,
           chance: float) -> List[str]:
    """One Markdown paragraph per claim of docs/recipe.md the study touches."""
    scratch, pre = _pick(pairs, 'scratch'), _pick(pairs, 'pretrained')
    text = []
    top1 = pretrain.metric('cls/top1')
    text.append(
        f'**Pre-training** (the stand-in for ImageNet): top-1 accuracy '
        f'{top1[max(top1)]:.1f}% on its generated validation images after '
        f'{max(top1)} iterations (chance: {chance:.1f}%).')
    best_scratch = max(scratch, key=lambda p: _ap(p[1]))
    learned = _ap(best_scratch[1]) > TOLERANCE
    text.append(
        f'**Claim 1** (detectors train from random init with GN): the best '
        f'scratch run ({best_scratch[0].label}) ends at '
        f'{_ap(best_scratch[1]):.1f} box AP, ' +
        ('so the toy detector trains from random init' if learned else
         'no better than an untrained model at this scale') +
        '. (BN vs GN/SyncBN is not part of this study.)')
    # Claim 3, early: the first validation every run shares.
    first = max(min(log.metric(BOX)) for _, log in scratch + pre)
    early_s = max(_ap(log, BOX, first) for _, log in scratch
                  if first in log.metric(BOX))
    early_p = max(_ap(log, BOX, first) for _, log in pre
                  if first in log.metric(BOX))
    text.append(
        f'**Claim 3, early convergence** (pre-training speeds it up): at '
        f'iteration {first}, the first validation, pre-trained runs reach '
        f'{early_p:.1f} box AP and scratch runs {early_s:.1f}: ' +
        _compare(early_p, early_s, 'pre-training', 'scratch') + '.')
    longest = max(scratch, key=lambda p: p[0].max_iters)
    best_pre = max(pre, key=lambda p: _ap(p[1]))
    text.append(
        f'**Claims 2 and 3, final AP** (scratch catches up with a longer '
        f'schedule; pre-training does not raise the final AP): the longest '
        f'scratch run ({longest[0].label}) ends at {_ap(longest[1]):.1f} box '
        f'AP, the best pre-trained run ({best_pre[0].label}) at '
        f'{_ap(best_pre[1]):.1f}: ' + _compare(
            _ap(longest[1]), _ap(best_pre[1]), 'scratch',
            'pre-training') + '. Final box AP by schedule: scratch ' +
        ', '.join(f'{r.times}x {_ap(lg):.1f}' for r, lg in scratch) +
        '; pre-trained ' +
        ', '.join(f'{r.times}x {_ap(lg):.1f}' for r, lg in pre) + '.')
    gaps = {key: _ap(best_scratch[1], f'coco/bbox_mAP_{key}') -
            _ap(best_pre[1], f'coco/bbox_mAP_{key}') for key in ('50', '75')}
    text.append(
        f'**Claim 5** (pre-training helps less for localization, AP75): '
        f'best scratch minus best pre-trained is {gaps["50"]:+.1f} AP50 and '
        f'{gaps["75"]:+.1f} AP75; the gap at AP75 is ' +
        ('more favourable to scratch' if gaps['75'] > gaps['50'] else
         'not more favourable to scratch') + ' than at AP50.')
    small = [run.train_images for run, _ in pairs if run.train_images]
    if small:
        images = small[0]
        s_small = _pick(pairs, 'scratch', images)[0]
        p_small = _pick(pairs, 'pretrained', images)[0]
        peaks = {label: (max(100 * v for v in lg.metric(BOX).values()),
                         _ap(lg))
                 for label, (_, lg) in (('scratch', s_small),
                                        ('pre-trained', p_small))}
        text.append(
            f'**Claim 4, less data** (pre-training helps only when data are '
            f'very small): on {images} training images, {s_small[0].label} '
            f'ends at {_ap(s_small[1]):.1f} box AP and {p_small[0].label} '
            f'at {_ap(p_small[1]):.1f}: ' + _compare(
                _ap(s_small[1]), _ap(p_small[1]), 'scratch',
                'pre-training') + '. Peak vs final box AP (a drop means '
            'overfitting): ' + ', '.join(
                f'{label} {peak:.1f} / {final:.1f}'
                for label, (peak, final) in peaks.items()) + '.')
    text.append('Claim 6 (GN vs SyncBN from scratch) is not part of this '
                'study.')
    return text


def write_report(path: str, pairs: Sequence[Tuple[Run, RunLog]],
                 pretrain: RunLog, chance: float, table: str,
                 seconds: Dict[str, float], header: Sequence[str]) -> str:
    """Writes the report; returns its text."""
    lines = ['# Toy-scale study: pre-training vs random init', '']
    lines += list(header) + ['']
    lines += ['## What it measured, claim by claim', '',
              f'"Ahead"/"behind" means a box AP difference over '
              f'{TOLERANCE:g} AP (an arbitrary tolerance: each run is one '
              'seed, so the study does not measure run-to-run spread).', '']
    for paragraph in claims(pairs, pretrain, chance):
        lines += [f'- {paragraph}']
    lines += ['', '## Runs (final = last validation)', '',
              runs_table(pairs, seconds), '',
              "## Table 1 layout (each init at its best schedule)", '',
              table, '', '![curves](curves.png)', '']
    text = '\n'.join(lines)
    with open(path, 'w') as f:
        f.write(text)
    return text
