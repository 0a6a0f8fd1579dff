"""Preemption on the launchers: a short run through tools/dist_train.sh is
sent SIGTERM half-way, resumed with ``--resume`` to the end, and its final
weights are compared with an uninterrupted run's (``make gpu-accept``).

On CPU processes the runs are deterministic and must agree to 1e-6. CUDA
runs are not put in deterministic mode (torch has no deterministic CUDA
kernel for the backward of the FPN's nearest upsampling, and mmcv's
RoIAlign backward adds with atomics), so two uninterrupted CUDA runs
already differ by rounding; the bound there is a relative L2 difference of
1e-3 (the weights after a resume that lost or repeated one iteration differ
by far more: the check's control, in the tests, shows it on the CPU).
"""
import glob
import os
import os.path as osp
import signal
import subprocess
import time
from typing import Dict, Optional

from rethink_mmdet.acceptance.gpu_node import (
    GpuCheckError,
    training_records,
)
from rethink_mmdet.runner.launch import Launched, TrainingRun, cfg_options

#: Largest allowed difference of the final weights, by device: absolute on
#: deterministic CPU runs, relative L2 on CUDA runs (see the module text).
TOLERANCE = {'cpu': 1e-6, 'cuda': 1e-3}


def logged_iters(work_dir: str) -> Dict[int, float]:
    """The loss of each iteration the runs in ``work_dir`` logged."""
    return {r['iter']: r['loss'] for r in training_records(work_dir)}


def weight_difference(a: str, b: str, device: str) -> float:
    """Max absolute (CPU) or relative L2 (CUDA) difference of the weights
    of two checkpoints."""
    from rethink_mmdet.engine.checkpointing import read_run_checkpoint
    first, second = (read_run_checkpoint(path)['state_dict']
                     for path in (a, b))
    if first.keys() != second.keys():
        raise GpuCheckError(f'{a} and {b} hold different parameters')
    if device == 'cpu':
        return max((first[k].double() - second[k].double()).abs().max()
                   .item() for k in first if first[k].numel())
    diff = sum(((first[k].double() - second[k].double()) ** 2).sum()
               for k in first)
    norm = sum((first[k].double() ** 2).sum() for k in first)
    return float((diff / norm).sqrt())


def _train(config: str, nproc: int, work_dir: str, iters: int, overrides,
           env, resume: bool = False) -> Launched:
    """The run through tools/dist_train.sh, its output in
    WORK_DIR/launcher.log."""
    os.makedirs(work_dir, exist_ok=True)
    log = open(osp.join(work_dir, 'launcher.log'), 'a')
    # A session of its own: the SIGTERM goes to the launcher (torchrun),
    # which forwards it to every rank, as a scheduler's preemption does.
    run = TrainingRun(config, work_dir, iters, cfg_options(overrides),
                      nproc=nproc, env=env)
    return Launched(run, log, resume=resume, new_session=True)


def _finish(training: Launched, what: str, timeout: float) -> int:
    try:
        return training.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        training.kill_group()
        raise GpuCheckError(f'{what} did not end within {timeout:.0f} s')


def preempt_and_resume(config: str, nproc: int, iters: int, scale,
                       data_root: str, work_dir: str, device: str,
                       env: Optional[Dict[str, str]] = None,
                       timeout: float = 600) -> Dict[str, object]:
    """An uninterrupted run and a preempted-then-resumed one of ``iters``
    iterations; raises :class:`GpuCheckError` when they disagree.

    Returns:
        The iteration the preempted run stopped after, the launcher's exit
        status, the weight difference and its bound.
    """
    from rethink_mmdet.runner.synthetic_data import synthetic_data_overrides
    overrides = {**synthetic_data_overrides(config, data_root, scale),
                 'train_cfg.max_iters': iters,
                 'train_cfg.val_interval': iters + 1,
                 'param_scheduler.0.end': 2,
                 'param_scheduler.1.end': iters,
                 'param_scheduler.1.drops_before_end': [max(1, iters // 2)],
                 # Only the final checkpoint is scheduled: the resume can
                 # only start from the one the preemption saves.
                 'default_hooks.checkpoint.interval': iters,
                 'default_hooks.logger.interval': 1,
                 'randomness.seed': 0,
                 'randomness.deterministic': device == 'cpu'}
    straight = osp.join(work_dir, 'uninterrupted')
    code = _finish(_train(config, nproc, straight, iters, overrides, env),
                   'the uninterrupted run', timeout)
    if code != 0:
        raise GpuCheckError(f'the uninterrupted run exited {code} (log: '
                            f'{straight}/launcher.log)')
    preempted = osp.join(work_dir, 'preempted')
    process = _train(config, nproc, preempted, iters, overrides, env)
    start = time.time()
    while max(logged_iters(preempted), default=0) < iters // 2:
        if process.poll() is not None:
            raise GpuCheckError(f'the run to preempt ended before '
                                f'iteration {iters // 2} (log: {preempted}'
                                '/launcher.log)')
        if time.time() - start > timeout:
            process.kill_group()
            raise GpuCheckError(f'no iteration {iters // 2} within '
                                f'{timeout:.0f} s')
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    launcher_status = _finish(process, 'the preempted run', timeout)
    saved = sorted(glob.glob(osp.join(preempted, 'iter_*.pth')))
    if len(saved) != 1:
        raise GpuCheckError(f'SIGTERM left {len(saved)} checkpoints in '
                            f'{preempted}, expected the preemption\'s one')
    stopped = int(osp.basename(saved[0])[5:-4])
    code = _finish(_train(config, nproc, preempted, iters, overrides, env,
                          resume=True), 'the resumed run', timeout)
    final = osp.join(preempted, f'iter_{iters}.pth')
    if code != 0 or not osp.isfile(final):
        raise GpuCheckError(f'the resumed run exited {code} without '
                            f'{final}')
    difference = weight_difference(osp.join(straight, f'iter_{iters}.pth'),
                                   final, device)
    bound = TOLERANCE[device]
    result = {'stopped_after': stopped, 'launcher_exit': launcher_status,
              'iters': iters, 'difference': difference, 'bound': bound,
              'measure': 'max abs' if device == 'cpu' else 'relative L2'}
    if not difference <= bound:
        raise GpuCheckError(
            f'resumed weights differ from the uninterrupted run\'s by '
            f'{difference:.3g} ({result["measure"]}; bound {bound:g})')
    return result
