"""The one launcher of a training run, for every program that starts one:
the demo, the study, the campaign's local rows and the acceptance checks.

A run is the command a user would type, ``tools/train.py`` (one process)
or ``tools/dist_train.sh`` (torchrun, several), resumed from the work_dir's
checkpoints when it holds any, with its whole output appended to a log
file and each line handed to the caller (progress, validation results).
The tools are the package's (``rethink_mmdet/.mim/tools``: a symlink to
the checkout's ``tools/``, a real folder in a wheel), never the working
directory's.
"""
import glob
import os
import os.path as osp
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from typing import (
    Callable,
    Dict,
    List,
    Optional,
    Sequence,
    TextIO,
    Tuple,
    Union,
)

_PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
_CHECKPOINT = re.compile(r'iter_(\d+)\.pth')
ITER_LINE = re.compile(r'Iter\(train\) \[\s*(\d+)/(\d+)\]')
LOSS = re.compile(r'\sloss: ([-\d.naif]+)')
VAL_METRIC = re.compile(r'Iter\(val\).*?((?:coco/bbox_mAP|cls/top1):\s*'
                        r'[-\d.]+)')


def tools_root() -> str:
    """The folder holding ``train.py``, ``test.py`` and the launch
    scripts, in a checkout or an installed wheel."""
    return osp.realpath(osp.join(_PACKAGE_DIR, '.mim', 'tools'))


def tool_path(name: str) -> str:
    """A tool by its path under ``tools/``, e.g. ``'dist_train.sh'``."""
    return osp.join(tools_root(), name)


def checkout_path(relative: str) -> Optional[str]:
    """A file of the checkout the package runs from (e.g. the set-up's
    ``install/check_ops.py``), or None where the package is a wheel."""
    path = osp.join(osp.dirname(tools_root()), relative)
    return path if osp.exists(path) else None


def saved_iterations(work_dir: str) -> Dict[int, str]:
    """The ``iter_N.pth`` checkpoints of a work_dir, by iteration."""
    found = {}
    for path in glob.glob(osp.join(work_dir, 'iter_*.pth')):
        match = _CHECKPOINT.fullmatch(osp.basename(path))
        if match:
            found[int(match.group(1))] = path
    return found


def resume_arguments(work_dir: str, max_iters: int
                     ) -> Tuple[List[str], int]:
    """``--resume`` arguments for an interrupted run (none for a new one),
    and the iteration training starts after.

    mmengine saves the last checkpoint before the final validation: a run
    stopped during that validation resumes from the checkpoint before it,
    so the validation runs again.
    """
    checkpoints = saved_iterations(work_dir)
    earlier = [i for i in checkpoints if i < max_iters]
    if not earlier:
        return [], 0
    if max(checkpoints) < max_iters:
        return ['--resume'], max(checkpoints)
    return ['--resume', checkpoints[max(earlier)]], max(earlier)


def train_iteration(line: str) -> Optional[Tuple[int, int]]:
    """(iteration, last iteration) of a training log line, else None."""
    match = ITER_LINE.search(line)
    return (int(match.group(1)), int(match.group(2))) if match else None


def logged_loss(line: str) -> Optional[str]:
    match = LOSS.search(line)
    return match.group(1) if match else None


def validation_metric(line: str) -> Optional[str]:
    """``coco/bbox_mAP: X`` (or ``cls/top1: X``) of a validation line."""
    match = VAL_METRIC.search(line)
    return match.group(1) if match else None


def _option_value(value) -> str:
    if isinstance(value, (tuple, list)):
        inner = ','.join(_option_value(v) for v in value)
        return f'({inner})' if isinstance(value, tuple) else f'[{inner}]'
    return str(value)


def cfg_options(overrides: Dict[str, object]) -> List[str]:
    """``--cfg-options`` arguments for ``overrides``, in the syntax of
    mmengine's ``DictAction`` (tuples and lists nested)."""
    return ['--cfg-options'] + [f'{key}={_option_value(value)}'
                                for key, value in overrides.items()]


@dataclass
class TrainingRun:
    """One training of a config into a work_dir.

    Args:
        config: The config file.
        work_dir: Its checkpoints and logs.
        max_iters: Its last iteration (to resume, and for progress).
        options: More ``tools/train.py`` arguments (``--cfg-options``...).
        nproc: None runs ``tools/train.py``; N runs
            ``tools/dist_train.sh`` with N processes.
        env: Its environment (default: this process's); the launch
            scripts get this Python unless ``PYTHON`` is set.
    """
    config: str
    work_dir: str
    max_iters: int
    options: Sequence[str] = ()
    nproc: Optional[int] = None
    env: Optional[Dict[str, str]] = field(default=None, repr=False)

    def command(self, resume: Sequence[str] = ()) -> List[str]:
        arguments = ['--work-dir', self.work_dir, *resume, *self.options]
        if self.nproc is None:
            return [sys.executable, tool_path('train.py'), self.config,
                    *arguments]
        return ['bash', tool_path('dist_train.sh'), self.config,
                str(self.nproc), *arguments]

    def environment(self) -> Dict[str, str]:
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault('PYTHON', sys.executable)
        # Unbuffered, so each log line (and the progress) arrives when
        # written.
        env['PYTHONUNBUFFERED'] = '1'
        return env


@dataclass
class TestRun:
    """One evaluation of a checkpoint (``tools/test.py``), started as a
    :class:`TrainingRun` is (its ``max_iters`` is 0: nothing to resume).

    Args:
        config: The config file.
        checkpoint: The weights.
        work_dir: Its logs and ``finished.json``.
        options: More ``tools/test.py`` arguments (``--tta``...).
        env: Its environment (default: this process's).
    """
    config: str
    checkpoint: str
    work_dir: str
    options: Sequence[str] = ()
    env: Optional[Dict[str, str]] = field(default=None, repr=False)
    max_iters: int = 0
    environment = TrainingRun.environment

    def command(self, resume: Sequence[str] = ()) -> List[str]:
        return [sys.executable, tool_path('test.py'), self.config,
                self.checkpoint, '--work-dir', self.work_dir, *self.options]


class Launched:
    """A training run in its subprocess.

    Args:
        run: What to train.
        log: An open text file the whole output is appended to (after the
            command line).
        on_line: Called with each output line (in :meth:`wait`); without
            it the output goes straight to ``log``.
        resume: Resume from the work_dir's checkpoints when it holds any.
        new_session: Start the run in a session of its own, so a signal
            reaches the launcher and every rank, as a scheduler's does.
    """

    def __init__(self, run: Union[TrainingRun, TestRun], log: TextIO,
                 on_line: Optional[Callable[[str], None]] = None,
                 resume: bool = True, new_session: bool = False):
        resume_args, self.start_iter = resume_arguments(
            run.work_dir, run.max_iters) if resume else ([], 0)
        self.command = run.command(resume_args)
        self.log = log
        self.on_line = on_line
        os.makedirs(run.work_dir, exist_ok=True)
        log.write('$ ' + ' '.join(self.command) + '\n')
        log.flush()
        self.process = subprocess.Popen(
            self.command, env=run.environment(),
            stdout=subprocess.PIPE if on_line else log,
            stderr=subprocess.STDOUT, text=True, bufsize=1,
            start_new_session=new_session)

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> Optional[int]:
        return self.process.poll()

    def send_signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill_group(self) -> None:
        """SIGKILL to the run's session (``new_session=True``)."""
        os.killpg(self.process.pid, signal.SIGKILL)

    def wait(self, timeout: Optional[float] = None) -> int:
        """Waits for the exit status; hands each line to ``on_line`` on the
        way (``timeout`` only applies without ``on_line``)."""
        if self.on_line is not None:
            for line in self.process.stdout:
                self.log.write(line)
                self.on_line(line)
            self.log.flush()
        return self.process.wait(timeout=timeout)


def log_tail(path: str, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file."""
    with open(path, errors='replace') as f:
        return ''.join(f.readlines()[-lines:])
