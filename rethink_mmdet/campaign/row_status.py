"""Where each row of a campaign stands, from the scheduler and the work_dir:
planned, queued, running (iteration, last validation AP, ETA), requeued
(how many times), done, or failed with the one-line reason its log gives.
"""
import glob
import os
import os.path as osp
import re
import statistics
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from rethink_mmdet.analysis.work_dirs import WorkDirError, read_work_dir

from .campaign_dir import Campaign
from .local_executor import LOG_FILE
from .row_sets import Row
from .slurm_executor import ACTIVE_STATES, scontrol_job

#: Log patterns that name why a run failed, most telling first.
_REASONS = (
    (re.compile(r'(CUDA out of memory|OutOfMemoryError|DefaultCPUAllocator'
                r': can\'t allocate)'), 'out of memory'),
    (re.compile(r'(non-finite loss|DivergenceError).*'), 'diverged'),
    (re.compile(r'^error: .*'), None),
    (re.compile(r'DUE TO TIME LIMIT'), 'time limit, not requeued'),
    (re.compile(r'CANCELLED AT .*'), 'cancelled'),
    (re.compile(r'preemption signal: stopped after iteration \d+'),
     'stopped, not resumed'),
)
_EXCEPTION = re.compile(r'^\w+(\.\w+)*(Error|Exception): .*')
_RANK_PREFIX = re.compile(r'^\[rank\d+\]:\s?')
_RESTART = re.compile(r'\[sbatch\] \S+ job \d+ starts \(restart (\d+)\)')


@dataclass
class RowState:
    """One row's state.

    Attributes:
        row: The row.
        state: ``planned``, ``queued``, ``running``, ``done``, ``failed``.
        iteration: The last logged training iteration.
        ap: The last validation's box AP (a classifier's top-1).
        eta_s: Seconds left at the logged seconds per iteration.
        restarts: Times the job was requeued (preemption, time limit).
        job: ``executor:id`` of its newest job.
        note: The scheduler's reason (queued), the failure's reason.
    """
    row: Row
    state: str
    iteration: int = 0
    ap: Optional[float] = None
    eta_s: Optional[float] = None
    restarts: int = 0
    job: str = ''
    note: str = ''

    @property
    def final(self) -> bool:
        return self.state in ('done', 'failed')


def failure_reason(log_paths: List[str]) -> str:
    """The one line that says why a run failed, from the end of its logs
    (the job's output first): memory, divergence, the tools' ``error:``
    line, the time limit, a cancel, else the last exception."""
    lines: List[str] = []
    for path in log_paths:
        if osp.isfile(path):
            with open(path, errors='replace') as f:
                # torch.distributed prefixes a rank's traceback lines.
                lines += [_RANK_PREFIX.sub('', line)
                          for line in f.read().splitlines()[-400:]]
    for pattern, label in _REASONS:
        for line in reversed(lines):
            match = pattern.search(line)
            if match:
                return label and f'{label}: {line.strip()[:160]}' or \
                    line.strip()[:200]
    for line in reversed(lines):
        if _EXCEPTION.match(line.strip()):
            return line.strip()[:200]
    return 'ended without finishing (no reason in its log)'


def _progress(work_dir: str) -> Dict[str, Optional[float]]:
    """Iteration, last AP and seconds per iteration from the logs."""
    try:
        run = read_work_dir(work_dir, require_validation=False)
    except WorkDirError:
        return dict(iteration=0, ap=None, seconds=None)
    iteration = max(run.train, default=0)
    ap = None
    for step in sorted(run.val):
        # Box AP is logged as a fraction, a classifier's top-1 in %.
        for key, unit in (('coco/bbox_mAP', 1), ('cls/top1', 100)):
            if key in run.val[step]:
                ap = run.val[step][key] / unit
    times = [rec['time'] for _, rec in sorted(run.train.items())[-10:]
             if 'time' in rec]
    return dict(iteration=iteration, ap=ap,
                seconds=statistics.median(times) if times else None)


def _pid_alive(job: dict) -> bool:
    if job.get('host') != os.uname().nodename:
        return False
    try:
        os.kill(int(job['id']), 0)
    except (OSError, ValueError):
        return False
    return True


def row_state(campaign: Campaign, row: Row,
              slurm_job: Callable[[str], Dict[str, str]] = scontrol_job
              ) -> RowState:
    """The state of one row (``slurm_job``: ``scontrol show job``)."""
    work_dir = campaign.work_dir(row)
    jobs = campaign.jobs().get(row.name, [])
    state = RowState(row, 'planned')
    progress = _progress(work_dir)
    state.iteration = int(progress['iteration'] or 0)
    state.ap = progress['ap']
    logs = sorted(glob.glob(osp.join(work_dir, 'slurm-*.out')),
                  key=osp.getmtime)
    # A requeued job's runs append to one output file; Slurm forgets the
    # job (and its Restarts) MinJobAge after its end, the file keeps them.
    state.restarts = _restarts_logged(logs)
    if jobs:
        state.job = f'{jobs[-1]["executor"]}:{jobs[-1]["id"]}'
    if campaign.finished(row) is not None:
        state.state = 'done'
        state.iteration = row.max_iters
        return state
    if not jobs:
        return state
    newest = jobs[-1]
    if newest['executor'] == 'slurm':
        info = slurm_job(newest['id'])
        state.restarts = max(state.restarts,
                             int(info.get('Restarts', 0) or 0))
        job_state = info.get('JobState')
        if job_state in ACTIVE_STATES:
            running = job_state not in ('PENDING', 'REQUEUE_HOLD')
            state.state = 'running' if running else 'queued'
            if not running:
                state.note = info.get('Reason', '')
    elif _pid_alive(newest):
        state.state = 'running'
    if state.state == 'running' and progress['seconds']:
        state.eta_s = progress['seconds'] * max(
            0, row.max_iters - state.iteration)
    if state.state == 'planned':
        state.state = 'failed'
        state.note = failure_reason(logs + [osp.join(work_dir, LOG_FILE)])
    return state


def _restarts_logged(logs: List[str]) -> int:
    """The highest restart tools/slurm/train.sbatch logged a start of."""
    restarts = 0
    for path in logs:
        with open(path, errors='replace') as f:
            for match in _RESTART.finditer(f.read()):
                restarts = max(restarts, int(match.group(1)))
    return restarts


def format_states(states: List[RowState]) -> str:
    """One line per row, and a count of each state."""
    width = max([len(s.row.name) for s in states] + [4])
    lines = [f'{"row":<{width}}  {"state":<8} {"iteration":>15}  '
             f'{"AP":>6}  {"ETA":>9}  note']
    for s in states:
        total = s.row.max_iters or 1
        done = f'{s.iteration}/{total}' if s.row.max_iters else '-'
        ap = f'{100 * s.ap:.1f}' if s.ap is not None else '-'
        eta = _duration(s.eta_s) if s.eta_s is not None else '-'
        notes = [s.note] if s.note else []
        if s.restarts:
            notes.insert(0, f'requeued {s.restarts}x')
        if s.job:
            notes.insert(0, s.job)
        lines.append(f'{s.row.name:<{width}}  {s.state:<8} {done:>15}  '
                     f'{ap:>6}  {eta:>9}  {"; ".join(notes)}')
    counts = {}
    for s in states:
        counts[s.state] = counts.get(s.state, 0) + 1
    lines.append(', '.join(f'{n} {k}' for k, n in counts.items()))
    return '\n'.join(lines)


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes >= 24 * 60:
        return f'{minutes / 1440:.1f} d'
    return f'{minutes // 60}h{minutes % 60:02d}m'
