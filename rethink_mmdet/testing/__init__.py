"""Helpers for tests/ only: short toy runs, the tools run as a user does.

Never imported by the package. (mmdet's own ``get_detector_cfg`` only finds
configs inside an mmdetection checkout.)"""
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

from rethink_mmdet.engine.checkpointing import read_run_checkpoint  # noqa: F401  (tests)
from rethink_mmdet.runner.configs import config_path
from rethink_mmdet.runner.launch import cfg_options
from rethink_mmdet.runner.synthetic_data import synthetic_data_overrides

#: The checkout the tests run in (the tools are run from here, as a user does).
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY_CONFIG = config_path(
    'toy/mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py')
TOY_KEYPOINT_CONFIG = config_path(
    'toy/keypoint-rcnn_r18-tiny-scratch_fpn_gn-all_toy-400i_synthetic-coco-kp.py')


def short_run_overrides(max_iters: int, interval: int = None,
                        batch_size: int = 2,
                        schedule_iters: int = None) -> Dict[str, object]:
    """``--cfg-options`` for a run of a few iterations of any row config.

    Args:
        max_iters: Training length (at least 2).
        interval: Checkpoint and validation interval (default:
            ``max_iters``); the log has every iteration.
        batch_size: Training images per iteration and process.
        schedule_iters: Length the LR schedule is laid out for (default:
            ``max_iters``): 2 warmup iterations, then one LR drop half-way.
            A run resumed to a longer ``max_iters`` keeps its scheduler.
    """
    interval = interval or max_iters
    schedule_iters = schedule_iters or max_iters
    return {
        'train_dataloader.batch_size': batch_size,
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': interval,
        # LinearLR needs end >= 2 to leave its start factor behind.
        'param_scheduler.0.end': 2,
        'param_scheduler.1.end': schedule_iters,
        'param_scheduler.1.drops_before_end': [max(1, schedule_iters // 2)],
        'default_hooks.checkpoint.interval': interval,
        'default_hooks.logger.interval': 1,
        # A model trained for a few iterations scores below the usual 0.05;
        # keeping every detection lets evaluation run its whole path.
        'model.test_cfg.rcnn.score_thr': 0.0,
    }


def toy_overrides(data_root: str, max_iters: int, interval: int = None,
                  batch_size: int = 2, schedule_iters: int = None,
                  config: str = TOY_CONFIG) -> Dict[str, object]:
    """The toy config (or ``config``) on ``data_root`` for a short run
    (see :func:`short_run_overrides` for the arguments)."""
    return {**synthetic_data_overrides(config, data_root),
            **short_run_overrides(max_iters, interval, batch_size,
                                  schedule_iters)}


def as_cli_options(overrides: Dict[str, object]) -> List[str]:
    """``--cfg-options`` arguments for a subprocess command line."""
    return cfg_options(overrides)


def tool_env(first_on_path: Optional[str] = None) -> Dict[str, str]:
    """This process's environment for a tool subprocess: the launch scripts
    use this Python, pick a free port, and import from ``first_on_path``
    first when given (a test's own modules)."""
    env = dict(os.environ, PYTHON=sys.executable)
    env.pop('PORT', None)
    if first_on_path is not None:
        env['PYTHONPATH'] = (f'{first_on_path}{os.pathsep}'
                             + os.environ.get('PYTHONPATH', ''))
    return env


def run_tool(command: List[str], returncode: Optional[int] = 0,
             timeout: int = 600, env: Optional[dict] = None):
    """Runs a tool from the repository root, as a user does.

    Args:
        command: The command line.
        returncode: The exit status expected (None: any); the assertion
            shows the end of the output when it differs.
        timeout: Seconds before the tool counts as hung.
        env: Environment (default: this process's).
    """
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=timeout, env=env)
    if returncode is not None:
        assert result.returncode == returncode, (
            f'{" ".join(command)} exited {result.returncode}, expected '
            f'{returncode}:\n{result.stdout[-3000:]}\n'
            f'{result.stderr[-5000:]}')
    return result


def toy_train_command(work_dir: str, data_root: str, max_iters: int,
                      interval: int = None, extra: Sequence[str] = (),
                      **overrides) -> List[str]:
    """``tools/train.py`` on the toy config for a short run (arguments as
    :func:`toy_overrides`; ``overrides`` are extra ``--cfg-options``)."""
    options = toy_overrides(data_root, max_iters, interval,
                            **{k: overrides.pop(k) for k in (
                                'batch_size', 'schedule_iters')
                               if k in overrides})
    options.update(overrides)
    return [sys.executable, 'tools/train.py', TOY_CONFIG, '--work-dir',
            str(work_dir), *extra, *as_cli_options(options)]


class _RunsCode:
    """Unpickles by running Python code (``exec``): what a malicious
    checkpoint does; the code here only creates the file ``marker``."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return exec, (f'open({self.marker!r}, "w").close()', )


def write_code_running_checkpoint(path: str, marker: str,
                                  checkpoint: Optional[dict] = None) -> None:
    """Saves ``checkpoint`` (default: an empty ``state_dict``) with one
    more entry whose unpickling creates the file ``marker``: loading the
    file with full unpickling runs code, and is otherwise a valid
    checkpoint."""
    import torch
    checkpoint = dict(checkpoint or dict(state_dict={}))
    checkpoint['payload'] = _RunsCode(marker)
    torch.save(checkpoint, path)
