"""Does a step mode train like fp32 at batch 2? The loss over the first
iterations of each mode, from the same seed, against the reference run's
(``benchmark_train.py --loss-check N``).

Every run is built as :class:`StepBench` builds it, with the config's own
optimizer and LR schedule, scaled to the run's batch as ``tools/train.py
--auto-scale-lr`` scales them (LR x batch/16; iterations, warmup and LR
drops x 16/batch), so batch 16 sees the same images with the same LR per
image as batch 2. Same seed: same initial weights, data order and flips.
Curves are compared by images seen: the mean loss over windows of
``window`` images, relative to the reference's.
"""
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Sequence

import numpy as np

from rethink_mmdet.benchmarks.train_speed import StepBench

REFERENCE = ('fp32', 2)


def loss_curve(config: str, data_root: str,
               input_size: Optional[Sequence[int]], batch_size: int,
               mode: str, iters: int, seed: int = 0,
               cfg_options: Optional[dict] = None) -> List[float]:
    """The training loss of each of the first ``iters`` iterations."""
    with tempfile.TemporaryDirectory() as work_dir:
        bench = StepBench(config, data_root, input_size, batch_size, mode,
                          osp.join(work_dir, 'run'), cfg_options, lr=None,
                          seed=seed)
        runner, batch, losses = bench.runner, bench.batch, []
        for _ in range(iters):
            out = runner.model.train_step(
                batch, optim_wrapper=runner.optim_wrapper)
            losses.append(float(out['loss'].detach()))
            for scheduler in bench.schedulers:  # ParamSchedulerHook's work
                if not scheduler.by_epoch:
                    scheduler.step()
            batch = bench._next_batch()
    return losses


def window_means(losses: Sequence[float], batch_size: int,
                 window: int) -> np.ndarray:
    """Mean loss over consecutive windows of ``window`` images (whole
    windows only); ``window`` must be a multiple of ``batch_size``."""
    per = window // batch_size
    n = len(losses) // per
    return np.asarray(losses[:n * per]).reshape(n, per).mean(1)


def compare_curves(reference: Sequence[float], curve: Sequence[float],
                   batch_size: int, window: int) -> Dict[str, float]:
    """Relative difference of the windowed means of ``curve`` (at
    ``batch_size``) from those of ``reference`` (at batch 2)."""
    ref = window_means(reference, REFERENCE[1], window)
    got = window_means(curve, batch_size, window)
    n = min(len(ref), len(got))
    rel = np.abs(got[:n] - ref[:n]) / ref[:n]
    return dict(windows=n, mean_rel=float(rel.mean()),
                max_rel=float(rel.max()))


def check_modes(config: str, data_root: str,
                input_size: Optional[Sequence[int]],
                runs: Sequence[tuple], iters: int, window: int,
                tolerance: float, seed: int = 0,
                cfg_options: Optional[dict] = None) -> List[dict]:
    """The reference run (fp32, batch 2, ``iters`` iterations), then each
    ``(mode, batch_size)`` of ``runs`` over the same number of images.

    Returns:
        One dict per run: ``mode``, ``batch_size``, ``iters``, ``windows``,
        ``mean_rel``, ``max_rel`` and ``ok`` (``max_rel <= tolerance``).
    """
    reference = loss_curve(config, data_root, input_size, REFERENCE[1],
                           REFERENCE[0], iters, seed, cfg_options)
    rows = []
    for mode, batch_size in runs:
        n = max(1, iters * REFERENCE[1] // batch_size)
        curve = loss_curve(config, data_root, input_size, batch_size, mode,
                           n, seed, cfg_options)
        row = dict(mode=mode, batch_size=batch_size, iters=n,
                   **compare_curves(reference, curve, batch_size, window))
        row['ok'] = row['max_rel'] <= tolerance
        rows.append(row)
    return rows


def format_checks(rows: Sequence[dict], iters: int, window: int,
                  tolerance: float) -> str:
    lines = [f'loss vs fp32 batch 2 over its first {iters} iterations '
             f'(windows of {window} images; tolerance {tolerance:.0%} '
             'on the largest window difference)',
             f'{"mode":<15}{"batch":>6}{"iters":>7}{"windows":>9}'
             f'{"mean |rel|":>12}{"max |rel|":>11}  verdict']
    for r in rows:
        lines.append(f'{r["mode"]:<15}{r["batch_size"]:>6}{r["iters"]:>7}'
                     f'{r["windows"]:>9}{r["mean_rel"]:>11.2%}'
                     f'{r["max_rel"]:>10.2%}  '
                     f'{"tracks" if r["ok"] else "DIFFERS"}')
    return '\n'.join(lines)
