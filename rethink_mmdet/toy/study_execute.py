"""The study's runs as a local campaign: one row per run, and what the
screen shows of them, one progress line with an ETA instead of mmengine's
log.

The campaign is ``OUT/runs`` (:mod:`rethink_mmdet.campaign`): its
executor trains each row through the package's one launcher, ``jobs`` at a
time, resumes an interrupted one, appends its output to
``WORK_DIR/train.log`` and skips a failed row's dependants only; a row is
done when ``tools/train.py`` wrote its ``finished.json``. On 2 cores two
one-thread trainings side by side do more per second than one two-thread
training (docs/study.md).
"""
import os.path as osp
import sys
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence

from rethink_mmdet.campaign.campaign_dir import Campaign
from rethink_mmdet.campaign.local_executor import LOG_FILE, RowHooks
from rethink_mmdet.campaign.row_sets import Row
from rethink_mmdet.campaign.row_status import failure_reason
from rethink_mmdet.runner.launch import train_iteration, validation_metric
from rethink_mmdet.toy.progress_display import format_seconds
from rethink_mmdet.toy.study_plan import Run

#: Who writes the study's campaign plan (it grows with more seeds:
#: :meth:`Campaign.grow`).
PLANNER = 'tools/study.py'


class StudyError(RuntimeError):
    """The study cannot go on, or some of its runs failed (the message
    names them and their logs)."""


def study_rows(runs: Sequence[Run]) -> List[Row]:
    """One campaign row per run, in the plan's order; a fine-tuning waits
    for the pre-training when the study trains it (its backbone is
    exported when that row ends)."""
    pretrain = [run.name for run in runs if run.kind == 'pretrain']
    return [Row(run.name, run.config, run.max_iters,
                after=tuple(pretrain) if run.kind == 'detection' and
                run.init != 'scratch' else ()) for run in runs]


class Progress:
    """Progress of the whole study, with an ETA.

    The ETA counts the iterations left in each kind of run at the seconds
    per iteration measured so far for that kind in this invocation (its
    validations and start-up included), or at a prior guess until then.

    Args:
        runs: The runs still to train.
        prior_seconds: Seconds per iteration of pre-training and detection
            before any is measured.
        write: Where progress lines go.
        clock: Seconds, monotonic (tests pass a fake).
        jobs: Runs trained side by side; the seconds per iteration are
            measured per run, so the ETA divides their sum by ``jobs``.
    """

    def __init__(self, runs: List[Run], prior_seconds=(0.5, 0.5),
                 write: Callable[[str], None] = print,
                 clock: Callable[[], float] = time.monotonic,
                 jobs: int = 1):
        self.left = {run.name: run.max_iters for run in runs}
        self.kinds = {run.name: run.kind for run in runs}
        self.prior = dict(pretrain=prior_seconds[0],
                          detection=prior_seconds[1])
        self.spent = dict(pretrain=0.0, detection=0.0)
        self.done_iters = dict(pretrain=0, detection=0)
        self._write = write
        self._lock = threading.Lock()  # runs report from their threads
        self.clock = clock
        self.jobs = jobs
        self.start = clock()
        self._run_start: Dict[str, float] = {}

    def write(self, line: str) -> None:
        with self._lock:
            self._write(line)

    def seconds_per_iter(self, kind: str) -> float:
        if self.done_iters[kind]:
            return self.spent[kind] / self.done_iters[kind]
        return self.prior[kind]

    def eta(self) -> float:
        return sum(left * self.seconds_per_iter(self.kinds[name])
                   for name, left in self.left.items()) / self.jobs

    def begin(self, run: Run, first_iter: int = 0) -> None:
        self._run_start[run.name] = self.clock()
        self.left[run.name] = run.max_iters - first_iter

    def update(self, run: Run, iteration: int, previous: int) -> None:
        """Training reached ``iteration`` (the last report was at
        ``previous``)."""
        kind = run.kind
        now = self.clock()
        self.spent[kind] += now - self._run_start[run.name]
        self._run_start[run.name] = now
        self.done_iters[kind] += iteration - previous
        self.left[run.name] = run.max_iters - iteration
        self.write(f'[study {format_seconds(now - self.start)} elapsed, '
                   f'~{format_seconds(self.eta())} left] {run.label}: '
                   f'iteration {iteration}/{run.max_iters}')

    def finish(self, run: Run) -> None:
        now = self.clock()
        self.spent[run.kind] += now - self._run_start.pop(run.name)
        self.left[run.name] = 0


class StudyHooks(RowHooks):
    """What the study shows and records of its rows as they train.

    Args:
        runs: The study's runs, by name.
        progress: The progress display (its ETA).
        steps: Each run's step header (``'3/4 detection 2/12'``).
        timings: ``timings.json``'s content: ``runs`` (each run's wall
            seconds, summed over invocations) and ``time_line`` (this
            invocation's start and end of each run it trained, in seconds
            since ``start``) are updated as rows end.
        start: When this invocation started (``time.time()``).
        on_end: Called with a run that ended with exit status 0, after
            its timings are recorded (the pre-training exports its
            backbone there).
        save: Writes ``timings`` (called under a lock).
        verbose: Also print the trainings' own logs.
    """

    def __init__(self, runs: Dict[str, Run], progress: Progress,
                 steps: Dict[str, str], timings: dict, start: float,
                 on_end: Callable[[Run], None] = lambda run: None,
                 save: Callable[[dict], None] = lambda timings: None,
                 verbose: bool = False):
        self.runs = runs
        self.progress = progress
        self.steps = steps
        self.timings = timings
        self.start_time = start
        self.on_end = on_end
        self.save = save
        self.verbose = verbose
        self.skipped: Dict[str, str] = {}
        self._lock = threading.Lock()
        self._began: Dict[str, float] = {}
        self._last_iter: Dict[str, int] = {}

    def start(self, row: Row, start_iter: int) -> None:
        run = self.runs[row.name]
        resumed = f', resumed after {start_iter}' if start_iter else ''
        self.progress.write(f'== {self.steps[run.name]}: {run.label} '
                            f'({run.max_iters} iterations{resumed})')
        self._began[run.name] = time.time()
        self._last_iter[run.name] = start_iter
        self.progress.begin(run, start_iter)

    def line(self, row: Row, line: str) -> None:
        run = self.runs[row.name]
        if self.verbose:
            sys.stdout.write(line)
        step = train_iteration(line)
        if step:
            self.progress.update(run, step[0], self._last_iter[run.name])
            self._last_iter[run.name] = step[0]
        metric = validation_metric(line)
        if metric:
            self.progress.write(f'    {run.label}: validation {metric}')

    def end(self, row: Row, status: int) -> None:
        run = self.runs[row.name]
        self.progress.finish(run)
        began = self._began.pop(run.name)
        seconds = time.time() - began
        if status != 0:
            self.progress.write(f'{run.label} failed (exit {status}) after '
                                f'{format_seconds(seconds)}')
            return
        with self._lock:
            self.timings['runs'][run.name] = round(
                self.timings['runs'].get(run.name, 0) + seconds, 1)
            self.timings['time_line'][run.name] = dict(
                start=round(began - self.start_time, 1),
                end=round(time.time() - self.start_time, 1))
            self.save(self.timings)
        self.progress.write(f'{run.label} took {format_seconds(seconds)}')
        self.on_end(run)

    def skip(self, row: Row, why: str) -> None:
        self.skipped[row.name] = why
        self.progress.write(f'{self.runs[row.name].label} not run: {why}')


def failed_runs_error(campaign: Campaign, runs: Sequence[Run],
                      results: Dict[str, Optional[int]],
                      skipped: Dict[str, str]) -> Optional[StudyError]:
    """The error naming each run that failed (its exit status, the reason
    its log gives, the log) and each that did not run; None when every
    run of ``results`` finished.

    Args:
        results: Each run's exit status (None: not run), as the executor
            returns them.
        skipped: Why each run was not run (the executor's skip hook).
    """
    failed = [run for run in runs if results.get(run.name, 0) != 0 or (
        run.name in results and campaign.finished(
            campaign.by_name[run.name]) is None)]
    if not failed:
        return None
    lines = []
    for run in failed:
        log = osp.join(campaign.work_dir(campaign.by_name[run.name]),
                       LOG_FILE)
        if results[run.name] is None:
            lines.append(f'- {run.name}: not run ({skipped.get(run.name)})')
        else:
            lines.append(f'- {run.name}: exit {results[run.name]}, '
                         f'{failure_reason([log])}; its log: {log}')
    return StudyError(f'{len(failed)} of the study\'s {len(runs)} runs did '
                      'not finish (the others did; a re-run trains only '
                      'these):\n' + '\n'.join(lines))
