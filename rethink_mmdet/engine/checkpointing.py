"""Checkpoints that survive a kill: atomic writes, clear errors on damaged
files, and an auto-resume that falls back to the last readable checkpoint.

mmengine writes ``iter_N.pth`` and then the ``last_checkpoint`` pointer in
place (``open(path, 'wb')``). A job killed during either write leaves a
partial file behind; a truncated ``last_checkpoint`` makes ``--resume``
find nothing and silently train from iteration 0. Here every local write
goes to a temporary file in the same folder that is renamed over the
target once complete, so a reader sees the old file or the new one, never
half of one.
"""
import glob
import logging
import os
import os.path as osp
import pickle
import re
import tempfile
import zipfile
from typing import List, Optional, Union

import torch
from mmengine.fileio.backends import LocalBackend
from mmengine.logging import print_log

# Temporary files are hidden, so mmengine's checkpoint globs skip them.
_TMP_PREFIX = '.tmp-'
_CHECKPOINT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


class CheckpointError(Exception):
    """A checkpoint file that cannot be read (missing, truncated, corrupt)."""


class MissingCheckpointError(CheckpointError, FileNotFoundError):
    """A checkpoint path where there is no file."""


def write_atomically(data: Union[bytes, str], path: str) -> None:
    """Writes ``data`` to ``path`` so that ``path`` is never partial.

    The bytes go to a temporary file beside ``path``, are flushed to disk,
    and the file is renamed over ``path`` (atomic on POSIX file systems).
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('utf-8')
    fd, tmp_path = tempfile.mkstemp(
        prefix=_TMP_PREFIX + osp.basename(path) + '.', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic ``put`` and ``put_text``
    (checkpoints, ``last_checkpoint``, dumped configs); registered as the
    ``local`` backend by :mod:`rethink_mmdet.compat`."""

    def put(self, obj: bytes, filepath) -> None:
        write_atomically(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        write_atomically(obj.encode(encoding), str(filepath))


def read_checkpoint(path: str, map_location=None) -> dict:
    """Loads a local checkpoint written by mmengine (a trusted pickle).

    Raises:
        CheckpointError: the file is missing, truncated or corrupt; the
            message names the file.
    """
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise MissingCheckpointError(f'checkpoint {path} does not exist')
    try:
        # mmengine pickles the message hub, numpy scalars and the config,
        # which torch >= 2.6's default weights_only=True refuses.
        return torch.load(path, map_location=map_location,
                          weights_only=False)
    except (RuntimeError, EOFError, pickle.UnpicklingError, ValueError,
            zipfile.BadZipFile, OSError) as e:
        raise CheckpointError(
            f'checkpoint {path} cannot be read ({osp.getsize(path)} bytes; '
            f'truncated or corrupt? {type(e).__name__}: {e})') from e


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` is not a complete checkpoint, or None if it is.

    torch saves a zip archive with a CRC per entry: checking the archive
    reads the file once without unpickling tensors into memory.
    """
    if not osp.isfile(path):
        return 'file does not exist'
    if not zipfile.is_zipfile(path):
        try:
            read_checkpoint(path, map_location='cpu')  # legacy format
        except CheckpointError as e:
            return str(e)
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return f'{type(e).__name__}: {e}'
    return None if damaged is None else f'damaged entry {damaged}'


def resume_candidates(work_dir: str) -> List[str]:
    """Checkpoints of ``work_dir``, newest first: ``iter_N.pth`` or
    ``epoch_N.pth`` by N, after the file ``last_checkpoint`` names if that
    has another name.

    A job killed between saving ``iter_N.pth`` and updating
    ``last_checkpoint`` leaves the pointer one checkpoint behind; the
    complete newer file is still the one to continue from.
    """
    numbered = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = _CHECKPOINT_NAME.match(osp.basename(path))
        if match:
            numbered.append((int(match.group(1)), path))
    ordered = [path for _, path in sorted(numbered, reverse=True)]
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named and not _CHECKPOINT_NAME.match(osp.basename(named)):
            ordered.insert(0, named)
    return ordered


def remove_stale_temporaries(work_dir: str) -> List[str]:
    """Deletes temporary files left by a write that was killed."""
    stale = glob.glob(osp.join(work_dir, _TMP_PREFIX + '*'))
    for path in stale:
        os.remove(path)
    return stale


def choose_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint an automatic ``--resume`` continues from.

    The latest readable one: a damaged latest checkpoint is skipped with a
    warning naming it. None when ``work_dir`` has no checkpoint at all.

    Raises:
        CheckpointError: checkpoints exist but none can be read, so that a
            resumed job never silently restarts from iteration 0.
    """
    remove_stale_temporaries(work_dir)
    candidates = resume_candidates(work_dir)
    skipped = []
    for path in candidates:
        problem = checkpoint_problem(path)
        if problem is None:
            if skipped:
                print_log('resume: skipped unreadable checkpoint(s) '
                          + '; '.join(skipped) + f'; resuming from {path}',
                          logger='current', level=logging.WARNING)
            return path
        skipped.append(f'{path} ({problem})')
    if skipped:
        raise CheckpointError(
            f'no readable checkpoint in {work_dir} to resume from: '
            + '; '.join(skipped))
    return None
