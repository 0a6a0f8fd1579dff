"""Training-step time and memory of a config, side by side with another
(``tools/analysis_tools/benchmark_train.py``).

Each config is built as ``tools/train.py`` builds it (mmengine's Runner:
model, data loader, optimizer wrapper, weight init), pointed at the
synthetic COCO data (:func:`rethink_mmdet.runner.synthetic_data.synthetic_data_overrides`)
so no COCO is needed. One step is ``model.train_step``: data preprocessing
(device copy, normalization, padding), forward, backward and the optimizer
update, as the train loop runs it, without hooks.

- *step*: the same pre-fetched batch each time (data loading excluded);
- *step + data*: the next batch from the loader, then the step.

The configs' steps alternate (A, B, A, B, ...) so that load on a shared
machine hits both alike; each reports the median after warm-up.

Memory is ``persistent + step peak``: parameters, buffers and optimizer
state, plus the largest growth during one step (GPU:
``torch.cuda.max_memory_allocated`` over what was allocated before the
step; CPU: the resident set size sampled every millisecond, which is
approximate: the C allocator keeps some freed memory resident).
"""
import contextlib
import os
import os.path as osp
import statistics
import tempfile
import threading
import time
from typing import Dict, List, Optional, Sequence

import torch

from rethink_mmdet.runner import UsageError, build_runner, load_config


def resolve_config(path: str) -> str:
    """A config file path; ``mmdet::REL`` is REL in the installed mmdet's
    configs."""
    if path.startswith('mmdet::'):
        from mmengine.utils import get_installed_path
        path = osp.join(get_installed_path('mmdet'), '.mim', 'configs',
                        path[len('mmdet::'):])
    if not osp.isfile(path):
        raise UsageError(f'config file not found: {path}')
    return path


class _RssSampler:
    """Largest resident set size (bytes) seen by a background thread."""

    def __init__(self, period: float = 1e-3):
        self.period, self.peak = period, 0
        self._stop = threading.Event()
        self._page = os.sysconf('SC_PAGE_SIZE')
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * self._page

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(self.period)

    def __enter__(self):
        self.start = self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


class StepBench:
    """One config, built and ready to take timed training steps.

    Args:
        config: Config path (``mmdet::`` allowed).
        data_root: Synthetic COCO data (``make_synthetic_coco``).
        input_size: ``(long, short)`` side of the train pipeline's Resize
            (keep ratio), or None for the config's own (1333, 800).
        batch_size: Images per step.
        amp: Mixed precision (``AmpOptimWrapper``, dynamic loss scale).
        work_dir: Where the Runner may write its logs.
        cfg_options: Further overrides (``--cfg-options``), applied last.
    """

    def __init__(self, config: str, data_root: str,
                 input_size: Optional[Sequence[int]], batch_size: int,
                 amp: bool, work_dir: str, cfg_options: Optional[dict] = None):
        from rethink_mmdet.runner.synthetic_data import \
            synthetic_data_overrides
        path = resolve_config(config)
        cfg = load_config(path)
        overrides = synthetic_data_overrides(
            path, data_root, scale=tuple(input_size or (1333, 800)))
        overrides.update({
            'train_dataloader.batch_size': batch_size,
            # Steps on a reused batch must not diverge: a small LR costs
            # the optimizer the same arithmetic as the schedule's.
            'optim_wrapper.optimizer.lr': 1e-4,
            'work_dir': work_dir,
            'default_hooks.logger.interval': 10**9,
            'log_level': 'WARNING',
        })
        cfg.merge_from_dict(overrides)
        cfg.merge_from_dict(cfg_options or {})
        if amp:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
        cfg.launcher = 'none'
        self.name = config
        self.runner = runner = build_runner(cfg)
        # What Runner.train() does before its loop, without the hooks.
        runner._train_loop = runner.build_train_loop(runner._train_loop)
        runner.optim_wrapper = runner.build_optim_wrapper(
            runner.optim_wrapper)
        runner._init_model_weights()
        self.loader = iter(runner.train_dataloader)
        self.batch = next(self.loader)
        self.times: Dict[str, List[float]] = {'step': [], 'step+data': []}
        self.step_peak = 0

    def _next_batch(self):
        try:
            return next(self.loader)
        except StopIteration:
            self.loader = iter(self.runner.train_dataloader)
            return next(self.loader)

    def step(self, with_data: bool, record: bool) -> None:
        """One training step; ``record`` keeps its time and memory."""
        cuda = torch.cuda.is_available()
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
        with _RssSampler() if not cuda else contextlib.nullcontext() as rss:
            start = time.perf_counter()
            batch = self._next_batch() if with_data else self.batch
            losses = self.runner.model.train_step(
                batch, optim_wrapper=self.runner.optim_wrapper)
            if cuda:
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
        growth = (torch.cuda.max_memory_allocated() - before if cuda else
                  rss.peak - rss.start)
        if not torch.isfinite(losses['loss']):
            raise RuntimeError(f'{self.name}: non-finite loss {losses}')
        if record:
            self.times['step+data' if with_data else 'step'].append(seconds)
            self.step_peak = max(self.step_peak, growth)

    def persistent_bytes(self) -> int:
        """Parameters, buffers and optimizer state."""
        model = self.runner.model
        tensors = list(model.parameters()) + list(model.buffers())
        for state in self.runner.optim_wrapper.optimizer.state.values():
            tensors += [v for v in state.values() if torch.is_tensor(v)]
        return sum(t.numel() * t.element_size() for t in tensors)

    def summary(self) -> Dict[str, float]:
        return dict(
            step_s=statistics.median(self.times['step']),
            step_data_s=statistics.median(self.times['step+data']),
            memory_mb=(self.persistent_bytes() + self.step_peak) / 2**20)


def compare(configs: Sequence[str], data_root: str,
            input_size: Optional[Sequence[int]], batch_size: int, amp: bool,
            warmup: int, iters: int,
            cfg_options: Optional[dict] = None) -> List[Dict[str, float]]:
    """Builds every config, then alternates their steps (``warmup``
    unrecorded rounds, then ``iters`` recorded rounds of a step without
    and one with data loading)."""
    with tempfile.TemporaryDirectory() as work_dir:
        benches = [StepBench(c, data_root, input_size, batch_size, amp,
                             osp.join(work_dir, str(i)), cfg_options)
                   for i, c in enumerate(configs)]
        for round_ in range(warmup + iters):
            for bench in benches:
                for with_data in (False, True):
                    bench.step(with_data, record=round_ >= warmup)
        return [dict(config=b.name, **b.summary()) for b in benches]


def format_rows(rows: Sequence[dict], device: str) -> str:
    """The table: medians, memory and, for two configs, first / second."""
    width = max(len(r['config']) for r in rows) + 2
    lines = [f'training step on {device}: median seconds, memory '
             '(persistent + step peak)',
             f'{"config":<{width}}{"step s":>9}{"step+data s":>13}'
             f'{"memory MiB":>12}']
    for r in rows:
        lines.append(f'{r["config"]:<{width}}{r["step_s"]:>9.3f}'
                     f'{r["step_data_s"]:>13.3f}{r["memory_mb"]:>12.0f}')
    if len(rows) == 2:
        a, b = rows
        lines.append(f'{"ratio (first / second)":<{width}}'
                     f'{a["step_s"] / b["step_s"]:>8.3f}x'
                     f'{a["step_data_s"] / b["step_data_s"]:>12.3f}x'
                     f'{a["memory_mb"] / b["memory_mb"]:>11.3f}x')
    return '\n'.join(lines)
