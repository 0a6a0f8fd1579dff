"""What ``make demo`` shows: progress lines and results on the screen, the
Runner's tables and pycocotools' chatter in a log file.

mmengine's Runner prints its environment, config and hook tables, and
pycocotools prints "loading annotations into memory..." at every
evaluation: thousands of lines around the few a newcomer wants.
"""
import contextlib
import logging
import math
import time
from typing import Callable, Iterator, TextIO

from rethink_mmdet.runner.launch import (
    logged_loss,
    train_iteration,
    validation_metric,
)

#: Training progress lines on the screen, at most (one per logged step when
#: the run logs fewer steps than this).
PROGRESS_LINES = 20


def print_now(text: str) -> None:
    print(text, flush=True)


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return (f'{seconds // 60}m{seconds % 60:02d}s' if seconds >= 60 else
            f'{seconds}s')


class TrainProgress:
    """Turns a training log, line by line, into progress lines with an ETA.

    A logged step is shown when it reaches the next 1/``lines`` of the run
    (every logged step when there are fewer), so a run prints at most
    ``lines`` of them whatever its logging interval; each validation result
    is shown too.

    Args:
        max_iters: The run's last iteration.
        start_iter: The iteration it starts after (a resumed run's
            checkpoint).
        write: Where progress lines go.
        lines: Progress lines per run, at most.
        clock: Seconds, monotonic (tests pass a fake).
    """

    def __init__(self, max_iters: int, start_iter: int = 0,
                 write: Callable[[str], None] = print_now,
                 lines: int = PROGRESS_LINES,
                 clock: Callable[[], float] = time.monotonic):
        self.max_iters = max_iters
        self.every = max(1, math.ceil(max_iters / lines))
        self.write = write
        self.clock = clock
        self.start = clock()
        self.start_iter = start_iter
        self.next_shown = 0
        self.iteration = start_iter

    def feed(self, line: str) -> None:
        """Reads one line of the training log."""
        step = train_iteration(line)
        if step:
            self.iteration = step[0]
            if self.iteration >= self.next_shown or \
                    self.iteration == self.max_iters:
                self.next_shown = (self.iteration // self.every + 1) * \
                    self.every
                self._show(logged_loss(line))
            return
        metric = validation_metric(line)
        if metric:
            self.write(f'    validation at iteration {self.iteration}: '
                       f'{metric}')

    def _show(self, loss) -> None:
        elapsed = self.clock() - self.start
        done = max(1, self.iteration - self.start_iter)
        left = elapsed / done * (self.max_iters - self.iteration)
        text = (f'[train {format_seconds(elapsed)} elapsed, '
                f'~{format_seconds(left)} left] iteration '
                f'{self.iteration}/{self.max_iters}')
        if loss:
            text += f', loss {loss}'
        self.write(text)


@contextlib.contextmanager
def output_to(log: TextIO) -> Iterator[None]:
    """Sends this process's stdout and stderr to ``log`` for a while.

    mmengine's logger binds its console handler to ``sys.stdout`` when a
    Runner creates it, so the handlers created in here write to ``log``;
    they are removed on the way out, before ``log`` can be closed.
    """
    from mmengine.logging import MMLogger
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            yield
        finally:
            for logger in MMLogger._instance_dict.values():
                for handler in list(logger.handlers):
                    if getattr(handler, 'stream', None) is log and \
                            not isinstance(handler, logging.FileHandler):
                        logger.removeHandler(handler)
