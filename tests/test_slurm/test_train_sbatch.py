"""tools/slurm/train.sbatch through a real Slurm (install/local_slurm.sh):
CPU mode (``--gres=none``, one task of one CPU, gloo), the toy Faster R-CNN
on 64 px synthetic images, submitted from outside the checkout.

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
import json
import os
import re
import time

import pytest
import torch

from rethink_mmdet.datasets.synthetic_coco import make_synthetic_coco
from rethink_mmdet.runner.configs import config_path
from rethink_mmdet.runner.synthetic_data import synthetic_data_overrides
from rethink_mmdet.testing import (
    REPO_ROOT,
    as_cli_options,
    read_run_checkpoint,
    short_run_overrides,
)

pytestmark = pytest.mark.slow

CONFIG = config_path(
    'toy/faster-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1000i_synthetic-coco.py')
SBATCH = os.path.join(REPO_ROOT, 'tools', 'slurm', 'train.sbatch')
# The CPU mode: no GPU asked for, one task of one CPU.
CPU_JOB = ('--gres=none', '--ntasks-per-node=1', '--cpus-per-task=1')
ITERS = 40
# An iteration of this toy takes 0.08 s on an idle machine and over 1 s on
# a busy one: the runs are paced to a floor per iteration, so a signal or a
# requeue lands mid-run however fast the machine is. Sleeping changes no
# number (in place of SpeedSwitchesHook, which does nothing here).
PACE_HOOK = """
import time

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class PaceHook(Hook):

    def __init__(self, seconds):
        self.seconds = seconds

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.start = time.monotonic()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        time.sleep(max(0.0, self.seconds - time.monotonic() + self.start))
"""


@pytest.fixture(scope='module')
def coco64(tmp_path_factory):
    root = tmp_path_factory.mktemp('coco64')
    make_synthetic_coco(str(root), num_train=16, num_val=4, seed=3,
                        image_size=(64, 64))
    return str(root)


@pytest.fixture(scope='module')
def job_env(local_slurm, tmp_path_factory):
    """The client environment, whose PYTHONPATH (sbatch hands it to the
    job) has the pace hook."""
    folder = tmp_path_factory.mktemp('pace_hook')
    (folder / 'pace_hook.py').write_text(PACE_HOOK)
    return dict(local_slurm.env, PYTHONPATH=os.pathsep.join(
        filter(None, [str(folder), local_slurm.env.get('PYTHONPATH')])))


def _submit(slurm, env, work_dir, data_root, *options, max_iters=ITERS,
            pace=0.25, workers=0):
    """Submits a deterministic run of ``max_iters`` iterations of at least
    ``pace`` s, with a checkpoint and a validation at the end only, loading
    with ``workers`` DataLoader workers, from ``work_dir``'s parent folder
    (outside the checkout); returns the job id."""
    overrides = {**synthetic_data_overrides(CONFIG, data_root, scale=(64, 64)),
                 **short_run_overrides(max_iters),
                 'train_dataloader.num_workers': workers,
                 'custom_imports.imports': ['rethink_mmdet', 'pace_hook'],
                 'custom_hooks.3.type': 'PaceHook',
                 'custom_hooks.3.seconds': pace,
                 'randomness.seed': 0, 'randomness.deterministic': True}
    result = slurm.run(
        'sbatch', '--parsable', *CPU_JOB, f'--output={work_dir}.out',
        *options, SBATCH, CONFIG, str(work_dir), *as_cli_options(overrides),
        cwd=os.path.dirname(work_dir), env=env)
    return result.stdout.strip().split(';')[0]


def _runs(work_dir):
    """The iterations each run logged, one list per run, in order."""
    runs = []
    for stamp in sorted(os.listdir(work_dir)):
        path = os.path.join(work_dir, stamp, 'vis_data', 'scalars.json')
        if os.path.isfile(path):
            with open(path) as f:
                runs.append([json.loads(line)['iter'] for line in f
                             if '"loss"' in line])
    return [run for run in runs if run]


def _checkpoints(work_dir):
    return sorted(int(name[5:-4]) for name in os.listdir(work_dir)
                  if re.fullmatch(r'iter_\d+\.pth', name))


def _max_difference(a, b):
    """Largest absolute difference between two nested tensor structures."""
    if isinstance(a, torch.Tensor):
        return (a.double() - b.double()).abs().max().item() if a.numel() \
            else 0.0
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        return max([_max_difference(a[k], b[k]) for k in a] or [0.0])
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        return max([_max_difference(x, y) for x, y in zip(a, b)] or [0.0])
    assert a == b
    return 0.0


@pytest.fixture(scope='module')
def uninterrupted(local_slurm, job_env, coco64, tmp_path_factory):
    """A run left alone, submitted without RETHINK_REPO (the checkout is
    found from the submitted script's path); not waited for, so the
    requeued run can go side by side with it on the other CPU."""
    work_dir = tmp_path_factory.mktemp('uninterrupted') / 'run'
    env = dict(job_env)
    env.pop('RETHINK_REPO', None)
    return _submit(local_slurm, env, work_dir, coco64, workers=1), work_dir


def test_requeued_job_resumes_and_ends_with_the_uninterrupted_weights(
        local_slurm, job_env, coco64, tmp_path, uninterrupted):
    # With a DataLoader worker: Slurm's SIGTERM reaches it too.
    work_dir = tmp_path / 'requeued'
    job = _submit(local_slurm, dict(job_env, RETHINK_REPO=REPO_ROOT),
                  work_dir, coco64, workers=1)
    start = time.monotonic()
    while not (work_dir.exists() and sum(map(len, _runs(work_dir))) >= 5):
        assert time.monotonic() - start < 180, f'job {job}: no 5 iterations'
        time.sleep(0.2)
    local_slurm.run('scontrol', 'requeue', job)
    seen = []
    assert local_slurm.wait(job, timeout=600, on_poll=seen.append) == \
        'COMPLETED'
    assert local_slurm.completions(job) == ['PENDING', 'COMPLETED']
    assert {'JobState': 'PENDING', 'Reason': 'BeginTime', 'Restarts': '1'} \
        in [{k: s.get(k) for k in ('JobState', 'Reason', 'Restarts')}
            for s in seen]
    with open(f'{work_dir}.out') as f:
        log = f.read()
    assert 'CANCELLED AT' in log and 'DUE TO JOB REQUEUE' in log
    assert 'SIGTERM from Slurm (cancel, requeue or preemption): ' \
        'checkpoint\n' in log
    assert f'requeue job {job}' not in log  # Slurm requeued it already
    assert f'job {job} starts (restart 0)' in log
    assert f'job {job} starts (restart 1)' in log

    # The first run stopped after an iteration with a checkpoint (the only
    # one before the end); the second went on from the next iteration.
    stopped, last = _checkpoints(work_dir)
    assert 5 <= stopped < last == ITERS
    first, resumed = _runs(work_dir)
    assert first[-1] == stopped and resumed == list(range(stopped + 1,
                                                          ITERS + 1))

    local_slurm.wait(uninterrupted[0], timeout=600)
    expected = read_run_checkpoint(uninterrupted[1] / f'iter_{ITERS}.pth')
    actual = read_run_checkpoint(work_dir / f'iter_{ITERS}.pth')
    assert _max_difference(expected['state_dict'],
                           actual['state_dict']) <= 1e-6
    assert _max_difference(expected['optimizer']['state'],
                           actual['optimizer']['state']) <= 1e-6


def test_a_job_runs_to_the_end(local_slurm, uninterrupted):
    job, work_dir = uninterrupted
    assert local_slurm.wait(job, timeout=600) == 'COMPLETED'
    assert local_slurm.completions(job) == ['COMPLETED']
    with open(f'{work_dir}.out') as f:
        log = f.read()
    assert f'job {job} starts (restart 0)' in log
    assert 'restart 1' not in log and 'requeue' not in log
    assert 'bbox_mAP_copypaste' in log  # the validation at the end
    assert _checkpoints(work_dir) == [ITERS]
    assert _runs(work_dir) == [list(range(1, ITERS + 1))]


def test_time_limit_signal_saves_and_requeues_until_the_end(
        local_slurm, job_env, coco64, tmp_path):
    # The signal comes 20 to 50 s after each run's start (see above), its
    # handler is in place after 5 to 15: 50 iterations of at least 1 s
    # outlast a first run, later runs may be stopped too.
    iters = 50
    work_dir = tmp_path / 'limited'
    job = _submit(local_slurm, job_env, work_dir, coco64, '--time=1',
                  '--signal=B:USR1@10', max_iters=iters, pace=1.0)
    assert local_slurm.wait(job, timeout=900) == 'COMPLETED'
    ends = local_slurm.completions(job)
    assert len(ends) >= 2 and set(ends[:-1]) == {'PENDING'}, ends
    with open(f'{work_dir}.out') as f:
        log = f.read()
    assert 'time limit near: checkpoint, then requeue' in log
    assert 'TIME LIMIT' not in log  # each run saved before its limit
    runs = _runs(work_dir)
    assert len(runs) >= 2
    # Every run trained: none was requeued after the training had ended (a
    # signal at the last iteration or in the final validation).
    assert len(runs) == len(ends)
    # Each run went on from where the one before saved, up to the end.
    for before, after in zip(runs, runs[1:]):
        assert after[0] == before[-1] + 1
    assert runs[0][0] == 1 and runs[-1][-1] == iters
    assert _checkpoints(work_dir)[-1] == iters
