"""The local executor: a campaign's rows on this machine, ``jobs`` at a
time, each through the package's one launcher (``tools/train.py``, or
``tools/test.py --tta`` for a ``-tta`` row), resumed when its work_dir
holds checkpoints, its output appended to ``ROW/train.log``.

A row starts once the rows it needs are done; a failed row never stops
the others (the rows that need it are skipped, saying which). On 2 cores
two one-thread trainings side by side do more per second than one
two-thread training (docs/study.md).
"""
import os
import os.path as osp
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Dict, List, Optional, Sequence

from rethink_mmdet.runner.launch import Launched, TestRun, TrainingRun

from .campaign_dir import Campaign
from .row_sets import Row

LOG_FILE = 'train.log'


class RowHooks:
    """What the caller sees of the rows: each does nothing here.

    ``start(row, start_iter)`` when a row's process starts (the iteration
    it resumes after), ``line(row, line)`` for each line of its output,
    ``end(row, status)`` when it ends (its exit status), ``skip(row,
    why)`` for a row that will not run.
    """

    def start(self, row: Row, start_iter: int) -> None:
        pass

    def line(self, row: Row, line: str) -> None:
        pass

    def end(self, row: Row, status: int) -> None:
        pass

    def skip(self, row: Row, why: str) -> None:
        pass


def final_checkpoint(campaign: Campaign, row: Row) -> str:
    """The checkpoint a finished training row ends with."""
    return osp.join(campaign.work_dir(row), f'iter_{row.max_iters}.pth')


def row_run(campaign: Campaign, row: Row, extra: Sequence[str] = (),
            env: Optional[Dict[str, str]] = None):
    """What the launcher starts for ``row``: its training, or for a
    ``-tta`` row the evaluation of its base row's final checkpoint."""
    work_dir = campaign.work_dir(row)
    if row.tta_of is None:
        return TrainingRun(row.config, work_dir, row.max_iters,
                           [*row.options, *extra], env=env)
    base = campaign.by_name[row.tta_of]
    return TestRun(row.config, final_checkpoint(campaign, base), work_dir,
                   ['--tta', *row.options], env=env)


class LocalExecutor:
    """Runs rows on this machine.

    Args:
        campaign: The campaign.
        jobs: Rows at a time.
        hooks: What the caller sees (:class:`RowHooks`).
        extra: More ``tools/train.py`` arguments for every training row
            (``--track tensorboard``...).
        env: The rows' environment (default: this process's).
    """
    name = 'local'

    def __init__(self, campaign: Campaign, jobs: int = 1,
                 hooks: Optional[RowHooks] = None,
                 extra: Sequence[str] = (),
                 env: Optional[Dict[str, str]] = None):
        self.campaign = campaign
        self.jobs = max(1, jobs)
        self.hooks = hooks or RowHooks()
        self.extra = tuple(extra)
        self.env = env

    def run_row(self, row: Row) -> int:
        """Runs one row to its end; returns its exit status."""
        run = row_run(self.campaign, row, self.extra, self.env)
        os.makedirs(run.work_dir, exist_ok=True)
        with open(osp.join(run.work_dir, LOG_FILE), 'a') as log:
            started = Launched(run, log, lambda line: self.hooks.line(
                row, line))
            self.campaign.record_job(row, self.name, str(started.pid),
                                     host=os.uname().nodename)
            self.hooks.start(row, started.start_iter)
            status = started.wait()
        self.hooks.end(row, status)
        return status

    def run(self, rows: Sequence[Row]) -> Dict[str, Optional[int]]:
        """Runs ``rows`` (skipping those already done), ``jobs`` at a time,
        each once the rows it needs are done; returns each row's exit
        status (None: skipped).
        """
        results: Dict[str, Optional[int]] = {}
        pending: List[Row] = []
        for row in rows:
            if self.campaign.finished(row) is not None:
                self.hooks.skip(row, 'done')
            else:
                pending.append(row)
        running: Dict[object, Row] = {}
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            while pending or running:
                for row in list(pending):
                    if len(running) >= self.jobs:
                        break
                    why = self._blocked(row, pending, running, results)
                    if why:
                        pending.remove(row)
                        results[row.name] = None
                        self.hooks.skip(row, why)
                    elif self._ready(row, running):
                        pending.remove(row)
                        running[pool.submit(self.run_row, row)] = row
                if not running:
                    for row in pending:
                        results[row.name] = None
                        self.hooks.skip(row, 'waits for rows that cannot '
                                        f'finish: {", ".join(row.needs)}')
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    row = running.pop(future)
                    error = future.exception()
                    results[row.name] = 1 if error else future.result()
                    if error:
                        self.hooks.skip(row, f'stopped by an error: {error}')
        return results

    def _ready(self, row: Row, running) -> bool:
        # A row needed is done once its end hook has returned too (the
        # study exports the pre-training's backbone there), not as soon as
        # its process wrote finished.json.
        busy = {r.name for r in running.values()}
        return all(name not in busy and self.campaign.finished(
            self.campaign.by_name[name]) is not None for name in row.needs)

    def _blocked(self, row: Row, pending, running, results) -> str:
        """Why ``row`` can never start in this run ('' if it can)."""
        for name in row.needs:
            need = self.campaign.by_name.get(name)
            if need is None:
                return f'needs {name}, which is not in the campaign'
            # A failed end hook fails a row whose process finished.
            if results.get(name, 0) != 0:
                return f'needs {name}, which did not finish'
            if self.campaign.finished(need) is not None:
                continue
            if name in results:
                return f'needs {name}, which did not finish'
            if need not in pending and need not in running.values():
                return f'needs {name}, which is neither done nor run here'
        return ''
