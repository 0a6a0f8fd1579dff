"""Training-step time and memory of a config, side by side with another
(``tools/analysis_tools/benchmark_train.py``).

Each config is built as ``tools/train.py`` builds it (mmengine's Runner:
model, data loader, optimizer wrapper, weight init), pointed at the
synthetic COCO data
(:func:`rethink_mmdet.runner.synthetic_data.synthetic_data_overrides`) so
no COCO is needed. One step is ``model.train_step``: data preprocessing
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
import uuid
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

import torch

from rethink_mmdet.engine.schedule_scaling import (
    scale_schedule_to_batch,
    total_batch_size,
)
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


#: Precisions a step mode starts with (fp32 when it names none).
PRECISIONS = ('fp32', 'amp-fp16', 'amp-bf16')
#: Speed switches a mode can add (``speed.*`` of the default runtime,
#: :mod:`rethink_mmdet.engine.hooks.speed_switches`): a mode is a precision
#: and switches joined by ``+``, e.g. ``amp-bf16+channels-last``.
SWITCHES = ('channels-last', 'fixed-shapes', 'compile')


def parse_mode(mode: str) -> Tuple[str, FrozenSet[str]]:
    """``'amp-bf16+channels-last'`` -> ``('amp-bf16', {'channels-last'})``.

    Raises:
        ValueError: an unknown part, two precisions or a repeated switch.
    """
    parts = mode.split('+')
    precisions = [p for p in parts if p in PRECISIONS]
    switches = [p for p in parts if p in SWITCHES]
    unknown = [p for p in parts if p not in PRECISIONS + SWITCHES]
    if unknown:
        raise ValueError(
            f'unknown mode {mode!r}: {unknown[0]!r} is neither a precision '
            f'({", ".join(PRECISIONS)}) nor a switch ({", ".join(SWITCHES)});'
            ' join them with +')
    if len(precisions) > 1 or len(set(switches)) < len(switches):
        raise ValueError(f'mode {mode!r} names a precision or a switch twice')
    return (precisions or ['fp32'])[0], frozenset(switches)


def mode_problem(mode: str, cuda: bool) -> Optional[str]:
    """Why ``mode`` cannot run on this machine, or None."""
    try:
        precision, _ = parse_mode(mode)
    except ValueError as e:
        return str(e)
    if precision == 'amp-fp16' and not cuda:
        return ('amp-fp16 needs a GPU (mmengine\'s GradScaler is a GPU '
                'feature): on the CPU use amp-bf16')
    return None


def fixed_shapes_for(input_size: Optional[Sequence[int]]) -> list:
    """``speed.fixed_shapes`` for a Resize to ``(long, short)``: landscape
    and portrait, each side padded up to a multiple of 32 (1333x800:
    ``[(800, 1344), (1344, 800)]``)."""
    long, short = (-(-side // 32) * 32 for side in input_size or (1333, 800))
    return sorted({(short, long), (long, short)})


class StepBench:
    """One config, built and ready to take timed training steps.

    Args:
        config: Config path (``mmdet::`` allowed).
        data_root: Synthetic COCO data (``make_synthetic_coco``).
        input_size: ``(long, short)`` side of the train pipeline's Resize
            (keep ratio), or None for the config's own (1333, 800).
        batch_size: Images per step.
        mode: A precision of :data:`PRECISIONS` and switches of
            :data:`SWITCHES`, joined by ``+`` (:func:`parse_mode`).
            ``amp-*``: ``tools/train.py --amp``'s wrapper
            (``MixedPrecisionOptimWrapper``: a dynamic loss scale in fp16,
            none in bf16); a config of MMDetection's own (``mmdet::``) gets
            mmengine's ``AmpOptimWrapper`` on a GPU, as its ``--amp`` does.
            The switches are the default runtime's ``speed`` switches
            (:func:`rethink_mmdet.engine.apply_speed_switches`;
            ``fixed-shapes``: :func:`fixed_shapes_for` the input size).
        work_dir: Where the Runner may write its logs.
        cfg_options: Further overrides (``--cfg-options``), applied last.
        lr: The optimizer's LR; None keeps the config's and scales it, and
            an iteration-based schedule, to ``batch_size`` as
            ``tools/train.py --auto-scale-lr`` does (one process).
        seed: ``randomness.seed`` (weights, data order, augmentation).
    """

    def __init__(self, config: str, data_root: str,
                 input_size: Optional[Sequence[int]], batch_size: int,
                 mode: str, work_dir: str, cfg_options: Optional[dict] = None,
                 lr: Optional[float] = 1e-4, seed: Optional[int] = None):
        from rethink_mmdet.engine import apply_speed_switches
        from rethink_mmdet.runner.synthetic_data import (
            synthetic_data_overrides,
        )
        cuda = torch.cuda.is_available()
        problem = mode_problem(mode, cuda)
        if problem:
            raise UsageError(problem)
        precision, switches = parse_mode(mode)
        path = resolve_config(config)
        cfg = load_config(path)
        overrides = synthetic_data_overrides(
            path, data_root, scale=tuple(input_size or (1333, 800)))
        overrides.update({
            'train_dataloader.batch_size': batch_size,
            'work_dir': work_dir,
            # The configs' visualizer is one global instance by name: a
            # later Runner would write into an earlier, deleted work_dir.
            'visualizer.name': f'benchmark-{uuid.uuid4().hex}',
            'default_hooks.logger.interval': 10**9,
            'log_level': 'WARNING',
        })
        if lr is not None:
            # Steps on a reused batch must not diverge: a small LR costs
            # the optimizer the same arithmetic as the schedule's.
            overrides['optim_wrapper.optimizer.lr'] = lr
        if seed is not None:
            overrides['randomness'] = dict(seed=seed)
        cfg.merge_from_dict(overrides)
        cfg.merge_from_dict(cfg_options or {})
        if precision != 'fp32':
            stock = config.startswith('mmdet::') and cuda
            cfg.optim_wrapper.update(
                type='AmpOptimWrapper' if stock else
                'MixedPrecisionOptimWrapper', loss_scale='dynamic',
                dtype='float16' if precision == 'amp-fp16' else 'bfloat16')
        cfg.launcher = 'none'
        if lr is None and cfg.train_cfg.get('type') == 'IterBasedTrainLoop':
            # tools/train.py --auto-scale-lr: the paper's images seen.
            cfg.auto_scale_lr.enable = True
            scale_schedule_to_batch(cfg, total_batch_size(cfg))
        self.name, self.mode = config, mode
        self.runner = runner = build_runner(cfg)
        # What Runner.train() does before its loop, without the hooks.
        runner._train_loop = runner.build_train_loop(runner._train_loop)
        runner.optim_wrapper = runner.build_optim_wrapper(
            runner.optim_wrapper)
        if lr is None:
            runner.scale_lr(runner.optim_wrapper, runner.auto_scale_lr)
            self.schedulers = runner.build_param_scheduler(
                runner.param_schedulers)
        runner._init_model_weights()
        apply_speed_switches(
            runner.model, channels_last='channels-last' in switches,
            fixed_shapes=(fixed_shapes_for(input_size)
                          if 'fixed-shapes' in switches else None),
            compile='compile' in switches)
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


@contextlib.contextmanager
def cudnn_benchmark_per_mode():
    """cuDNN's benchmark off on entry, as it was on exit: ``fixed-shapes``
    turns it on (process-wide) for its own mode only."""
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before


def compare(configs: Sequence[str], data_root: str,
            input_size: Optional[Sequence[int]], batch_size: int, mode: str,
            warmup: int, iters: int,
            cfg_options: Optional[dict] = None) -> List[Dict[str, float]]:
    """Builds every config in ``mode``, then alternates their steps
    (``warmup`` unrecorded rounds, then ``iters`` recorded rounds of a step
    without and one with data loading)."""
    with tempfile.TemporaryDirectory() as work_dir, \
            cudnn_benchmark_per_mode():
        benches = [StepBench(c, data_root, input_size, batch_size, mode,
                             osp.join(work_dir, str(i)), cfg_options)
                   for i, c in enumerate(configs)]
        for round_ in range(warmup + iters):
            for bench in benches:
                for with_data in (False, True):
                    bench.step(with_data, record=round_ >= warmup)
        rows = [dict(config=b.name, mode=mode, batch_size=batch_size,
                     **b.summary()) for b in benches]
    for row in rows:
        row['images_s'] = batch_size / row['step_s']
    return rows


def format_rows(rows: Sequence[dict], device: str,
                baseline: Optional[dict] = None) -> str:
    """The table: medians, images/s, memory and, per mode with two
    configs, first / second; with a ``baseline`` row (stock, fp32, batch
    2), each row's images/s over the baseline's."""
    width = max(len(r['config']) for r in rows) + 2
    mw = max(15, max(len(r['mode']) for r in rows) + 2)
    extra = f'{"x base":>8}' if baseline else ''
    lines = [f'training step on {device}: median seconds, images/s of the '
             'step, memory (persistent + step peak)'
             + (f'; x base: images/s / those of {baseline["config"]} '
                f'{baseline["mode"]} batch {baseline["batch_size"]}'
                if baseline else ''),
             f'{"mode":<{mw}}{"batch":>6}  {"config":<{width}}{"step s":>9}'
             f'{"step+data s":>13}{"images/s":>10}{"memory MiB":>12}'
             + extra]
    for index, r in enumerate(rows):
        lines.append(f'{r["mode"]:<{mw}}{r["batch_size"]:>6}  '
                     f'{r["config"]:<{width}}{r["step_s"]:>9.3f}'
                     f'{r["step_data_s"]:>13.3f}{r["images_s"]:>10.2f}'
                     f'{r["memory_mb"]:>12.0f}'
                     + (f'{r["images_s"] / baseline["images_s"]:>7.2f}x'
                        if baseline else ''))
        pair = rows[index - 1] if index % 2 else None
        if pair is not None and pair['mode'] == r['mode']:
            a, b = pair, r
            lines.append(f'{"":<{mw + 6}}  {"ratio (first / second)":<{width}}'
                         f'{a["step_s"] / b["step_s"]:>8.3f}x'
                         f'{a["step_data_s"] / b["step_data_s"]:>12.3f}x'
                         f'{a["images_s"] / b["images_s"]:>9.3f}x'
                         f'{a["memory_mb"] / b["memory_mb"]:>11.3f}x')
    return '\n'.join(lines)
