"""The study's Markdown report: the paper's claims, decided by numbers.

Every number comes from the runs' logged validations (``RunLog``). Each
claim has a test whose thresholds are written here, before any run, and the
verdict is whatever the numbers give (docs/study.md gives the reasons for
the thresholds). A group of runs that differ only by seed is summarised by
its mean, and its spread (max - min) widens the catching-up tolerance.
"""
from dataclasses import dataclass
from statistics import mean
from typing import Dict, List, Optional, Sequence, Tuple

from rethink_mmdet.analysis.work_dirs import RunLog

from .plan import Run

BOX = 'coco/bbox_mAP'
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
#: least this many AP points (and by more than on the larger data).
LESS_DATA_MARGIN = 3.0

Pair = Tuple[Run, RunLog]


def ap(log: RunLog, key: str = BOX, iteration: Optional[int] = None
       ) -> float:
    """A validation's AP in %: the last one, or the one at ``iteration``."""
    values = log.metric(key)
    return 100 * values[max(values) if iteration is None else iteration]


@dataclass
class Group:
    """Runs that differ only by seed, summarised.

    Attributes:
        label: The runs' label (``'scratch 4x'``).
        values: One value per seed, in %.
    """
    label: str
    values: List[float]

    @property
    def mean(self) -> float:
        return mean(self.values)

    @property
    def spread(self) -> float:
        return max(self.values) - min(self.values)

    def describe(self) -> str:
        if len(self.values) == 1:
            return f'{self.values[0]:.1f}'
        seeds = ', '.join(f'{v:.1f}' for v in self.values)
        return f'{self.mean:.1f} (seeds: {seeds}; spread {self.spread:.1f})'


def group(pairs: Sequence[Pair], init: str, times: Optional[int] = None,
          images: Optional[int] = None,
          iteration: Optional[int] = None) -> Optional[Group]:
    """Final (or ``iteration``'s) box AP of the runs of one init, schedule
    (default: the longest) and training set, over seeds; None if absent."""
    runs = [(run, log) for run, log in pairs
            if run.init == init and run.train_images == images]
    if not runs:
        return None
    times = times or max(run.times for run, _ in runs)
    chosen = [(run, log) for run, log in runs if run.times == times]
    if iteration is not None:
        chosen = [(r, lg) for r, lg in chosen if iteration in lg.metric(BOX)]
    if not chosen:
        return None
    return Group(chosen[0][0].label,
                 [ap(log, iteration=iteration) for _, log in chosen])


def best_group(pairs: Sequence[Pair], init: str,
               images: Optional[int] = None) -> Optional[Group]:
    """The schedule of ``init`` with the best mean final box AP."""
    groups = [group(pairs, init, run.times, images) for run, _ in pairs
              if run.init == init and run.train_images == images]
    return max(groups, key=lambda g: g.mean) if groups else None


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
    schedules = sorted({run.times for run, lg in pairs
                        if run.init == 'scratch' and not run.train_images})
    scratch = next((g for g in (group(pairs, 'scratch', t, None, iteration)
                                for t in schedules) if g), None)
    pre = group(pairs, 'pretrained', 1, None, iteration)
    if scratch is None or pre is None:
        return None
    met = (pre.mean >= EARLY_RATIO * scratch.mean and
           pre.mean - scratch.mean >= EARLY_MARGIN)
    return (f'**Convergence** (claim 3: pre-training speeds up early '
            f'convergence). Test: after the first quarter of a 1x '
            f'(iteration {iteration}), pre-trained box AP >= '
            f'{EARLY_RATIO:g}x scratch\'s and >= {EARLY_MARGIN:g} points '
            f'ahead. Measured: {pre.label} {pre.describe()}, '
            f'{scratch.label} {scratch.describe()}: '
            f'{_ratio(pre.mean, scratch.mean)}, '
            f'{pre.mean - scratch.mean:+.1f} points. {_verdict(met)}.')


def catching_up(pairs: Sequence[Pair]) -> Optional[str]:
    """Scratch at its longest schedule catches up with pre-training's best
    (all data)."""
    scratch = group(pairs, 'scratch')
    pre = best_group(pairs, 'pretrained')
    if scratch is None or pre is None:
        return None
    spread = max(scratch.spread, pre.spread)
    tolerance = max(CATCH_UP_MIN, CATCH_UP_SPREADS * spread)
    gap = scratch.mean - pre.mean
    seeds = len(scratch.values)
    return (f'**Catching up** (claims 2 and 3: scratch catches up with a '
            f'longer schedule; pre-training does not raise the final AP). '
            f'Test: scratch\'s longest schedule ends within max('
            f'{CATCH_UP_MIN:g}, {CATCH_UP_SPREADS:g} x seed spread) box AP '
            f'of the best pre-trained schedule, or above it. Measured: '
            f'{scratch.label} {scratch.describe()}, {pre.label} '
            f'{pre.describe()}: {gap:+.1f} points, tolerance '
            f'{tolerance:.1f}' + (' (one seed: no spread measured)'
                                  if seeds == 1 else '') +
            f'. {_verdict(gap >= -tolerance)}.')


def less_data(pairs: Sequence[Pair]) -> Optional[str]:
    """Pre-training wins on the smallest training set, by less on the next
    larger one (the next subset, or all the data)."""
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
    met = gap >= LESS_DATA_MARGIN and larger_gap < gap
    larger = f'{gaps[1][0]} images' if gaps[1][0] else 'all the images'
    return (f'**Less data** (claim 4: pre-training helps when data are '
            f'very small). Test: on {small} images, pre-trained box AP beats '
            f'scratch\'s best schedule by >= {LESS_DATA_MARGIN:g} points, '
            f'and by more than on {larger}. Measured on {small} images: '
            f'{pre.label} {pre.describe()}, best scratch ({scratch.label}) '
            f'{scratch.describe()}: {gap:+.1f} points; on {larger}: '
            f'{larger_gap:+.1f} points. {_verdict(met)}.')


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
                      catching_up(pairs), less_data(pairs)):
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


def runs_table(pairs: Sequence[Pair], seconds: Dict[str, float]) -> str:
    """One Markdown row per detection run: its final metrics and time."""
    lines = ['| run | seed | iterations | train images | box AP at 1/4 of '
             '1x | peak box AP (iter) | final box AP | AP50 | AP75 | final '
             'mask AP | minutes |', '|---|---|---|---|---|---|---|---|---|'
             '---|---|']
    for run, log in pairs:
        box = log.metric(BOX)
        quarter = min(box)
        peak = max(box, key=box.get)
        lines.append(
            f'| {run.label} | {run.seed} | {run.max_iters} | '
            f'{run.train_images or "all"} | {ap(log, BOX, quarter):.1f} '
            f'({quarter}) | {ap(log, BOX, peak):.1f} ({peak}) | '
            f'{ap(log):.1f} | {ap(log, "coco/bbox_mAP_50"):.1f} | '
            f'{ap(log, "coco/bbox_mAP_75"):.1f} | '
            f'{ap(log, "coco/segm_mAP"):.1f} | '
            f'{seconds.get(run.name, float("nan")) / 60:.1f} |')
    return '\n'.join(lines)


def write_report(path: str, pairs: Sequence[Pair], pretrain: RunLog,
                 chance: float, iters_1x: int, table: str,
                 seconds: Dict[str, float], header: Sequence[str]) -> str:
    """Writes the report; returns its text."""
    lines = ['# Toy-scale study: pre-training vs random init', '']
    lines += list(header) + ['']
    lines += ['## The claims, tested', '',
              'Thresholds fixed before the runs (rethink_mmdet/study/'
              'report.py, docs/study.md); AP in points of box AP on the '
              'validation images, final validation of each run.', '']
    lines += [f'- {paragraph}' for paragraph in
              claims(pairs, pretrain, chance, iters_1x)]
    lines += ['', '## Runs', '', runs_table(pairs, seconds), '',
              "## Table 1 layout (first seed, each init at its best "
              "schedule)", '', table, '',
              '![curves](curves.png)', '',
              '![pre-training](pretrain_curve.png)', '']
    text = '\n'.join(lines)
    with open(path, 'w') as f:
        f.write(text)
    return text
