"""The study's Markdown report: the paper's claims, decided by numbers.

Every number comes from the runs' logged validations (``RunLog``). Each
claim has a test whose thresholds are written here, before any run, and the
verdict is whatever the numbers give (docs/study.md gives the reasons for
the thresholds). A group of runs that differ only by seed is summarised by
its mean (:mod:`.groups`), and its spread (max - min) widens the
catching-up tolerance; every verdict prints each group's seeds and spread.
"""
from statistics import mean
from typing import Dict, List, Optional, Sequence, Tuple

from rethink_mmdet.analysis.work_dirs import RunLog
from rethink_mmdet.toy.study_groups import (
    Group,
    Pair,
    Peak,
    ap,
    best_group,
    group,
    schedules,
    scratch_peak,
)
from rethink_mmdet.toy.study_tables import runs_table

#: Pre-training counts as converged, as ImageNet's does, from this top-1 (%).
PRETRAIN_TOP1 = 90.0
#: Convergence: after the first quarter of a 1x, pre-trained box AP is at
#: least this multiple of scratch's ...
EARLY_RATIO = 1.5
#: ... and at least this many AP points ahead.
EARLY_MARGIN = 5.0
#: Catching up: scratch's best ends within max(this, CATCH_UP_SPREADS x the
#: seed spread) AP points of the pre-trained arm's best.
CATCH_UP_MIN = 1.0
CATCH_UP_SPREADS = 2.0
#: Less data: on the smallest subset, pre-trained beats scratch's best by at
#: least this many AP points (and by more than on the larger data) ...
LESS_DATA_MARGIN = 3.0
#: ... the subset is less data: pre-trained 1x there ends at least this many
#: AP points below pre-trained 1x on all the images ...
LESS_DATA_DROP = 3.0
#: ... and scratch overfits it: a box AP peak at least this many points
#: above the end of its longest schedule (:func:`.groups.scratch_peak`).
OVERFIT_DROP = 1.0
#: Plateaus: a longer schedule gaining at most this many AP points over a
#: shorter one has stopped rising (the pre-trained arm is converged).
PLATEAU_MARGIN = 1.0


def pretrained_plateau(pairs: Sequence[Pair]
                       ) -> Optional[Tuple[Group, Group, bool]]:
    """Whether the pre-trained arm is converged on all the images.

    Returns:
        ``(1x, longest, converged)``: the final box AP of its 1x and of its
        longest schedule, and whether the longest ends at most
        :data:`PLATEAU_MARGIN` points above the 1x. None without a 1x and a
        longer schedule.
    """
    lengths = schedules(pairs, 'pretrained')
    if 1 not in lengths or lengths[-1] == 1:
        return None
    short, longest = group(pairs, 'pretrained', 1), group(pairs, 'pretrained')
    return short, longest, _points(longest.mean - short.mean) <= (
        PLATEAU_MARGIN)


def _points(difference: float) -> float:
    # mmdet logs AP as fractions to 3 decimals, so a difference of exactly
    # 1.0 point can come out as 0.9999999999999982: compare at 1e-6 point.
    return round(difference, 6)


def _verdict(met: bool) -> str:
    return '**met**' if met else '**not met**'


def _ratio(numerator: float, denominator: float) -> str:
    # A scratch AP of 0.0 makes any ratio meaningless; the margin decides.
    if denominator <= 0:
        return 'ratio undefined (scratch at 0)'
    return f'ratio {numerator / denominator:.2f}'


def convergence(pairs: Sequence[Pair], iteration: int) -> Optional[str]:
    """Pre-training speeds up convergence: box AP after the first quarter
    of a 1x (the shortest schedule that validated there, all data)."""
    scratch = next((g for g in (group(pairs, 'scratch', t, None, iteration)
                                for t in schedules(pairs, 'scratch')) if g),
                   None)
    pre = group(pairs, 'pretrained', 1, None, iteration)
    if scratch is None or pre is None:
        return None
    met = (_points(pre.mean - EARLY_RATIO * scratch.mean) >= 0 and
           _points(pre.mean - scratch.mean) >= EARLY_MARGIN)
    return (f'**Convergence** (claim 3: pre-training speeds up early '
            f'convergence). Test: after the first quarter of a 1x '
            f'(iteration {iteration}), pre-trained box AP >= '
            f'{EARLY_RATIO:g}x scratch\'s and >= {EARLY_MARGIN:g} points '
            f'ahead. Measured: {pre.label} {pre.describe()}, '
            f'{scratch.label} {scratch.describe()}: '
            f'{_ratio(pre.mean, scratch.mean)}, '
            f'{pre.mean - scratch.mean:+.1f} points. {_verdict(met)}.')


def catching_up(pairs: Sequence[Pair]) -> Optional[str]:
    """Scratch at its longest schedule ends no worse than the pre-trained
    run of the same length (all data)."""
    scratch = group(pairs, 'scratch')
    lengths = schedules(pairs, 'pretrained')
    if scratch is None or not lengths:
        return None
    times = schedules(pairs, 'scratch')[-1]
    pre = group(pairs, 'pretrained', times)
    text = (f'**Catching up** (claims 2 and 3: with a long enough schedule '
            f'scratch catches up; at the same schedule, pre-training does '
            f'not raise the final AP). Test: scratch\'s longest schedule '
            f'ends within max({CATCH_UP_MIN:g}, {CATCH_UP_SPREADS:g} x seed '
            f'spread) box AP of the pre-trained run of the same length, or '
            f'above it. ')
    if pre is None:
        trained = ', '.join(f'{t}x' for t in lengths)
        return text + (f'Not judged at equal schedules: no pre-trained '
                       f'run of {scratch.label}\'s length, {times}x '
                       f'(pre-trained: {trained}).')
    spread = max(scratch.spread, pre.spread)
    tolerance = max(CATCH_UP_MIN, CATCH_UP_SPREADS * spread)
    gap = scratch.mean - pre.mean
    seeds = len(scratch.values)
    return text + (
        f'Measured: {scratch.label} {scratch.describe()}, {pre.label} '
        f'{pre.describe()}: {gap:+.1f} points, tolerance {tolerance:.1f}' +
        (' (one seed: no spread measured)' if seeds == 1 else '') +
        f'. {_verdict(_points(gap + tolerance) >= 0)}. '
        f'{_compared_arm(pairs)}')


def _compared_arm(pairs: Sequence[Pair]) -> str:
    """Whether catching up is to a converged pre-trained arm."""
    plateau = pretrained_plateau(pairs)
    if plateau is None:
        return ('One pre-trained schedule: whether the arm scratch is '
                'compared with is converged is not measured.')
    short, longest, converged = plateau
    state = ('a converged pre-trained arm' if converged else
             'a pre-trained arm that is still rising')
    return (f'This is catching up to {state} ({longest.label} '
            f'{longest.mean - short.mean:+.1f} points over {short.label}; '
            'see Plateaus).')


def plateaus(pairs: Sequence[Pair]) -> Optional[str]:
    """Have the arms stopped rising (all data)? The pre-trained arm's test
    (converged), and scratch's longest schedule against its next shorter
    one, stated without a verdict: a scratch arm still rising is where the
    toy stopped, not a failed claim."""
    parts = []
    plateau = pretrained_plateau(pairs)
    if plateau:
        short, longest, converged = plateau
        parts.append(
            f'Test: the pre-trained arm is converged, its longest schedule '
            f'ending at most {PLATEAU_MARGIN:g} box AP above its 1x. '
            f'Measured: {short.label} {short.describe()}, {longest.label} '
            f'{longest.describe()}: {longest.mean - short.mean:+.1f} '
            f'points. {_verdict(converged)}.')
    lengths = schedules(pairs, 'scratch')
    if len(lengths) > 1:
        short, longest = (group(pairs, 'scratch', times)
                          for times in lengths[-2:])
        gain = longest.mean - short.mean
        if abs(_points(gain)) <= PLATEAU_MARGIN:
            state = f'a plateau (within {PLATEAU_MARGIN:g} point)'
        elif gain > 0:
            state = f'still rising by {gain:.1f} points'
        else:
            state = f'past its peak, {-gain:.1f} points lower'
        parts.append(
            f'Scratch (no test): {longest.label} {longest.describe()}, '
            f'{short.label} {short.describe()}: {state}.')
    if not parts:
        return None
    return ('**Plateaus** (is each arm at its best, so that claims 2 and 3 '
            'compare finished trainings?). ' + ' '.join(parts))


def less_data(pairs: Sequence[Pair]) -> Optional[str]:
    """Pre-training wins on the smallest training set, by less on the next
    larger one (the next subset, or all the data); the subset is less data
    for the pre-trained arm too, and scratch overfits it."""
    sizes = sorted({run.train_images for run, _ in pairs
                    if run.train_images})
    if not sizes:
        return None
    gaps = []
    for images in (sizes[0], sizes[1] if len(sizes) > 1 else None):
        pre = best_group(pairs, 'pretrained', images)
        scratch = best_group(pairs, 'scratch', images)
        if pre is None or scratch is None:
            return None
        gaps.append((images, pre, scratch, pre.mean - scratch.mean))
    (small, pre, scratch, gap), (_, _, _, larger_gap) = gaps
    pre_all, pre_small = (group(pairs, 'pretrained', 1, images)
                          for images in (None, small))
    if pre_all is None or pre_small is None:
        return None
    drop = pre_all.mean - pre_small.mean
    peak = scratch_peak(pairs, small)
    met = (_points(gap) >= LESS_DATA_MARGIN and
           _points(gap - larger_gap) > 0 and
           _points(drop) >= LESS_DATA_DROP and _overfits(peak))
    larger = f'{gaps[1][0]} images' if gaps[1][0] else 'all the images'
    return (f'**Less data** (claim 4: pre-training helps when data are '
            f'very small). Test: on {small} images, pre-trained box AP beats '
            f'scratch\'s best schedule by >= {LESS_DATA_MARGIN:g} points, '
            f'and by more than on {larger}; the subset is less data (the '
            f'pre-trained 1x ends >= {LESS_DATA_DROP:g} points lower on it '
            f'than on all the images); scratch overfits it (its box AP '
            f'peaks >= {OVERFIT_DROP:g} point above the end of its longest '
            f'schedule). Measured: {pre_all.label} {pre_all.describe()}, '
            f'{pre_small.label} {pre_small.describe()}: '
            f'{pre_small.mean - pre_all.mean:+.1f} points; '
            f'{peak.describe()}; on {small} images '
            f'{pre.label} {pre.describe()}, best scratch ({scratch.label}) '
            f'{scratch.describe()}: {gap:+.1f} points; on {larger}: '
            f'{larger_gap:+.1f} points. {_verdict(met)}.')


def _overfits(peak: Peak) -> bool:
    return peak.drop is not None and _points(peak.drop) >= OVERFIT_DROP


def claims(pairs: Sequence[Pair], pretrain: RunLog, chance: float,
           iters_1x: int) -> List[str]:
    """One Markdown paragraph per claim: test, numbers, verdict."""
    top1 = pretrain.metric('cls/top1')
    final = top1[max(top1)]
    text = [
        f'**Pre-training** (the stand-in for ImageNet). Test: top-1 >= '
        f'{PRETRAIN_TOP1:g}% on its held-out images. Measured: '
        f'{final:.1f}% after {max(top1)} iterations (chance {chance:.1f}%; '
        'curve in pretrain_curve.png). '
        f'{_verdict(final >= PRETRAIN_TOP1)}.']
    for paragraph in (convergence(pairs, iters_1x // 4),
                      catching_up(pairs), plateaus(pairs),
                      less_data(pairs)):
        if paragraph:
            text.append(paragraph)
    main, ablation = (group(pairs, init, 1) for init in
                      ('pretrained', 'pretrained-unfrozen'))
    if main and ablation:
        text.append(
            f'**Ablation** (no test): with nothing frozen, the pre-trained '
            f'1x ends at {ablation.describe()} box AP, against '
            f'{main.describe()} with the stem and stage 1 frozen.')
    scratch, pre = group(pairs, 'scratch'), best_group(pairs, 'pretrained')
    if scratch and pre:
        gaps = {key: mean(ap(lg, f'coco/bbox_mAP_{key}') for r, lg in pairs
                          if r.label == scratch.label) -
                mean(ap(lg, f'coco/bbox_mAP_{key}') for r, lg in pairs
                     if r.label == pre.label)
                for key in ('50', '75')}
        text.append(
            f'**Localization** (claim 5, no test): {scratch.label} minus '
            f'{pre.label} is {gaps["50"]:+.1f} AP50 and {gaps["75"]:+.1f} '
            'AP75.')
    return text


def write_report(path: str, pairs: Sequence[Pair], pretrain: RunLog,
                 chance: float, iters_1x: int, table: str,
                 seconds: Dict[str, float], header: Sequence[str],
                 time_line: str = '') -> str:
    """Writes the report; returns its text.

    Args:
        time_line: The "Time line" section's Markdown
            (:func:`.timeline.time_line`); none when empty.
    """
    lines = ['# Toy-scale study: pre-training vs random init', '']
    lines += list(header) + ['']
    lines += ['## The claims, tested', '',
              'Thresholds fixed before the runs (rethink_mmdet/toy/study_'
              'report.py, docs/study.md); AP in points of box AP on the '
              'validation images, final validation of each run.', '']
    lines += [f'- {paragraph}' for paragraph in
              claims(pairs, pretrain, chance, iters_1x)]
    lines += ['', '## Runs', '', runs_table(pairs, seconds), '']
    if time_line:
        lines += ['## Time line', '', time_line, '']
    lines += ["## Table 1 layout (each run its seeds' mean, each init at "
              "its best schedule)", '', table, '',
              '![curves](curves.png)', '',
              '![pre-training](pretrain_curve.png)', '']
    text = '\n'.join(lines)
    with open(path, 'w') as f:
        f.write(text)
    return text
