"""PreemptionHook on its own: the signal only sets a flag; after the
iteration the hook saves once (unless the CheckpointHook just did) and
stops the loop. The end-to-end SIGTERM run is in test_reliability.py."""
import os
import signal
from types import SimpleNamespace
from unittest import mock

from mmengine.hooks import CheckpointHook

from rethink_mmdet.engine.hooks import PreemptionHook


def _runner(iteration):
    checkpoint = CheckpointHook(interval=10, by_epoch=False)
    checkpoint._save_checkpoint = mock.Mock()
    return SimpleNamespace(
        hooks=[checkpoint], iter=iteration, max_iters=100, work_dir='w',
        train_loop=SimpleNamespace(stop_training=False),
        logger=mock.Mock()), checkpoint._save_checkpoint


def test_signal_then_one_save_and_stop():
    previous = signal.getsignal(signal.SIGUSR1)
    hook = PreemptionHook()
    runner, save = _runner(3)
    hook.before_train(runner)
    hook.after_train_iter(runner, 3)
    assert not save.called and not runner.train_loop.stop_training

    os.kill(os.getpid(), signal.SIGUSR1)  # handled: the test goes on
    hook.after_train_iter(runner, 3)
    save.assert_called_once_with(runner)
    assert runner.train_loop.stop_training
    assert 'stopped after iteration 4' in runner.logger.warning.call_args[0][0]
    hook.after_train(runner)
    assert signal.getsignal(signal.SIGUSR1) == previous


def test_no_second_save_when_the_checkpoint_hook_saved():
    hook = PreemptionHook(signals=('SIGTERM', ))
    runner, save = _runner(9)  # iteration 10: CheckpointHook's interval
    hook.before_train(runner)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        hook.after_train_iter(runner, 9)
    finally:
        hook.after_train(runner)
    assert not save.called
    assert runner.train_loop.stop_training
