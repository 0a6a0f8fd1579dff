"""The LR schedule of a config in words, as ``check_scratch_ready.py``
reports it: warmup, and the drop points with ``DropBeforeEndLR`` resolved
against the schedule's length (the paper's rule,
:mod:`rethink_mmdet.engine.schedulers`)."""
from typing import List, Tuple

from mmengine.config import Config

from rethink_mmdet.engine.schedulers import rule_drop_points


def describe_schedule(cfg: Config) -> Tuple[List[str], List[str]]:
    """One line per LR scheduler (warmup, drop points) and the problems of
    those that cannot run (drops before the schedule starts)."""
    train_cfg = cfg.get('train_cfg') or {}
    max_iters = train_cfg.get('max_iters')
    length = (max_iters, 'iterations') if max_iters else (
        train_cfg.get('max_epochs'), 'epochs')
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    lines, problems = [], []
    for s in schedulers:
        kind = s.get('type')
        unit = 'epochs' if s.get('by_epoch', True) else 'iterations'
        begin = s.get('begin', 0)
        end = s.get('end', length[0] if unit == length[1] else None)
        if kind == 'LinearLR':
            start = s.get('start_factor', 1 / 3)
            lines.append(f'warmup LinearLR from x{start:g} over {unit} '
                         f'{begin}-{end}')
        elif kind == 'DropBeforeEndLR':
            try:
                points = rule_drop_points(s, end)
            except (ValueError, TypeError) as e:
                problems.append(f'param_scheduler DropBeforeEndLR: {e}')
                continue
            lines.append(f"x{s.get('gamma', 0.1):g} at {unit} "
                         f"{', '.join(map(str, points))} of {end} "
                         '(DropBeforeEndLR)')
        elif kind == 'MultiStepLR':
            points = [begin + m for m in s.get('milestones', [])]
            lines.append(f"x{s.get('gamma', 0.1):g} at {unit} "
                         f"{', '.join(map(str, points))} of {length[0]} "
                         '(MultiStepLR)')
        else:
            lines.append(f'{kind} over {unit} {begin}-{end}')
    return lines, problems
