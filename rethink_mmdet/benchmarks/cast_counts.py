"""Casts and ops of one mixed-precision training step, counted with
``torch.profiler`` on the CPU (``tools/analysis_tools/benchmark_casts.py``).

A cast is an ``aten::_to_copy`` from one floating dtype to another; its
bytes are what it reads plus what it writes (elements x (source size +
destination size)). Ops are the outermost ``aten::`` ops other than
``aten::to``, the ones called from Python or the autograd engine (each at
least one kernel launch on a GPU), plus every cast, outermost or not
(autocast casts inside the op it feeds). The step is
:class:`~.train_speed.StepBench`'s, after one unprofiled warm-up step.

CUDA autocast runs ``group_norm`` and the upsampling ops in float32 (its
fp32 list); CPU autocast does not, so on the CPU ``emulate_cuda`` casts
their inputs to float32 and runs them with autocast off, as CUDA autocast
does, inside a ``record_function`` scope that names them. It is an
emulation of the GPU's policy, not a GPU measurement: the counts say how
many casts the policy adds, not what they cost there.
"""
import contextlib
import os.path as osp
import tempfile
from collections import Counter
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile, record_function

from rethink_mmdet.benchmarks.train_speed import StepBench

#: torch's ScalarType codes, as the profiler records a target dtype.
_SCALAR_TYPES = {5: 'c10::Half', 6: 'float', 7: 'double',
                 15: 'c10::BFloat16'}
#: Bytes per element of the floating dtypes, by the profiler's names.
_SIZES = {'c10::Half': 2, 'float': 4, 'double': 8, 'c10::BFloat16': 2}
#: The ops CUDA autocast runs in float32 that these detectors call.
_CUDA_FP32_OPS = ('group_norm', 'interpolate')


def _fp32_policy(name: str, original):
    def op(input, *args, **kwargs):
        if not torch.is_autocast_enabled(input.device.type):
            return original(input, *args, **kwargs)
        with record_function(f'emulated CUDA fp32 policy: {name}'), \
                torch.autocast(input.device.type, enabled=False):
            args = [a.float() if torch.is_tensor(a)
                    and a.is_floating_point() else a for a in args]
            return original(input.float(), *args, **kwargs)
    return op


@contextlib.contextmanager
def named_scopes():
    """Profiler scopes around ``RoIAlign`` (float32 under bf16 autocast,
    :mod:`rethink_mmdet.compat`) and ``AutocastGN``, whose casts are
    Python's and would otherwise be counted under no op."""
    from mmcv.ops import RoIAlign

    from rethink_mmdet.models.layers import AutocastGroupNorm
    originals = {cls: cls.forward for cls in (RoIAlign, AutocastGroupNorm)}

    def scoped(cls, forward):
        def scoped_forward(self, *args, **kwargs):
            with record_function(cls.__name__):
                return forward(self, *args, **kwargs)
        return scoped_forward

    try:
        for cls, forward in originals.items():
            cls.forward = scoped(cls, forward)
        yield
    finally:
        for cls, forward in originals.items():
            cls.forward = forward


@contextlib.contextmanager
def cuda_autocast_policy():
    """``F.group_norm`` and ``F.interpolate`` under CPU autocast behave as
    under CUDA autocast: float32 inputs, float32 output. ``AutocastGN``
    calls ``F.group_norm`` with autocast off, so it is left alone."""
    originals = {name: getattr(F, name) for name in _CUDA_FP32_OPS}
    try:
        for name, original in originals.items():
            setattr(F, name, _fp32_policy(name, original))
        yield
    finally:
        for name, original in originals.items():
            setattr(F, name, original)


def count_profile(prof) -> Dict[str, object]:
    """Casts (and those of one element: Python numbers, loss weights),
    their bytes by what called them, ``aten::to`` calls (no-ops
    included) and outermost ops."""
    kineto = {e.correlation_id(): e
              for e in prof.profiler.kineto_results.events()}
    casts, scalar_casts, cast_bytes, by_caller = 0, 0, 0, Counter()
    to_calls, ops = 0, 0
    for event in prof.events():
        parent = event.cpu_parent
        # Casts are counted below wherever they run: autocast's own run
        # inside the op they feed (aten::conv2d), not at the outermost level.
        if event.name.startswith('aten::') and event.name != 'aten::to' \
                and not (parent and parent.name.startswith('aten::')):
            ops += 1
        to_calls += event.name == 'aten::to'
        if event.name != 'aten::_to_copy' or event.id not in kineto:
            continue
        record = kineto[event.id]
        source = record.dtypes()[0]
        target = _SCALAR_TYPES.get(record.concrete_inputs()[1])
        if source not in _SIZES or target is None or target == source:
            continue
        numel = 1
        for side in record.shapes()[0]:
            numel *= side
        nbytes = numel * (_SIZES[source] + _SIZES[target])
        casts += 1
        scalar_casts += numel == 1
        cast_bytes += nbytes
        # aten::to's caller: an op, a backward node, or a named scope.
        caller = parent.cpu_parent if parent is not None else None
        by_caller[caller.name if caller is not None else '(Python)'] += \
            nbytes
    return dict(ops=ops + casts, to_calls=to_calls, casts=casts,
                scalar_casts=scalar_casts,
                cast_mb=cast_bytes / 2**20,
                cast_mb_by_caller={k: v / 2**20
                                   for k, v in by_caller.most_common()})


def count_step(config: str, data_root: str,
               input_size: Optional[Sequence[int]], batch_size: int,
               mode: str, emulate_cuda: bool,
               cfg_options: Optional[dict] = None) -> Dict[str, object]:
    """Builds ``config`` in ``mode`` (``StepBench``), takes a warm-up
    step, then profiles one step (``emulate_cuda``: under
    :func:`cuda_autocast_policy`) and counts it (:func:`count_profile`)."""
    policy = cuda_autocast_policy if emulate_cuda else contextlib.nullcontext
    with tempfile.TemporaryDirectory() as work_dir, named_scopes():
        # One seed: every run gets the same weights and images.
        bench = StepBench(config, data_root, input_size, batch_size, mode,
                          osp.join(work_dir, 'run'), cfg_options, seed=0)
        with policy():
            bench.step(with_data=False, record=False)
            with profile(activities=[ProfilerActivity.CPU],
                         record_shapes=True) as prof:
                bench.step(with_data=False, record=False)
    return count_profile(prof)
