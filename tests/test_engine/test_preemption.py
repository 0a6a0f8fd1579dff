"""PreemptionHook on its own: the signal only sets a flag; after the
iteration the hook saves once (unless the CheckpointHook just did) and
stops the loop. The end-to-end SIGTERM run is in test_reliability.py."""
import os
import signal
from types import SimpleNamespace
from unittest import mock

from mmengine.hooks import CheckpointHook

from rethink_mmdet.engine.hooks import PreemptionHook
from rethink_mmdet.engine.hooks.preemption import STOPPED_MARKER


def _runner(iteration, work_dir):
    checkpoint = CheckpointHook(interval=10, by_epoch=False)
    checkpoint._save_checkpoint = mock.Mock()
    return SimpleNamespace(
        hooks=[checkpoint], iter=iteration, max_iters=100,
        work_dir=str(work_dir),
        train_loop=SimpleNamespace(stop_training=False),
        logger=mock.Mock()), checkpoint._save_checkpoint


def test_signal_then_one_save_and_stop(tmp_path):
    previous = signal.getsignal(signal.SIGUSR1)
    hook = PreemptionHook()
    runner, save = _runner(3, tmp_path)
    (tmp_path / STOPPED_MARKER).write_text('from an earlier run\n')
    hook.before_train(runner)
    assert not (tmp_path / STOPPED_MARKER).exists()
    hook.after_train_iter(runner, 3)
    assert not save.called and not runner.train_loop.stop_training

    os.kill(os.getpid(), signal.SIGUSR1)  # handled: the test goes on
    hook.after_train_iter(runner, 3)
    save.assert_called_once_with(runner)
    assert runner.train_loop.stop_training
    assert 'stopped after iteration 4' in runner.logger.warning.call_args[0][0]
    # For the batch script: iterations are left, requeue.
    assert (tmp_path / STOPPED_MARKER).read_text() == \
        'stopped after iteration 4 of 100\n'
    hook.after_train(runner)
    assert signal.getsignal(signal.SIGUSR1) == previous


def test_a_signal_at_the_last_iteration_leaves_no_marker(tmp_path):
    hook = PreemptionHook()
    runner, save = _runner(99, tmp_path)
    hook.before_train(runner)
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        hook.after_train_iter(runner, 99)
    finally:
        hook.after_train(runner)
    assert not (tmp_path / STOPPED_MARKER).exists()
    assert not runner.logger.warning.called


def test_no_second_save_when_the_checkpoint_hook_saved(tmp_path):
    hook = PreemptionHook(signals=('SIGTERM', ))
    runner, save = _runner(9, tmp_path)  # iteration 10: CheckpointHook's
    hook.before_train(runner)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        hook.after_train_iter(runner, 9)
    finally:
        hook.after_train(runner)
    assert not save.called
    assert runner.train_loop.stop_training
