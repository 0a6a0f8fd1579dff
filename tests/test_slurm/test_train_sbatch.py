"""tools/slurm/train.sbatch through a real Slurm (install/local_slurm.sh):
CPU mode (``--gres=none``, one task of one CPU, gloo), the toy Faster R-CNN
on 64 px synthetic images, submitted from outside the checkout by hand; a
campaign's jobs (requeue, time limit): test_campaign_slurm.py.

What Slurm 22.05 (Debian's slurm-wlm) does here, seen in these jobs and in
probe jobs, and what a campaign tool can rely on:

* ``scontrol requeue JOB`` on a running job ends it like ``scancel``
  ("CANCELLED ... DUE TO JOB REQUEUE" in the output): SIGCONT and SIGTERM
  to every process of the job at once, the batch script, srun and each
  task (not through srun), then SIGKILL KillWait (30 s) later to whatever
  is left. ``Restarts`` in ``scontrol show job`` is already incremented
  when the script gets the signal; a second ``scontrol requeue`` from the
  script then fails ("Job is pending execution").
* A requeued job keeps its id, goes COMPLETING -> PENDING (Reason
  BeginTime) -> RUNNING, and may start again only ``cred_expire`` + 1 s
  after the requeue (``AuthInfo=cred_expire``, 120 s by default, 5 s in
  the local Slurm); ``SLURM_RESTART_COUNT`` is 1, 2, ... in the requeued
  runs, unset in the first. With ``--open-mode=append`` every run writes
  to the same output file.
* ``--signal=B:USR1@T`` goes to the batch script only. slurmctld checks
  time limits every 30 s: the signal comes at the first check with at
  most T + 30 s left (with ``--time=1`` and T = 10: 20 to 50 s after the
  start), and the time limit itself is enforced at a check, up to 30 s
  late: SIGTERM everywhere, the job seen as COMPLETING with Reason
  TimeLimit, then TIMEOUT.
* From inside the job, ``scontrol show job`` tells the SIGTERMs apart:
  COMPLETING with Reason None (scancel: Restarts unchanged; requeue:
  Restarts + 1) or Reason TimeLimit. ``scontrol requeue`` works on a
  finished job too, so a script that requeues itself on any SIGTERM
  brings a cancelled job back (train.sbatch did; now it requeues only
  after USR1, the time limit or a plain signal to a running job). After
  the time limit's SIGTERM the training saved and the script's requeue
  worked: the jobcomp file got TIMEOUT, then PENDING (a probe whose USR1
  came 2 s after the start, before the training was ready, and was
  dropped by tools/slurm/task.sh).
* Slurm's SIGTERM, and a signal srun forwards, reach every process of the
  step: DataLoader workers too. Unhandled, a worker died of it and the
  training failed ("DataLoader worker ... is killed by signal") without
  saving, and the requeued run started over from the last periodic
  checkpoint (rethink_mmdet.compat now keeps the workers alive; the
  requeue test runs with one).
* ``scancel --batch --signal=USR1 JOB`` takes the time limit's path: the
  training saves and the script requeues the job.
* A signal can come in the last iteration or after it (seen twice): the
  script requeued a finished training, whose next run resumed at the end
  and replayed the data loader for nothing. It now requeues only when
  PreemptionHook left its ``preempted`` marker (iterations left).
* Without slurmdbd, ``sacct`` only answers "Slurm accounting storage is
  disabled". squeue shows a finished job only with ``--states=all``
  (CD, CA, TO) and ``scontrol show job`` for MinJobAge (60 s here)
  after its end; then it is gone. The jobcomp file
  (``JobCompType=jobcomp/filetxt``) keeps one line per end: JobState
  PENDING for each requeue, then the final state.
"""
import os

import pytest

from rethink_mmdet.testing import REPO_ROOT, as_cli_options
from rethink_mmdet.testing.paced_runs import CONFIG, paced_run_overrides
from rethink_mmdet.testing.runs import checkpoint_iterations, run_records

# One local Slurm per session, on one worker (make test: --dist loadgroup):
# two on two cores would each think it had both.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group('slurm')]

SBATCH = os.path.join(REPO_ROOT, 'tools', 'slurm', 'train.sbatch')
# The CPU mode: no GPU asked for, one task of one CPU.
CPU_JOB = ('--gres=none', '--ntasks-per-node=1', '--cpus-per-task=1')
ITERS = 40


def test_a_job_submitted_by_hand_runs_to_the_end(local_slurm, job_env,
                                                 coco64, tmp_path):
    """Submitted without RETHINK_REPO, from outside the checkout: the
    script finds the checkout from its own submitted path."""
    work_dir = tmp_path / 'run'
    env = dict(job_env)
    env.pop('RETHINK_REPO', None)
    job = local_slurm.run(
        'sbatch', '--parsable', *CPU_JOB, f'--output={work_dir}.out', SBATCH,
        CONFIG, str(work_dir),
        *as_cli_options(paced_run_overrides(coco64, ITERS)), cwd=tmp_path,
        env=env).stdout.strip().split(';')[0]
    state = local_slurm.wait(job, timeout=600)
    with open(f'{work_dir}.out') as f:
        log = f.read()
    assert state == 'COMPLETED', log[-3000:]
    assert local_slurm.completions(job) == ['COMPLETED']
    assert f'job {job} starts (restart 0)' in log
    assert 'restart 1' not in log and 'requeue' not in log
    assert 'bbox_mAP_copypaste' in log  # the validation at the end
    assert checkpoint_iterations(work_dir) == [ITERS]
    assert [list(run) for run in run_records(work_dir)] == [
        list(range(1, ITERS + 1))]
