"""AP against training length, one line per run, in the paper's style.

Scratch runs are solid, pre-trained runs dashed (runs whose init is unknown
solid); each run's LR drops are marked with a dotted vertical line of its
colour, so the leaps after them are visible. The plotted numbers are also
written as CSV beside the figure.
"""
import csv
import glob
import os.path as osp
import re
from typing import List, Optional, Sequence

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
    import matplotlib
    matplotlib.use('Agg')  # no display on clusters and CI
    import matplotlib.pyplot as plt

    if x not in ('iters', 'images'):
        raise ValueError(f"x must be 'iters' or 'images', got {x!r}")
    if legends is not None and len(legends) != len(runs):
        raise ValueError(f'{len(legends)} legends for {len(runs)} runs')
    keys = [m if '/' in m else f'coco/{m}' for m in metrics]
    figure, axes = plt.subplots(1, len(keys), squeeze=False,
                                figsize=(6 * len(keys), 4.5))
    csv_path = osp.splitext(out)[0] + '.csv'
    rows = []
    for index, run in enumerate(runs):
        label = legends[index] if legends else run.name
        # The CSV's images column wherever the batch is known.
        batch = (images_per_iteration(run) if x == 'images'
                 else _batch_or_none(run))
        scale = batch if x == 'images' else 1
        colour = f'C{index % 10}'
        drops = run.lr_drops()  # reads the run's config: once per run
        for key, axis in zip(keys, axes[0]):
            points = run.metric(key)
            percent = 100 if key.startswith('coco/') else 1
            axis.plot([i * scale for i in points],
                      [percent * v for v in points.values()],
                      LINE_STYLES[run.init], marker='o', markersize=3,
                      color=colour, label=label)
            for drop in drops:
                axis.axvline(drop * scale, color=colour, linestyle=':',
                             linewidth=0.8)
            rows += [[label, run.init or '', key, i,
                      '' if batch is None else i * batch, v]
                     for i, v in points.items()]
    for key, axis in zip(keys, axes[0]):
        axis.set_xlabel('iterations' if x == 'iters' else 'images seen')
        axis.set_ylabel(f'{key.split("/")[-1]} (%)')
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    with open(csv_path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['run', 'init', 'metric', 'iteration', 'images',
                         'value'])
        writer.writerows(rows)
    return figure, csv_path
