"""The data check once per job, and not again for unchanged files.

At COCO scale the check reads train2017's 450 MB of annotations (about as
long as the dataset itself takes to load, docs/benchmarks.md): on 8 or 64
ranks each doing it, the job would read them 8 or 64 times over. Rank 0
checks; the other ranks wait for its verdict (a broadcast over the process
group, which is set up early for this; mmengine's Runner then finds it set
up and keeps it). A passed verdict is written to the work_dir keyed by each
annotation file's path, size and modification time (and the config values
the check depends on), so ``--resume`` and reruns skip it.
"""
import hashlib
import json
import os
import os.path as osp
import sys
import time
from typing import List, Optional, Sequence

from rethink_mmdet.datasets.validation import (
    TRAINING_SPLITS,
    DataProblem,
    DatasetError,
    annotated_datasets,
    check_config_datasets,
    dataset_paths,
    raise_first_error,
)

#: The verdict file in the work_dir.
VERDICT_FILE = 'data_check.json'
#: Bumped whenever the rules change, so older verdicts no longer count.
RULES_VERSION = 2


def _file_key(path: str) -> dict:
    try:
        stat = os.stat(path)
    except OSError:
        return dict(path=osp.abspath(path), missing=True)
    return dict(path=osp.abspath(path), size=stat.st_size,
                mtime_ns=stat.st_mtime_ns)


def data_fingerprint(cfg, splits: Sequence[str] = TRAINING_SPLITS) -> str:
    """What a verdict depends on: each annotation file (path, size, mtime),
    the dataset configs (classes, filters, pipeline) and the model's heads.
    """
    parts = [RULES_VERSION]
    for split in splits:
        loader = cfg.get(split) or {}
        for dataset in annotated_datasets(loader.get('dataset') or {}):
            ann_file, img_dir = dataset_paths(dataset)
            parts.append([split, _file_key(ann_file), osp.abspath(img_dir),
                          _plain(dataset)])
    parts.append(_plain(cfg.get('model', {})))
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(node):
    """A config node as plain JSON-able data."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(v) for v in node]
    return node if isinstance(node, (str, int, float, bool, type(None))) \
        else repr(node)


def _cached(work_dir: str, fingerprint: str) -> bool:
    try:
        with open(osp.join(work_dir, VERDICT_FILE)) as f:
            return json.load(f).get('passed') == fingerprint
    except (OSError, ValueError, AttributeError):
        return False


def _write_verdict(work_dir: str, fingerprint: str) -> None:
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, VERDICT_FILE)
    with open(path + '.tmp', 'w') as f:
        json.dump(dict(passed=fingerprint,
                       time=time.strftime('%Y-%m-%dT%H:%M:%S')), f)
    os.replace(path + '.tmp', path)


def _check_on_this_rank(cfg, splits) -> tuple:
    """``(error message or None, warnings)``, from the cache if it can."""
    work_dir = cfg.get('work_dir')
    fingerprint = data_fingerprint(cfg, splits)
    if work_dir and _cached(work_dir, fingerprint):
        print(f'data check: skipped, passed before for these files '
              f'({osp.join(work_dir, VERDICT_FILE)})', flush=True)
        return None, []
    started = time.perf_counter()
    try:
        warnings = raise_first_error(check_config_datasets(cfg, splits))
    except DatasetError as e:
        return str(e), []
    print(f'data check: passed in {time.perf_counter() - started:.1f} s, '
          f'{len(warnings)} warning(s)', flush=True)
    if work_dir:
        _write_verdict(work_dir, fingerprint)
    return None, warnings


def _init_process_group(cfg) -> None:
    """The process group the Runner would set up, set up now."""
    from mmengine.dist import init_dist, is_distributed

    from rethink_mmdet import compat
    if is_distributed():
        return
    compat.adapt_cfg_to_device(cfg)
    dist_cfg = dict((cfg.get('env_cfg') or {}).get('dist_cfg') or {})
    init_dist(cfg.launcher, **dist_cfg)


def check_data_once(cfg, splits: Sequence[str] = TRAINING_SPLITS
                    ) -> List[DataProblem]:
    """Checks the datasets on rank 0 (or takes a passed verdict from the
    work_dir); every rank raises :class:`DatasetError` on rank 0's first
    error. Returns the warnings (on rank 0; other ranks get none)."""
    if cfg.get('launcher', 'none') == 'none':
        error, warnings = _check_on_this_rank(cfg, splits)
    else:
        from mmengine.dist import broadcast_object_list, get_rank
        _init_process_group(cfg)
        verdict: List[Optional[str]] = [None]
        warnings = []
        if get_rank() == 0:
            try:
                verdict[0], warnings = _check_on_this_rank(cfg, splits)
            except Exception as e:  # the other ranks must not wait forever
                verdict[0] = f'data check failed: {type(e).__name__}: {e}'
        broadcast_object_list(verdict, src=0)
        error = verdict[0]
    if error is not None:
        raise DatasetError(error)
    for warning in warnings:
        print(f'warning: {warning}', file=sys.stderr)
    return warnings
