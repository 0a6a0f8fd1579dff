"""The Slurm executor: one requeueable batch job per row through
``tools/slurm/train.sbatch`` (a ``-tta`` row: ``tools/slurm/test.sbatch``
after its base row's job, ``--dependency=afterok``).

A row longer than the time limit is continued by its requeue: Slurm
signals the job before its limit (``--signal=B:USR1@SECONDS``), the
training saves after its current iteration, the script requeues the job
(same id, ``Restarts`` + 1) and its next run resumes. What Slurm 22.05 was
seen to do: docs/slurm.md.
"""
import os
import os.path as osp
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from rethink_mmdet.runner import UsageError
from rethink_mmdet.runner.launch import tool_path, tools_root

from .campaign_dir import Campaign
from .local_executor import final_checkpoint
from .row_sets import Row


@dataclass
class SlurmOptions:
    """What each row's job asks Slurm for.

    Attributes:
        nodes: Nodes per row.
        gpus_per_node: GPUs (and tasks) per node; 0 runs CPU processes on
            gloo (``--gres=none``, ``CPU_ONLY=1``), ``cpu_tasks`` per node.
        cpus_per_task: CPUs per task.
        time: The job's time limit (``--time``), per run of the job.
        signal_before: Seconds before the limit the training is told to
            save (``--signal=B:USR1@``).
        partition, account, qos: Where it runs and who pays.
        cpu_tasks: Tasks per node in CPU mode.
        sbatch_args: More ``sbatch`` options, as given.
    """
    nodes: int = 1
    gpus_per_node: int = 8
    cpus_per_task: int = 5
    time: str = '24:00:00'
    signal_before: int = 300
    partition: Optional[str] = None
    account: Optional[str] = None
    qos: Optional[str] = None
    cpu_tasks: int = 1
    sbatch_args: Sequence[str] = ()

    def resources(self) -> List[str]:
        tasks = self.gpus_per_node or self.cpu_tasks
        args = [f'--nodes={self.nodes}', f'--ntasks-per-node={tasks}',
                '--gres=' + (f'gpu:{self.gpus_per_node}'
                             if self.gpus_per_node else 'none'),
                f'--cpus-per-task={self.cpus_per_task}',
                f'--time={self.time}']
        for name in ('partition', 'account', 'qos'):
            if getattr(self, name):
                args.append(f'--{name}={getattr(self, name)}')
        return args + list(self.sbatch_args)


def sbatch_command(campaign: Campaign, row: Row, options: SlurmOptions,
                   extra: Sequence[str] = (),
                   dependency: Optional[str] = None) -> List[str]:
    """The ``sbatch`` line of ``row``'s job."""
    work_dir = campaign.work_dir(row)
    # The tools' folder's parent: a checkout, or an installed wheel's .mim
    # (which holds tools/ too); this Python runs the job's tools.
    exports = ['ALL', f'RETHINK_REPO={osp.dirname(tools_root())}',
               f'PYTHON={sys.executable}']
    if not options.gpus_per_node:
        exports.append('CPU_ONLY=1')
    command = ['sbatch', '--parsable',
               f'--job-name={campaign.name}:{row.name}',
               *options.resources(),
               f'--output={work_dir}/slurm-%j.out',
               f'--export={",".join(exports)}']
    if dependency:
        command.append(f'--dependency=afterok:{dependency}')
    if row.tta_of is None:
        command += [f'--signal=B:USR1@{options.signal_before}',
                    tool_path('slurm/train.sbatch'), row.config, work_dir,
                    *row.options, *extra]
    else:
        base = campaign.by_name[row.tta_of]
        command += [tool_path('slurm/test.sbatch'), row.config,
                    final_checkpoint(campaign, base), work_dir, '--tta',
                    *row.options]
    return command


def scontrol_job(job_id: str, env: Optional[Dict[str, str]] = None
                 ) -> Dict[str, str]:
    """``scontrol show job`` as a dict; {} once Slurm forgot the job
    (MinJobAge after its end)."""
    result = subprocess.run(['scontrol', 'show', 'job', '-o', job_id],
                            capture_output=True, text=True, env=env,
                            timeout=60)
    if result.returncode != 0:
        return {}
    fields = {}
    for item in result.stdout.split():
        key, _, value = item.partition('=')
        fields.setdefault(key, value)
    return fields


def require_slurm() -> None:
    """One line where Slurm's client commands are missing."""
    missing = [c for c in ('sbatch', 'scontrol') if shutil.which(c) is None]
    if missing:
        raise UsageError(
            f'{missing[0]} is not on PATH: the slurm executor needs Slurm\'s '
            'client commands (run it on a login node, or use --executor '
            'local; --dry-run prints the sbatch lines anyway)')


class SlurmExecutor:
    """Submits rows as Slurm jobs.

    Args:
        campaign: The campaign.
        options: What each job asks for.
        extra: More ``tools/train.py`` arguments for every training row.
        env: The environment of the Slurm commands (default: this
            process's).
    """
    name = 'slurm'

    def __init__(self, campaign: Campaign, options: SlurmOptions,
                 extra: Sequence[str] = (),
                 env: Optional[Dict[str, str]] = None):
        self.campaign = campaign
        self.options = options
        self.extra = tuple(extra)
        self.env = env

    def submit(self, rows: Sequence[Row], dry_run: bool = False,
               write=print) -> Dict[str, str]:
        """Submits ``rows`` in order (a ``-tta`` row after its base row's
        job when that one is not done); returns each row's job id
        (``DRY-RUN`` ids with ``dry_run``), printing each sbatch line."""
        if not dry_run:
            require_slurm()
        ids: Dict[str, str] = {}
        for row in rows:
            dependency = None
            if row.tta_of and self.campaign.finished(
                    self.campaign.by_name[row.tta_of]) is None:
                dependency = ids.get(row.tta_of) or self.live_job(
                    self.campaign.by_name[row.tta_of])
            command = sbatch_command(self.campaign, row, self.options,
                                     self.extra, dependency)
            write(' '.join(command))
            if dry_run:
                ids[row.name] = f'DRY-RUN-{len(ids) + 1}'
                continue
            # Slurm opens the job's output file there.
            os.makedirs(self.campaign.work_dir(row), exist_ok=True)
            result = subprocess.run(command, capture_output=True, text=True,
                                    env=self.env, timeout=120)
            if result.returncode != 0:
                raise UsageError(f'sbatch refused {row.name}: '
                                 f'{result.stderr.strip() or result.stdout}')
            job_id = result.stdout.strip().split(';')[0]
            self.campaign.record_job(row, self.name, job_id)
            ids[row.name] = job_id
        return ids

    def live_job(self, row: Row) -> Optional[str]:
        """The row's newest job while Slurm still runs or queues it."""
        jobs = [j for j in self.campaign.jobs().get(row.name, [])
                if j['executor'] == self.name]
        if not jobs:
            return None
        state = scontrol_job(jobs[-1]['id'], self.env).get('JobState')
        return jobs[-1]['id'] if state in ACTIVE_STATES else None


#: Job states in which a job runs, or will.
ACTIVE_STATES = ('PENDING', 'RUNNING', 'COMPLETING', 'CONFIGURING',
                 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING',
                 'SUSPENDED', 'STOPPED', 'SIGNALING', 'STAGE_OUT')
