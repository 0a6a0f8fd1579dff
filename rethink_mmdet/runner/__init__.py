"""What every program shares: configs, the Runner, one training launcher.

Reading a config with this package's modules and patches, building
mmengine's Runner from it, training and testing as tools/train.py and
tools/test.py do, and the error type for bad input (reported in one line by
the tools)."""
import os.path as osp
from typing import Dict, Optional, Sequence

from mmengine.config import Config
from mmengine.utils import import_modules_from_strings

from .configs import config_path, configs_root
from .data_root import apply_data_root


class UsageError(Exception):
    """Bad input from the user: reported in one line, without a traceback."""


def load_config(path: str, cfg_options: Optional[dict] = None,
                data_root: Optional[str] = None) -> Config:
    """Reads a config with this package's modules and patches loaded, then
    applies ``--cfg-options`` and ``--data-root``
    (:func:`~.data_root.apply_data_root`)."""
    import rethink_mmdet  # noqa: F401  (patches + registry, before parsing)
    if not osp.isfile(path):
        raise UsageError(f'config file not found: {path}')
    try:
        cfg = Config.fromfile(path)
    except (SyntaxError, FileNotFoundError, KeyError, ImportError) as e:
        raise UsageError(f'cannot read config {path}: '
                         f'{type(e).__name__}: {e}') from e
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
        # mmengine imports custom_imports while parsing the file, so ones
        # given as --cfg-options would be ignored.
        if 'custom_imports' in cfg:
            import_modules_from_strings(**cfg.custom_imports)
    try:
        apply_data_root(cfg, data_root)
    except ValueError as e:
        raise UsageError(f'{path}: {e}') from e
    return cfg


def resolve_work_dir(cfg: Config, work_dir: Optional[str],
                     config_path: str) -> None:
    """Command line first, then the config, then work_dirs/CONFIG_STEM."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])


def build_runner(cfg: Config):
    """mmengine's Runner (or the config's ``runner_type``) for ``cfg``,
    adapted to the machine (CPU-only distributed jobs run on gloo)."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from rethink_mmdet import compat
    compat.adapt_cfg_to_device(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def release_process_group() -> None:
    """Destroys the job's process group, if any, once the work is done.

    Left to interpreter exit, a gloo group's threads were once torn down
    mid-flight: a rank of a finished 2-process CPU job aborted ("terminate
    called without an active exception"), and the launcher reported the
    whole job failed after its checkpoints and metrics were written.
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def parse_cfg_options(options: Sequence[str]) -> Dict[str, object]:
    """``KEY=VALUE`` strings as ``--cfg-options`` reads them."""
    import argparse

    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={})
    return parser.parse_args(['--cfg-options', *options]).cfg_options \
        if options else {}


#: Written into the work_dir once a run has finished (its final validation
#: included), by the main process; a campaign reads a row as done by it.
FINISHED_FILE = 'finished.json'


def mark_finished(runner, kind: str, **facts) -> None:
    """Writes ``WORK_DIR/finished.json`` (rank 0): what finished, the
    iteration it reached and ``facts``."""
    import json
    import time

    from mmengine.dist import is_main_process

    from rethink_mmdet.engine.checkpointing import write_atomically
    if not is_main_process():
        return
    record = dict(kind=kind, config=osp.basename(runner.cfg.filename or ''),
                  iter=runner.iter, finished=time.time(), **facts)
    write_atomically(json.dumps(record, indent=1),
                     osp.join(runner.work_dir, FINISHED_FILE))


__all__ = ['FINISHED_FILE', 'UsageError', 'build_runner', 'config_path',
           'configs_root', 'load_config', 'mark_finished',
           'parse_cfg_options',
           'release_process_group', 'resolve_work_dir']
