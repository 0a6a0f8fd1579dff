"""A campaign directory: its plan, each row's work_dir, and the jobs it
submitted.

```
DIR/campaign.json    the rows (written once; a later command with other
                     rows is refused, so two plans never share a folder;
                     a program that plans its own rows, the study, may
                     rewrite a plan it wrote: Campaign.replan)
DIR/jobs.json        each row's jobs, newest last: executor, id, when
DIR/ROW/             the row's work_dir (checkpoints, logs, finished.json)
DIR/collect/         what ``collect`` writes
```
"""
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

from rethink_mmdet.engine.checkpointing import write_atomically
from rethink_mmdet.runner import UsageError

from .row_sets import Row

PLAN_FILE = 'campaign.json'
JOBS_FILE = 'jobs.json'
#: Written by tools/train.py and tools/test.py into the work_dir once the
#: run has finished (rethink_mmdet/runner/train_job.py, test_job.py).
FINISHED_FILE = 'finished.json'


class Campaign:
    """The campaign in ``folder`` and its rows.

    Args:
        folder: The campaign directory.
        rows: Its rows.
    """

    def __init__(self, folder: str, rows: Sequence[Row]):
        self.folder = osp.abspath(folder)
        self.rows = list(rows)
        self.by_name = {row.name: row for row in self.rows}

    @property
    def name(self) -> str:
        """The folder's name (the campaign's jobs are named after it)."""
        return osp.basename(self.folder)

    def work_dir(self, row: Row) -> str:
        return osp.join(self.folder, row.name)

    def rows_named(self, names: Sequence[str]) -> List[Row]:
        unknown = [n for n in names if n not in self.by_name]
        if unknown:
            raise UsageError(f'no row {unknown[0]} in {self.folder} (rows: '
                             f'{", ".join(self.by_name)})')
        return [self.by_name[n] for n in names]

    # The plan.
    @classmethod
    def open(cls, folder: str, rows: Optional[Sequence[Row]] = None,
             write: bool = True) -> 'Campaign':
        """The campaign in ``folder``: its plan is written with ``rows``
        the first time (unless ``write`` is False: a dry run) and must hold
        the same rows after.

        Raises:
            UsageError: no plan and no rows, a plan of other rows, or a
                row's work_dir holding a run of another config.
        """
        path = osp.join(folder, PLAN_FILE)
        if osp.isfile(path):
            saved, _ = _read_plan(path)
            if rows is not None and [r.to_dict() for r in rows] != [
                    r.to_dict() for r in saved]:
                raise UsageError(
                    f'{folder} holds another plan ({_describe(saved)}), not '
                    f'this one ({_describe(rows)}): use another '
                    '--campaign-dir, or the rows it was made with')
            campaign = cls(folder, saved)
        elif rows is None:
            raise UsageError(f'{folder} holds no campaign ({PLAN_FILE}): '
                             'submit one there first')
        else:
            campaign = cls(folder, rows)
            campaign.check_work_dirs()
            if not write:
                return campaign
            os.makedirs(folder, exist_ok=True)
            write_atomically(json.dumps(
                {'rows': [r.to_dict() for r in rows]}, indent=1), path)
        return campaign

    @classmethod
    def grow(cls, folder: str, rows: Sequence[Row],
             planner: str) -> 'Campaign':
        """The campaign in ``folder`` for a program that plans its own rows
        and may plan more of them on a later run (the study: more seeds).

        A plan ``planner`` wrote grows: ``rows`` first, then the rows it
        held that ``rows`` lacks (their work_dirs keep what they trained,
        and the plan keeps saying which row trained what). A row of the
        same name must train the same thing (config, schedule, options,
        evaluated row); only the rows it waits for may change. A plan
        written by anyone else (``tools/campaign.py``) is refused unless it
        holds these rows, as :meth:`open` refuses it.

        Raises:
            UsageError: a plan of other rows or by another planner, a row
                that would train something else in its work_dir.
        """
        path = osp.join(folder, PLAN_FILE)
        if not osp.isfile(path):
            campaign = cls.open(folder, rows, write=False)
        else:
            saved, saved_planner = _read_plan(path)
            if saved_planner != planner:
                return cls.open(folder, rows)
            new = {row.name: row for row in rows}
            for old in saved:
                row = new.get(old.name)
                if row is not None and _trains(row) != _trains(old):
                    raise UsageError(
                        f'{folder} holds a plan whose row {old.name} is '
                        f'{old.max_iters} iterations of {old.config} '
                        f'{list(old.options)}, not {row.max_iters} of '
                        f'{row.config} {list(row.options)}: move it away '
                        'or use another folder')
            campaign = cls(folder, list(rows) + [
                old for old in saved if old.name not in new])
            campaign.check_work_dirs()
        os.makedirs(folder, exist_ok=True)
        write_atomically(json.dumps(
            {'rows': [r.to_dict() for r in campaign.rows],
             'planner': planner}, indent=1), path)
        return campaign

    def check_work_dirs(self) -> None:
        """A work_dir that exists holds runs of its row's config only (the
        Runner dumps each run's config there under the config's name)."""
        for row in self.rows:
            work_dir = self.work_dir(row)
            if not osp.isdir(work_dir):
                continue
            mine = osp.basename(row.config)
            others = sorted(n for n in os.listdir(work_dir)
                            if n.endswith('.py') and n != mine)
            if others:
                raise UsageError(
                    f'{work_dir} holds a run of {others[0]}, not of '
                    f'{mine}: move it away or use another --campaign-dir')

    # Jobs.
    def jobs(self) -> Dict[str, List[dict]]:
        path = osp.join(self.folder, JOBS_FILE)
        if not osp.isfile(path):
            return {}
        with open(path) as f:
            return json.load(f)

    def record_job(self, row: Row, executor: str, job_id: str,
                   **facts) -> None:
        jobs = self.jobs()
        jobs.setdefault(row.name, []).append(dict(
            executor=executor, id=str(job_id), submitted=time.time(),
            **facts))
        write_atomically(json.dumps(jobs, indent=1),
                         osp.join(self.folder, JOBS_FILE))

    def finished(self, row: Row) -> Optional[dict]:
        """The row's finished.json, or None while it is not done."""
        path = osp.join(self.work_dir(row), FINISHED_FILE)
        if not osp.isfile(path):
            return None
        with open(path) as f:
            return json.load(f)


def _read_plan(path: str) -> Tuple[List[Row], Optional[str]]:
    """A plan file's rows, and the program that wrote it if it says."""
    try:
        with open(path) as f:
            plan = json.load(f)
        return [Row.from_dict(r) for r in plan['rows']], plan.get('planner')
    except (OSError, ValueError, KeyError, TypeError,
            AttributeError) as error:
        raise UsageError(f'{path}: not a campaign plan ({error})')


def _trains(row: Row) -> tuple:
    """What a row's work_dir holds: which rows it waits for is not."""
    return row.config, row.max_iters, row.options, row.tta_of


def _describe(rows: Sequence[Row]) -> str:
    names = [r.name for r in rows]
    shown = ', '.join(names[:3]) + (f' and {len(names) - 3} more'
                                    if len(names) > 3 else '')
    return f'{len(names)} rows: {shown}'
