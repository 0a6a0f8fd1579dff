"""The one launcher of a training run (rethink_mmdet/runner/launch.py):
the tools it runs come from the package, it resumes from the work_dir's
checkpoints, and it appends the whole output to the log while handing each
line to the caller."""
import os
import os.path as osp
import signal
import sys
import time

from rethink_mmdet.runner import launch
from rethink_mmdet.testing import REPO_ROOT

TRAIN_LINE = ('12/07 10:00:00 - mmengine - INFO - Iter(train) [  40/1200]  '
              'lr: 2.0e-02  eta: 0:01:00  time: 0.05  loss: 2.5031  '
              'loss_cls: 0.6\n')
VAL_LINE = ('12/07 10:00:09 - mmengine - INFO - Iter(val) [8/8]    '
            'coco/bbox_mAP: 0.1230  coco/bbox_mAP_50: 0.3000\n')


def test_the_tools_are_the_packages_wherever_it_runs(tmp_path,
                                                      monkeypatch):
    assert launch.tools_root() == osp.join(REPO_ROOT, 'tools')
    assert launch.checkout_path('install/check_ops.py') == osp.join(
        REPO_ROOT, 'install', 'check_ops.py')
    run = launch.TrainingRun('c.py', 'w', 4, ['--cfg-options', 'a=1'])
    assert run.command(['--resume']) == [
        sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), 'c.py',
        '--work-dir', 'w', '--resume', '--cfg-options', 'a=1']
    run.nproc = 2
    assert run.command()[:4] == [
        'bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), 'c.py', '2']
    # Started from elsewhere, the same tools.
    monkeypatch.chdir(tmp_path)
    assert run.command()[1] == osp.join(REPO_ROOT, 'tools',
                                        'dist_train.sh')
    assert run.environment()['PYTHON'] == sys.executable


def test_resume_arguments(tmp_path):
    assert launch.resume_arguments(str(tmp_path), 8) == ([], 0)
    (tmp_path / 'iter_4.pth').touch()
    assert launch.resume_arguments(str(tmp_path), 8) == (['--resume'], 4)
    # Final checkpoint without the final validation: redo from the one
    # before, so the validation runs.
    (tmp_path / 'iter_8.pth').touch()
    assert launch.resume_arguments(str(tmp_path), 8) == (
        ['--resume', str(tmp_path / 'iter_4.pth')], 4)


def test_log_lines_read_as_progress():
    assert launch.train_iteration(TRAIN_LINE) == (40, 1200)
    assert launch.logged_loss(TRAIN_LINE) == '2.5031'
    assert launch.validation_metric(VAL_LINE) == 'coco/bbox_mAP: 0.1230'
    assert launch.train_iteration(VAL_LINE) is None
    assert launch.validation_metric(TRAIN_LINE) is None


class _PrintingRun(launch.TrainingRun):
    """A run whose command prints two log lines and exits 3 (the launcher's
    logic without a training)."""

    def command(self, resume=()):
        script = (f'import sys; print({TRAIN_LINE!r}, end=""); '
                  f'print("resume:", {list(resume)!r}); '
                  f'print({VAL_LINE!r}, end="", file=sys.stderr); '
                  'sys.exit(3)')
        return [sys.executable, '-c', script]


def test_output_is_appended_to_the_log_and_handed_over(tmp_path):
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    (work_dir / 'iter_2.pth').touch()
    run = _PrintingRun('c.py', str(work_dir), 8)
    log_path = tmp_path / 'train.log'
    log_path.write_text('earlier\n')
    lines = []
    with open(log_path, 'a') as log:
        started = launch.Launched(run, log, lines.append)
        assert started.start_iter == 2
        assert started.wait() == 3
    assert lines[0] == TRAIN_LINE and lines[-1] == VAL_LINE
    assert "resume: ['--resume']\n" in lines
    text = log_path.read_text()
    assert text.startswith('earlier\n$ ')
    assert text.endswith(TRAIN_LINE + "resume: ['--resume']\n" + VAL_LINE)
    # Without a reader the output goes straight to the log.
    with open(log_path, 'a') as log:
        assert launch.Launched(run, log, resume=False).wait() == 3
    assert log_path.read_text().endswith("resume: []\n" + VAL_LINE)


class _SleepingRun(launch.TrainingRun):
    def command(self, resume=()):
        return ['bash', '-c', 'sleep 60 & wait']


def test_a_run_in_its_own_session_is_stopped_as_a_whole(tmp_path):
    with open(tmp_path / 'log', 'a') as log:
        started = launch.Launched(_SleepingRun('c.py', str(tmp_path), 1),
                                  log, new_session=True)
        assert os.getpgid(started.pid) == started.pid
        time.sleep(0.2)
        started.kill_group()
        assert started.wait(timeout=10) == -signal.SIGKILL
