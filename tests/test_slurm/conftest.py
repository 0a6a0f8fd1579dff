"""A real one-node Slurm (install/local_slurm.sh) for the tests of this
folder, started once per test session in a temporary folder and stopped at
its end. Only the subprocesses the tests start see its ``SLURM_CONF``."""
import os
import re
import subprocess
import time

import pytest

from rethink_mmdet.datasets.synthetic_coco import make_synthetic_coco
from rethink_mmdet.testing import REPO_ROOT, tool_env
from rethink_mmdet.testing.paced_runs import PACE_HOOK

LOCAL_SLURM = os.path.join(REPO_ROOT, 'install', 'local_slurm.sh')
#: Exit status of local_slurm.sh when Slurm is missing and cannot be
#: installed here (its one line says why).
CANNOT_INSTALL = 77
#: States after which a job runs no more (squeue/scontrol names).
FINAL_STATES = ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL',
                'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE')


class LocalSlurm:
    """The running instance: its folder and an environment for clients."""

    def __init__(self, folder: str, conf: str):
        self.folder = folder
        self.env = dict(tool_env(), SLURM_CONF=conf)

    def run(self, *command, check=True, cwd=REPO_ROOT, env=None):
        """A client command (sbatch, scontrol, ...) against this Slurm."""
        result = subprocess.run(command, cwd=cwd, env=env or self.env,
                                capture_output=True, text=True, timeout=60)
        if check:
            assert result.returncode == 0, (
                f'{" ".join(command)}: {result.stdout}{result.stderr}')
        return result

    def job(self, job_id: str) -> dict:
        """``scontrol show job`` as a dict ({} once the job is purged,
        MinJobAge after its end)."""
        result = self.run('scontrol', 'show', 'job', '-o', job_id,
                          check=False)
        if result.returncode != 0:
            return {}
        return dict(re.findall(r'(\w+)=(\S*)', result.stdout))

    def completions(self, job_id: str) -> list:
        """Every state the job ended a run in, in order, from the jobcomp
        file (kept after the job is purged; a requeue is a PENDING line)."""
        path = os.path.join(self.folder, 'log', 'jobcomp.txt')
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [re.search(r'JobState=(\S+)', line).group(1)
                    for line in f if line.startswith(f'JobId={job_id} ')]

    def wait(self, job_id: str, timeout: float, on_poll=None) -> str:
        """Waits until the job has ended for good; returns its final state.

        Args:
            job_id: The job.
            timeout: Seconds before the test fails.
            on_poll: Called with ``scontrol show job``'s dict every poll.
        """
        start = time.monotonic()
        while True:
            job = self.job(job_id)
            if on_poll is not None:
                on_poll(job)
            ended = self.completions(job_id)
            # A job's run can end (TIMEOUT) with its batch script still
            # requeueing it: only a final state in scontrol too counts.
            if ended and ended[-1] != 'PENDING' and job.get(
                    'JobState', ended[-1]) in FINAL_STATES:
                return ended[-1]
            assert time.monotonic() - start < timeout, (
                f'job {job_id} still {job.get("JobState")} after '
                f'{timeout} s')
            time.sleep(1)


@pytest.fixture(scope='session')
def local_slurm(tmp_path_factory):
    """The localhost Slurm; skips where it cannot be installed (not root)."""
    folder = str(tmp_path_factory.mktemp('local_slurm'))
    result = subprocess.run(['bash', LOCAL_SLURM, 'start', folder],
                            capture_output=True, text=True, timeout=900)
    if result.returncode == CANNOT_INSTALL:
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, result.stderr
    export = result.stdout.strip().splitlines()[-1]
    assert export.startswith('export SLURM_CONF='), result.stdout
    try:
        yield LocalSlurm(folder, export.split('=', 1)[1])
    finally:
        subprocess.run(['bash', LOCAL_SLURM, 'stop', folder], timeout=120)


@pytest.fixture(scope='session')
def coco64(tmp_path_factory):
    root = tmp_path_factory.mktemp('coco64')
    make_synthetic_coco(str(root), num_train=16, num_val=4, seed=3,
                        image_size=(64, 64))
    return str(root)


@pytest.fixture(scope='session')
def job_env(local_slurm, tmp_path_factory):
    """The client environment, whose PYTHONPATH (sbatch hands it to the
    job) has the pace hook."""
    folder = tmp_path_factory.mktemp('pace_hook')
    (folder / 'pace_hook.py').write_text(PACE_HOOK)
    return dict(local_slurm.env, PYTHONPATH=os.pathsep.join(
        filter(None, [str(folder), local_slurm.env.get('PYTHONPATH')])))
