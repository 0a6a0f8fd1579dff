"""The whole paper on paper: GPU-hours per row and the wall time of a set
of rows on N nodes, from one figure of seconds per iteration.

What is counted:

* a training row: its iterations x seconds per iteration, on the GPUs of
  one row (the paper's batch of 16 = 8 GPUs x 2 images), so GPU-hours =
  iterations x s/iter x GPUs per row / 3600. Its periodic validations
  (5k images every 30k iterations, about 1% of the row) are not counted.
* a ``-tta`` row: one evaluation only, ``eval_images`` (COCO val2017:
  5000) x the test-time views of its config (scales x flips) forward
  passes, each costed as one training image (s/iter / images per GPU),
  spread over the row's GPUs: an upper bound on the forward passes (a
  training step also runs backward) that ignores the views' sizes.
* the wall time on N nodes: each node runs ``gpus_per_node //
  gpus_per_row`` rows at a time; rows are taken longest first onto the
  slot free earliest, a row only after the rows it needs have ended.
"""
import json
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from rethink_mmdet.runner import UsageError, load_config

from .row_sets import Row

PAPER_BATCH = 16
GPUS_PER_NODE = 8
#: COCO val2017, the paper's evaluation set (docs/recipe.md, "Data").
EVAL_IMAGES = 5000


@dataclass(frozen=True)
class RowCost:
    """One row's cost.

    Attributes:
        name: The row.
        kind: ``'train'`` or ``'evaluation'``.
        work: What was counted: iterations, or images x views.
        hours: Wall hours on the row's GPUs.
        gpu_hours: ``hours`` x GPUs per row.
        needs: Rows it starts after.
    """
    name: str
    kind: str
    work: str
    hours: float
    gpu_hours: float
    needs: Tuple[str, ...] = ()


@dataclass
class CostEstimate:
    """The per-row table, the total and the wall time per node count."""
    rows: List[RowCost]
    seconds_per_iter: float
    source: str
    gpus_per_row: int
    gpus_per_node: int
    wall_hours: Dict[int, float]

    @property
    def gpu_hours(self) -> float:
        return sum(row.gpu_hours for row in self.rows)


def tta_views(config: str) -> int:
    """Views per image of a config's ``tta_pipeline``: the product of the
    lengths of its ``TestTimeAug`` transform lists (scales x flips)."""
    cfg = load_config(config, None)
    views = 1
    for step in cfg.get('tta_pipeline') or []:
        if step.get('type') == 'TestTimeAug':
            for choices in step['transforms']:
                views *= len(choices)
    return views


def estimate(rows: Sequence[Row], seconds_per_iter: float,
             source: str = 'given', nodes: Sequence[int] = (1, 4, 8),
             gpus_per_row: int = 8, gpus_per_node: int = GPUS_PER_NODE,
             eval_images: int = EVAL_IMAGES,
             views_of: Callable[[Row], int] = lambda row: tta_views(
                 row.config)) -> CostEstimate:
    """Each row's hours and GPU-hours, and the wall time of them all on
    each of ``nodes`` node counts.

    Args:
        rows: The rows (training and ``-tta``).
        seconds_per_iter: Seconds per training iteration of the paper's
            batch on ``gpus_per_row`` GPUs.
        source: Where that figure comes from (shown with it).
        nodes: Node counts to give the wall time for.
        gpus_per_row: GPUs one row trains on (8: 2 images each).
        gpus_per_node: GPUs per node.
        eval_images: Images of one evaluation.
        views_of: Test-time views per image of a ``-tta`` row.

    Raises:
        UsageError: a figure that is not positive, or rows that wait on
            each other.
    """
    if not seconds_per_iter > 0:
        raise UsageError(f'seconds per iteration must be > 0, got '
                         f'{seconds_per_iter}')
    if not 0 < gpus_per_row <= gpus_per_node or PAPER_BATCH % gpus_per_row:
        raise UsageError(f'GPUs per row must divide the batch of '
                         f'{PAPER_BATCH} and fit a node of {gpus_per_node}'
                         f', got {gpus_per_row}')
    per_image = seconds_per_iter / (PAPER_BATCH // gpus_per_row)
    costs = []
    for row in rows:
        if row.tta_of is None:
            seconds = row.max_iters * seconds_per_iter
            work, kind = f'{row.max_iters} iterations', 'train'
        else:
            views = views_of(row)
            seconds = eval_images * views * per_image / gpus_per_row
            work, kind = f'{eval_images} images x {views} views', 'evaluation'
        costs.append(RowCost(row.name, kind, work, seconds / 3600,
                             seconds * gpus_per_row / 3600, row.needs))
    slots = gpus_per_node // gpus_per_row
    return CostEstimate(costs, seconds_per_iter, source, gpus_per_row,
                        gpus_per_node, {n: pack(costs, n * slots)
                                        for n in nodes})


def pack(costs: Sequence[RowCost], slots: int) -> float:
    """Wall hours of ``costs`` on ``slots`` slots: the longest row that can
    start goes to the slot free earliest (starting once the rows it needs
    have ended); rows outside ``costs`` are not waited for."""
    if slots < 1:
        raise UsageError(f'need at least one slot, got {slots}')
    names = {cost.name for cost in costs}
    free = [0.0] * slots
    ended: Dict[str, float] = {}
    pending = sorted(costs, key=lambda c: -c.hours)  # stable: ties in order
    while pending:
        ready = next((c for c in pending if all(
            n in ended or n not in names for n in c.needs)), None)
        if ready is None:
            raise UsageError('rows wait on each other: '
                             + ', '.join(c.name for c in pending))
        pending.remove(ready)
        after = max((ended[n] for n in ready.needs if n in ended),
                    default=0.0)
        slot = min(range(slots), key=lambda s: max(free[s], after))
        ended[ready.name] = max(free[slot], after) + ready.hours
        free[slot] = ended[ready.name]
    return max(ended.values(), default=0.0)


def seconds_from_benchmark(path: str, mode: str = 'fp32',
                           gpus_per_row: int = 8) -> Tuple[float, str]:
    """Seconds per iteration from ``benchmark_train.py --json``'s figures:
    the benchmarked config's (the first in the file, not ``--vs``)
    images/s in ``mode``, at the batch one GPU of the row holds (else the
    nearest batch measured); s/iter = images per GPU / images/s.

    Returns:
        The seconds and a line saying which figure it used.

    Raises:
        UsageError: an unreadable file, or no figure for ``mode``.
    """
    try:
        with open(path) as f:
            measured = json.load(f)
        rows = [r for r in measured['rows'] if r['images_s'] > 0]
        config = measured['rows'][0]['config']
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        raise UsageError(f'{path}: not a benchmark_train.py --json file '
                         f'({type(error).__name__}: {error})') from None
    per_gpu = PAPER_BATCH // gpus_per_row
    ours = [r for r in rows if r['config'] == config and r['mode'] == mode]
    if not ours:
        have = sorted({f'{r["mode"]} batch {r["batch_size"]}' for r in rows
                       if r['config'] == config})
        raise UsageError(f'{path}: no {mode} figure of {config} (it has: '
                         f'{", ".join(have) or "none"})')
    row = min(ours, key=lambda r: (abs(r['batch_size'] - per_gpu),
                                   r['batch_size']))
    seconds = per_gpu / row['images_s']
    note = ('' if row['batch_size'] == per_gpu else
            f', measured at batch {row["batch_size"]}, not {per_gpu}')
    return seconds, (
        f'{path}: {config}, {mode}, {row["images_s"]:.2f} images/s (the '
        f'training step without data loading, on '
        f'{measured.get("device", "an unnamed device")}{note}) -> '
        f'{per_gpu} images per GPU / {row["images_s"]:.2f} = '
        f'{seconds:.4f} s/iter; gradient all-reduce not included')


def format_cost(cost: CostEstimate, markdown: bool = False) -> str:
    """The per-row table, the total and the wall time per node count."""
    header = ['row', 'counted', 'hours on its GPUs', 'GPU-hours']
    rows = [[c.name, c.work, f'{c.hours:.1f}', f'{c.gpu_hours:.1f}']
            for c in cost.rows]
    rows.append(['total', f'{len(cost.rows)} rows', '',
                 f'{cost.gpu_hours:.1f}'])
    slots = cost.gpus_per_node // cost.gpus_per_row
    walls = [[str(n), str(n * slots), f'{hours:.1f}', f'{hours / 24:.1f}']
             for n, hours in cost.wall_hours.items()]
    figure = (f'{cost.seconds_per_iter:g} s/iter ({cost.source}); '
              f'{cost.gpus_per_row} GPUs per row, {cost.gpus_per_node} per '
              'node')
    return '\n\n'.join([figure, _table(header, rows, markdown), _table(
        [f'nodes of {cost.gpus_per_node} GPUs', 'rows at a time',
         'wall hours', 'days'], walls, markdown)])


def _table(header: List[str], rows: List[List[str]], markdown: bool) -> str:
    if markdown:
        return '\n'.join(['| ' + ' | '.join(header) + ' |',
                          '|' + '---|' * len(header)]
                         + ['| ' + ' | '.join(r) + ' |' for r in rows])
    widths = [max(len(r[i]) for r in [header] + rows)
              for i in range(len(header))]
    return '\n'.join('  '.join(cell.ljust(w) for cell, w in zip(r, widths))
                     .rstrip() for r in [header] + rows)


def estimate_for(rows: Sequence[Row], seconds_per_iter: Optional[float] =
                 None, benchmark: Optional[str] = None, mode: str = 'fp32',
                 **options) -> CostEstimate:
    """:func:`estimate` from ``--seconds-per-iter`` or a benchmark's JSON
    (exactly one of the two)."""
    if (seconds_per_iter is None) == (benchmark is None):
        raise UsageError('give either the seconds per iteration or a '
                         'benchmark_train.py --json file, not both or none')
    source = options.pop('source', 'given')
    if benchmark is not None:
        seconds_per_iter, source = seconds_from_benchmark(
            benchmark, mode, options.get('gpus_per_row', 8))
    return estimate(rows, seconds_per_iter, source, **options)
