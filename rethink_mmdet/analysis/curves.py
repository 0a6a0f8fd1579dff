"""AP against training length, in the paper's style: one line per run
(:func:`plot_curves`), or per group of runs that differ only by seed, its
mean with the range over seeds shaded (:func:`plot_seed_groups`).

Scratch runs are solid, pre-trained runs dashed (runs whose init is unknown
solid); each run's LR drops are marked with a dotted vertical line of its
colour, so the leaps after them are visible. The plotted numbers are also
written as CSV beside the figure.
"""
import csv
import glob
import os.path as osp
import re
from statistics import mean
from typing import Dict, List, Optional, Sequence

from .work_dirs import RunLog

LINE_STYLES = {'scratch': '-', 'pretrained': '--', None: '-'}


def images_per_iteration(run: RunLog) -> int:
    """Total batch of a run: its config's batch size x its world size.

    The world size is what mmengine logs as "GPU number" (processes, CPU
    ones included).
    """
    cfg = run.load_config()
    if cfg is None:
        raise ValueError(f'{run.work_dir}: no dumped config, so the batch '
                         'size (for --x images) is unknown')
    world_size = 1
    for log in glob.glob(osp.join(run.work_dir, '*', '*.log')):
        with open(log) as f:
            match = re.search(r'GPU number: (\d+)', f.read())
        if match:
            world_size = int(match.group(1))
            break
    return cfg.train_dataloader.batch_size * world_size


def _batch_or_none(run: RunLog) -> Optional[int]:
    try:
        return images_per_iteration(run)
    except ValueError:
        return None


def plot_curves(runs: Sequence[RunLog], metrics: Sequence[str], out: str,
                x: str = 'iters', legends: Optional[List[str]] = None):
    """Draws the curves and writes ``out`` and its CSV twin.

    Args:
        runs: The runs, one line each.
        metrics: Metric keys, one subplot each; ``coco/`` may be left out
            (``bbox_mAP`` means ``coco/bbox_mAP``). COCO's fractions are
            drawn in %; other metrics (``cls/top1``) as logged.
        out: Image path (``.png``); the CSV goes to the same stem.
        x: ``'iters'`` or ``'images'`` (iterations x total batch).
        legends: One label per run (default: the config names).

    Returns:
        ``(figure, csv_path)``.
    """
    if x not in ('iters', 'images'):
        raise ValueError(f"x must be 'iters' or 'images', got {x!r}")
    if legends is not None and len(legends) != len(runs):
        raise ValueError(f'{len(legends)} legends for {len(runs)} runs')
    keys = _metric_keys(metrics)
    figure, axes = _subplots(len(keys))
    rows = []
    for index, run in enumerate(runs):
        label = legends[index] if legends else run.name
        # The CSV's images column wherever the batch is known.
        batch = (images_per_iteration(run) if x == 'images'
                 else _batch_or_none(run))
        scale = batch if x == 'images' else 1
        colour = f'C{index % 10}'
        drops = run.lr_drops()  # reads the run's config: once per run
        for key, axis in zip(keys, axes):
            points = run.metric(key)
            percent = _percent(key)
            axis.plot([i * scale for i in points],
                      [percent * v for v in points.values()],
                      LINE_STYLES[run.init], marker='o', markersize=3,
                      color=colour, label=label)
            _mark_drops(axis, drops, colour, scale)
            rows += [[label, run.init or '', key, i,
                      '' if batch is None else i * batch, v]
                     for i, v in points.items()]
    return _save(figure, axes, keys, x, out,
                 ['run', 'init', 'metric', 'iteration', 'images', 'value'],
                 rows)


def seed_groups(runs: Sequence[RunLog], labels: Sequence[str]
                ) -> Dict[str, List[RunLog]]:
    """The runs by label, labels in order of first appearance: runs that
    share one are the same run trained with several seeds."""
    if len(labels) != len(runs):
        raise ValueError(f'{len(labels)} labels for {len(runs)} runs')
    groups: Dict[str, List[RunLog]] = {}
    for label, run in zip(labels, runs):
        groups.setdefault(label, []).append(run)
    return groups


def seed_group_points(runs: Sequence[RunLog], key: str
                      ) -> Dict[int, List[float]]:
    """One metric of runs that differ only by seed: its values by
    iteration, one per run, at the iterations every run validated at."""
    curves = [run.metric(key) for run in runs]
    common = sorted(set.intersection(*(set(curve) for curve in curves)))
    return {i: [curve[i] for curve in curves] for i in common}


def plot_seed_groups(runs: Sequence[RunLog], labels: Sequence[str],
                     metrics: Sequence[str], out: str):
    """Draws each group of runs that share a label (the same run trained
    with several seeds) as its mean line, with the min-max range over seeds
    shaded (one seed: its line alone), against iterations; writes ``out``
    and its CSV twin.

    Args:
        runs: The runs.
        labels: One label per run; runs with the same label are one group
            (legend entries, in order of first appearance).
        metrics: Metric keys, one subplot each (``bbox_mAP`` means
            ``coco/bbox_mAP``): one no run logged gets no subplot (no mask
            AP from a detector without a mask head), and a group where a
            run lacks one is left out of its subplot. COCO's fractions are
            drawn in %.
        out: Image path (``.png``); the CSV goes to the same stem.

    Returns:
        ``(figure, csv_path)``. The CSV has one row per group, metric and
        iteration every run of the group validated at: ``group, init,
        metric, iteration, seeds, mean, min, max``, values as logged.
    """
    groups = seed_groups(runs, labels)
    keys = [key for key in _metric_keys(metrics)
            if any(run.has_metric(key) for run in runs)]
    figure, axes = _subplots(len(keys))
    rows = []
    for index, (label, members) in enumerate(groups.items()):
        colour = f'C{index % 10}'
        init = members[0].init
        drops = members[0].lr_drops()  # the seeds share the schedule
        for key, axis in zip(keys, axes):
            if not all(run.has_metric(key) for run in members):
                continue
            points = seed_group_points(members, key)
            percent = _percent(key)
            iterations = list(points)
            axis.plot(iterations,
                      [percent * mean(v) for v in points.values()],
                      LINE_STYLES[init], marker='o', markersize=3,
                      color=colour, label=label)
            if len(members) > 1:
                axis.fill_between(
                    iterations, [percent * min(v) for v in points.values()],
                    [percent * max(v) for v in points.values()],
                    color=colour, alpha=0.2, linewidth=0)
            _mark_drops(axis, drops, colour, 1)
            rows += [[label, init or '', key, i, len(v), mean(v), min(v),
                      max(v)] for i, v in points.items()]
    return _save(figure, axes, keys, 'iters', out,
                 ['group', 'init', 'metric', 'iteration', 'seeds', 'mean',
                  'min', 'max'], rows)


def _metric_keys(metrics: Sequence[str]) -> List[str]:
    return [m if '/' in m else f'coco/{m}' for m in metrics]


def _percent(key: str) -> int:
    # COCO logs fractions; other metrics (cls/top1) are logged in %.
    return 100 if key.startswith('coco/') else 1


def _subplots(count: int):
    """A figure with ``count`` subplots side by side, and the subplots."""
    import matplotlib
    matplotlib.use('Agg')  # no display on clusters and CI
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, count, squeeze=False,
                                figsize=(6 * count, 4.5))
    return figure, list(axes[0])


def _mark_drops(axis, drops: Sequence[int], colour: str, scale: int) -> None:
    for drop in drops:
        axis.axvline(drop * scale, color=colour, linestyle=':',
                     linewidth=0.8)


def _save(figure, axes, keys: Sequence[str], x: str, out: str,
          header: Sequence[str], rows: Sequence[Sequence[object]]):
    """Labels the subplots, saves the figure and its CSV twin; returns
    ``(figure, csv_path)``."""
    for key, axis in zip(keys, axes):
        axis.set_xlabel('iterations' if x == 'iters' else 'images seen')
        axis.set_ylabel(f'{key.split("/")[-1]} (%)')
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    csv_path = osp.splitext(out)[0] + '.csv'
    with open(csv_path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return figure, csv_path
