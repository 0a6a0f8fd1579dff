"""Running the study's trainings: skip finished runs, resume interrupted
ones, and show one progress line with an ETA instead of mmengine's log.

Each run is ``tools/train.py CONFIG --work-dir WORK_DIR`` in a subprocess,
as a user would type it, started by the package's one launcher
(:mod:`rethink_mmdet.runner.launch`); its whole output goes to
``WORK_DIR/train.log``.
A run is finished when ``WORK_DIR/study_done.json`` exists, which is
written only after the subprocess exits 0 (its final validation included).
Runs go ``jobs`` at a time (:func:`run_in_parallel`): on 2 cores two
one-thread trainings side by side do more per second than one two-thread
training (docs/study.md).
"""
import json
import os
import os.path as osp
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Callable, Dict, List, Optional, Sequence

from rethink_mmdet.runner.launch import (
    Launched,
    TrainingRun,
    log_tail,
    resume_arguments,
    train_iteration,
    validation_metric,
)
from rethink_mmdet.toy.progress_display import format_seconds
from rethink_mmdet.toy.study_plan import Run

DONE_FILE = 'study_done.json'


class StudyError(RuntimeError):
    """A training run of the study failed (message names its log)."""


def is_done(run: Run) -> bool:
    return osp.isfile(osp.join(run.work_dir, DONE_FILE))


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


def run_in_parallel(runs: Sequence[Run], jobs: int,
                    work: Callable[[Run], object],
                    ready: Callable[[Run], bool]) -> None:
    """Calls ``work(run)`` for every run, ``jobs`` at a time, in order,
    except that a run not ``ready`` yet (a fine-tuning before its
    pre-training) lets the next ones pass.

    After a failure no run starts; the running ones finish (their work is
    kept), then the first error is raised.
    """
    pending = list(runs)
    running: Dict[object, Run] = {}
    errors: List[BaseException] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while pending or running:
            for run in list(pending):
                if errors or len(running) >= jobs:
                    break
                if ready(run):
                    pending.remove(run)
                    running[pool.submit(work, run)] = run
            if not running:
                if errors:
                    break
                raise StudyError(
                    f'{pending[0].name} can never start: what it waits for '
                    'is neither done nor planned')
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                del running[future]
                if future.exception() is not None:
                    errors.append(future.exception())
    if errors:
        raise errors[0]


def train(run: Run, progress: Progress, env: Optional[Dict[str, str]] = None,
          verbose: bool = False) -> float:
    """Trains one run (resuming it if interrupted); returns its seconds."""
    os.makedirs(run.work_dir, exist_ok=True)
    last_iter = resume_arguments(run.work_dir, run.max_iters)[1]
    log_path = osp.join(run.work_dir, 'train.log')
    start = time.time()
    progress.begin(run, last_iter)

    def on_line(line: str) -> None:
        nonlocal last_iter
        if verbose:
            sys.stdout.write(line)
        step = train_iteration(line)
        if step:
            progress.update(run, step[0], last_iter)
            last_iter = step[0]
        metric = validation_metric(line)
        if metric:
            progress.write(f'    {run.label}: validation {metric}')

    with open(log_path, 'a') as log:
        code = Launched(TrainingRun(run.config, run.work_dir, run.max_iters,
                                    env=env), log, on_line).wait()
    progress.finish(run)
    seconds = time.time() - start
    if code != 0:
        raise StudyError(f'{run.name} failed (exit {code}); its log is '
                         f'{log_path}; last lines:\n'
                         f'{log_tail(log_path, 25)}')
    with open(osp.join(run.work_dir, DONE_FILE), 'w') as f:
        json.dump(dict(seconds=round(seconds, 1), config=run.config), f)
    return seconds
