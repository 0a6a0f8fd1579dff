"""Interruptions of real training runs of the toy config (issue 5), each
resumed: SIGKILL, SIGTERM (preemption), a kill while a checkpoint is
written. docs/reliability.md lists what each shows; the other faults are in
test_fault_handling.py."""
import os
import random
import signal
import subprocess
import time

import pytest

from rethink_mmdet.testing import (
    REPO_ROOT,
    read_run_checkpoint,
    run_tool,
    tool_env,
    toy_train_command,
)
from rethink_mmdet.testing.runs import max_difference, run_records

pytestmark = pytest.mark.slow

# Deterministic CPU runs, a checkpoint after every iteration, validation
# every 3 (so a resume can start right after a validation).
EXACT = {'randomness.seed': 0, 'randomness.deterministic': True,
         'default_hooks.checkpoint.interval': 1}


def _wait_for(path, process, timeout=300):
    start = time.time()
    while not os.path.exists(path):
        assert process.poll() is None, f'run ended before {path} existed'
        assert time.time() - start < timeout, f'no {path} after {timeout}s'
        time.sleep(0.02)


def _sigkill_between(command, first, then, delay):
    """Starts ``command`` and SIGKILLs it ``delay`` s after ``first``
    appears, wherever the run is then (an iteration, a validation, a
    checkpoint write), or as soon as ``then`` appears if that is sooner:
    with ``then`` a checkpoint well before the last, the kill cannot come
    after the end of the run on however fast a machine."""
    process = subprocess.Popen(command, cwd=REPO_ROOT,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _wait_for(first, process)
        deadline = time.time() + delay
        while time.time() < deadline and not os.path.exists(then):
            time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    # A run that had already exited would pass the rest as a resume.
    assert process.returncode == -signal.SIGKILL, \
        f'the run exited {process.returncode} before the kill'


def _runs(work_dir):
    """Each run of ``work_dir`` (oldest first) as ``{iteration: (loss,
    lr)}`` of its training records."""
    return [{it: (r['loss'], r['lr']) for it, r in run.items()}
            for run in run_records(work_dir)]


def _losses_by_iter(work_dir):
    """Every iteration's ``(loss, lr)``, from the last run that logged it."""
    merged = {}
    for run in _runs(work_dir):
        merged.update(run)
    return merged


def _newest_checkpoint(work_dir):
    """The highest N of the complete ``iter_N.pth`` files (writes are
    atomic: an interrupted one leaves only a temporary file)."""
    return max(int(p.stem.split('_')[1]) for p in work_dir.glob('iter_*.pth'))


def _kill_and_resume(tmp_path, name, data_root, kill_after, **options):
    """A 6-iteration run SIGKILLed between ``iter_{kill_after}.pth`` and
    the next checkpoint, then resumed; returns the work_dir, the iteration
    of the checkpoint the resume had to start from, and the resumed run's
    ``{iteration: (loss, lr)}``."""
    work_dir = tmp_path / name
    _sigkill_between(toy_train_command(work_dir, data_root, 6, 3, **options),
                     work_dir / f'iter_{kill_after}.pth',
                     work_dir / f'iter_{kill_after + 1}.pth',
                     delay=random.uniform(0, 0.5))
    assert not (work_dir / 'iter_6.pth').exists(), 'the run was not cut'
    saved = _newest_checkpoint(work_dir)
    with open(work_dir / 'last_checkpoint') as f:
        pointer = os.path.basename(f.read().strip())
    # A kill between a checkpoint's rename and the pointer's update leaves
    # the pointer one behind; --resume takes the newest complete file.
    assert pointer in (f'iter_{saved}.pth', f'iter_{saved - 1}.pth'), \
        (pointer, saved)
    print(f'{name}: killed with iter_{saved}.pth the newest checkpoint, '
          f'last_checkpoint naming {pointer}')
    run_tool(toy_train_command(work_dir, data_root, 6, 3,
                               extra=['--resume'], **options))
    killed, resumed = _runs(work_dir)
    assert min(killed) == 1 and max(killed) >= saved
    # The resumed run's own log starts right after the checkpoint: not a
    # restart from iteration 0, nor a continuation from an older file.
    assert sorted(resumed) == list(range(saved + 1, 7)), sorted(resumed)
    return work_dir, saved, resumed


def test_sigkill_then_resume_ends_with_the_uninterrupted_weights(
        tmp_path, tiny_coco):
    # The kill comes by iter_4.pth at the latest: iterations 5 and 6 are
    # still to run, so it never misses the run.
    kill_after = random.randint(2, 3)
    reference = tmp_path / 'uninterrupted'
    run_tool(toy_train_command(reference, tiny_coco, 6, 3, **EXACT))
    resumed, saved, resumed_losses = _kill_and_resume(
        tmp_path, 'killed', tiny_coco, kill_after, **EXACT)
    expected = read_run_checkpoint(reference / 'iter_6.pth')
    actual = read_run_checkpoint(resumed / 'iter_6.pth')
    assert max_difference(expected['state_dict'],
                           actual['state_dict']) <= 1e-6
    # SGD momentum buffers and the LR schedulers' state.
    assert max_difference(expected['optimizer']['state'],
                           actual['optimizer']['state']) <= 1e-6
    assert expected['param_schedulers'] == actual['param_schedulers']
    hub_expected = expected['message_hub']['log_scalars']['train/loss']
    hub_actual = actual['message_hub']['log_scalars']['train/loss']
    assert hub_expected.data[0] == pytest.approx(hub_actual.data[0],
                                                 abs=1e-6)
    # Same data, augmentations and samples at every iteration after the
    # kill: the losses agree, not only the end point.
    [losses] = _runs(reference)
    for it in range(saved + 1, 7):
        assert resumed_losses[it] == pytest.approx(losses[it], abs=1e-6)

    # The control: without the random state in the checkpoint, the RPN and
    # R-CNN samplers draw differently after the resume (from a kill and a
    # resume as real as the run above: _kill_and_resume checks both).
    plain = _kill_and_resume(tmp_path, 'no-rng-state', tiny_coco,
                             kill_after, **EXACT,
                             **{'custom_hooks.1.type': 'DivergenceGuardHook'}
                             )[0]
    actual = read_run_checkpoint(plain / 'iter_6.pth')
    assert max_difference(expected['state_dict'],
                           actual['state_dict']) > 1e-6


# Preemption: SIGTERM instead of SIGKILL, and checkpoints only at the end,
# so the resume can only come from the one PreemptionHook saves.
PREEMPT = {'randomness.seed': 0, 'randomness.deterministic': True}


def test_sigterm_saves_after_the_iteration_exits_0_and_resumes_exactly(
        tmp_path, tiny_coco):
    reference = tmp_path / 'uninterrupted'
    run_tool(toy_train_command(reference, tiny_coco, 4, 4, **PREEMPT))
    work_dir = tmp_path / 'preempted'
    process = subprocess.Popen(
        toy_train_command(work_dir, tiny_coco, 4, 4, **PREEMPT),
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    start = time.time()
    while not (work_dir.exists() and 1 in _losses_by_iter(work_dir)):
        assert process.poll() is None, process.stdout.read()[-3000:]
        assert time.time() - start < 300, 'no first iteration after 300 s'
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 0, output[-3000:]
    saved = sorted(work_dir.glob('iter_*.pth'))
    assert len(saved) == 1, saved
    stopped = int(saved[0].stem.split('_')[1])
    assert 2 <= stopped < 4
    assert f'preemption signal: stopped after iteration {stopped}' in output
    with open(work_dir / 'last_checkpoint') as f:
        assert f.read().strip() == str(saved[0])
    # Nothing beyond what a CheckpointHook checkpoint holds.
    expected = read_run_checkpoint(reference / 'iter_4.pth')
    assert read_run_checkpoint(saved[0]).keys() == expected.keys()

    run_tool(toy_train_command(work_dir, tiny_coco, 4, 4,
                               extra=['--resume'], **PREEMPT))
    actual = read_run_checkpoint(work_dir / 'iter_4.pth')
    assert max_difference(expected['state_dict'],
                           actual['state_dict']) <= 1e-6
    assert max_difference(expected['optimizer']['state'],
                           actual['optimizer']['state']) <= 1e-6
    losses, resumed = _losses_by_iter(reference), _losses_by_iter(work_dir)
    for it in range(1, 5):
        assert resumed[it] == pytest.approx(losses[it], abs=1e-6)


def _with_injected_code(tmp_path, source):
    """Environment whose Python runs ``source`` at start (sitecustomize)."""
    folder = tmp_path / 'inject'
    folder.mkdir()
    (folder / 'sitecustomize.py').write_text(source)
    return tool_env(first_on_path=str(folder))


KILL_WHILE_SAVING = '''
import os, signal
_replace = os.replace
def replace(src, dst, *args, **kwargs):
    # The temporary file is complete; the kill comes before the rename.
    if str(dst).endswith({name!r}):
        os.kill(os.getpid(), signal.SIGKILL)
    return _replace(src, dst, *args, **kwargs)
os.replace = replace
'''


def test_kill_while_saving_keeps_the_previous_checkpoint(tmp_path,
                                                         tiny_coco):
    work_dir = tmp_path / 'run'
    env = _with_injected_code(
        tmp_path, KILL_WHILE_SAVING.format(name='iter_3.pth'))
    result = run_tool(toy_train_command(work_dir, tiny_coco, 4, 1),
                      returncode=-signal.SIGKILL, env=env)
    assert not (work_dir / 'iter_3.pth').exists(), result.stderr[-2000:]
    assert list(work_dir.glob('.tmp-iter_3.pth.*')), 'the write was cut'
    with open(work_dir / 'last_checkpoint') as f:
        assert f.read().strip().endswith('iter_2.pth')

    run_tool(toy_train_command(work_dir, tiny_coco, 4, 1,
                               extra=['--resume']))
    # The resumed run's own log: from iteration 3, not a restart from 0.
    killed, resumed = _runs(work_dir)
    assert min(killed) == 1 and sorted(resumed) == [3, 4]
    assert read_run_checkpoint(work_dir / 'iter_4.pth')['meta']['iter'] == 4
    assert not list(work_dir.glob('.tmp-*')), 'stale temporary kept'
