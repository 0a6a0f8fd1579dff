"""What the tests read back from a work_dir: each run's logged training
records (a resumed run writes a new timestamped folder), its checkpoints,
how far two checkpoints' tensors are apart, and its TensorBoard run."""
import json
import os
import re
from typing import Dict, List

import torch

_CHECKPOINT = re.compile(r'iter_(\d+)\.pth')


def run_records(work_dir) -> List[Dict[int, dict]]:
    """Each run of ``work_dir`` (its timestamped folders, oldest first) as
    ``{iteration: record}`` of its training records; runs that logged no
    training step are left out."""
    runs = []
    for stamp in sorted(os.listdir(work_dir)):
        path = os.path.join(work_dir, stamp, 'vis_data', 'scalars.json')
        if os.path.isfile(path):
            with open(path) as f:
                records = [json.loads(line) for line in f]
            run = {r['iter']: r for r in records if 'loss' in r}
            if run:
                runs.append(run)
    return runs


def checkpoint_iterations(work_dir) -> List[int]:
    """The N of each ``iter_N.pth`` in ``work_dir``, sorted."""
    return sorted(int(m.group(1)) for m in map(
        _CHECKPOINT.fullmatch, os.listdir(work_dir)) if m)


def max_difference(a, b) -> float:
    """Largest absolute difference between two nested tensor structures
    (dicts, lists, tuples of tensors; other values must be equal)."""
    if isinstance(a, torch.Tensor):
        return (a.double() - b.double()).abs().max().item() if a.numel() \
            else 0.0
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        return max([max_difference(a[k], b[k]) for k in a] or [0.0])
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        return max([max_difference(x, y) for x, y in zip(a, b)] or [0.0])
    assert a == b
    return 0.0


def tensorboard_steps(folder, tag) -> List[tuple]:
    """``[(step, value)]`` of ``tag`` as TensorBoard reads ``folder``:
    the plain reader, and the one ``tensorboard --load_fast=false`` serves
    (it purges only from a process's second start marker on)."""
    import pytest
    from tensorboard.backend.event_processing import (
        event_accumulator,
        plugin_event_accumulator,
    )
    plain = event_accumulator.EventAccumulator(str(folder))
    plain.Reload()
    served = plugin_event_accumulator.EventAccumulator(str(folder))
    served.Reload()
    values = [(e.step, e.value) for e in plain.Scalars(tag)]
    assert [(e.step, pytest.approx(float(e.tensor_proto.float_val[0])))
            for e in served.Tensors(tag)] == values
    return values
