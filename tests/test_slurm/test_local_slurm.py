"""install/local_slurm.sh: its interface, a second instance beside the
session's, and stop."""
import os
import subprocess
import time

import pytest

from rethink_mmdet.testing import REPO_ROOT

# With the other Slurm tests, on one worker (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group('slurm')

LOCAL_SLURM = os.path.join(REPO_ROOT, 'install', 'local_slurm.sh')


def _script(*args, env=None):
    return subprocess.run(['bash', LOCAL_SLURM, *args], capture_output=True,
                          text=True, timeout=120, env=env)


def _alive(pid_file):
    try:
        with open(pid_file) as f:
            os.kill(int(f.read()), 0)
        return True
    except (OSError, ValueError):
        return False


def test_bad_usage_and_status_of_nothing_are_one_line(tmp_path):
    for args in ((), ('start', ), ('restart', str(tmp_path))):
        result = _script(*args)
        assert result.returncode == 2
        assert result.stderr == f'usage: {LOCAL_SLURM} start|stop|status ' \
            'DIR\n'
    result = _script('status', str(tmp_path))
    assert (result.returncode, result.stderr) == (
        1, f'not running in {tmp_path}\n')


def test_a_second_instance_starts_beside_the_first_and_stops(local_slurm,
                                                            tmp_path):
    start = time.monotonic()
    result = _script('start', str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - start < 30
    conf = tmp_path / 'slurm.conf'
    assert result.stdout == f'export SLURM_CONF={conf}\n'
    try:
        with open(conf) as f:
            text = f.read()
        with open(os.path.join(local_slurm.folder, 'slurm.conf')) as f:
            first = f.read()
        for port in ('SlurmctldPort', 'SlurmdPort'):
            line = next(x for x in text.splitlines() if x.startswith(port))
            assert line not in first
        assert f'StateSaveLocation={tmp_path}/state' in text
        # Started twice: the running one is kept.
        again = _script('start', str(tmp_path))
        assert again.stdout == result.stdout
        assert again.stderr == f'already running in {tmp_path}\n'
        status = _script('status', str(tmp_path))
        assert status.returncode == 0 and ' idle ' in status.stdout
        # It runs jobs (srun: a step in a job of its own).
        job = subprocess.run(
            ['srun', '--cpus-per-task=1', 'sh', '-c', 'echo $SLURM_CONF'],
            env=dict(os.environ, SLURM_CONF=str(conf)), capture_output=True,
            text=True, timeout=60)
        assert (job.returncode, job.stdout) == (0, f'{conf}\n'), job.stderr
    finally:
        stopped = _script('stop', str(tmp_path))
    assert stopped.returncode == 0, stopped.stderr
    for daemon in ('slurmctld', 'slurmd'):
        assert not _alive(tmp_path / f'{daemon}.pid')
    assert _script('status', str(tmp_path)).returncode == 1
