"""The study's runs summarised over seeds, for the report's claims.

A group is the runs that differ only by seed (one label, e.g.
``'scratch 4x'``): its value is their mean box AP, in %, and its spread is
max - min. These functions measure; the thresholds and verdicts are the
report's (:mod:`.report`).
"""
from dataclasses import dataclass
from statistics import mean
from typing import List, Optional, Sequence, Tuple

from rethink_mmdet.analysis.curves import seed_group_points
from rethink_mmdet.analysis.work_dirs import RunLog
from rethink_mmdet.toy.study_plan import Run

BOX = 'coco/bbox_mAP'
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


def schedules(pairs: Sequence[Pair], init: str,
              images: Optional[int] = None) -> List[int]:
    """The schedule lengths (in 1x) ``init`` trained on ``images``,
    shortest first."""
    return sorted({run.times for run, _ in pairs
                   if run.init == init and run.train_images == images})


@dataclass
class Peak:
    """Scratch's highest box AP before the end of its longest schedule.

    Attributes:
        peak: Box AP at the peak, one value per seed (None: no point before
            the end); its label names the run.
        iteration: The peak's iteration.
        final: The longest schedule's final box AP, one value per seed.
        end: The longest schedule's final iteration.
    """
    peak: Optional[Group]
    iteration: Optional[int]
    final: Group
    end: int

    @property
    def drop(self) -> Optional[float]:
        """Seed-mean peak minus final, in AP points (None: no peak)."""
        return None if self.peak is None else (
            self.peak.mean - self.final.mean)

    def describe(self) -> str:
        """The peak, the end and the drop, in words."""
        final = (f'{self.final.label} ends at {self.final.describe()} '
                 f'(iteration {self.end})')
        if self.peak is None:
            return f'{final}, no validation before it: no peak measured'
        return (f'scratch peaks at {self.peak.describe()} ('
                f'{self.peak.label}, iteration {self.iteration}), {final}: '
                f'drop {self.drop:.1f} points' + (
                    ' (no drop: highest at its end)' if self.drop <= 0
                    else ''))


def scratch_peak(pairs: Sequence[Pair], images: Optional[int]
                 ) -> Optional[Peak]:
    """Where scratch's box AP on ``images`` training images peaks, to tell
    whether it overfits them (the report's test: :attr:`Peak.drop` >=
    ``report.OVERFIT_DROP``).

    The points are the seed-mean box AP at every validation of the longest
    schedule's runs (the iterations all its seeds validated at) and each
    shorter schedule's seed-mean final box AP, at its final iteration. The
    peak is the highest point before the longest schedule's final
    validation (the earliest on a tie), and the drop is the peak minus that
    final validation. None without scratch runs on ``images``.
    """
    lengths = schedules(pairs, 'scratch', images)
    if not lengths:
        return None
    runs = [(run, log) for run, log in pairs if run.init == 'scratch' and
            run.train_images == images]
    common = list(seed_group_points(
        [log for run, log in runs if run.times == lengths[-1]], BOX))
    end = common[-1]
    points = [(group(pairs, 'scratch', lengths[-1], images, it), it)
              for it in common[:-1]]
    for times in lengths[:-1]:
        final = max(max(log.metric(BOX)) for run, log in runs
                    if run.times == times)
        points.append((group(pairs, 'scratch', times, images), final))
    points = [(g, it) for g, it in points if it < end]
    peak, iteration = max(points, key=lambda p: (p[0].mean, -p[1]),
                          default=(None, None))
    return Peak(peak, iteration, group(pairs, 'scratch', images=images), end)
