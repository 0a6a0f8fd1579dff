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
import functools
import glob
import hashlib
import logging
import os
import os.path as osp
import pickle
import re
import tempfile
import zipfile
from typing import Callable, List, Optional, Sequence, Union

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


#: Set to 1 to load every checkpoint with full unpickling (``tools/train.py``
#: and ``tools/test.py``: ``--trust-checkpoint``). That runs code from the
#: file: only for files from a source you trust.
TRUST_ENV = 'RETHINK_TRUST_CHECKPOINTS'


class UntrustedCheckpointError(CheckpointError):
    """A checkpoint that needs code to load, refused before any of it ran."""


def checkpoints_trusted() -> bool:
    """Whether the user opted in to full unpickling (:data:`TRUST_ENV`)."""
    return os.environ.get(TRUST_ENV, '').strip() not in ('', '0')


def _refused_names(error: Exception, path: Optional[str]) -> str:
    """What a refused file tried to load, in one line."""
    if path is not None and zipfile.is_zipfile(path):
        try:  # lists every refused global, reading the pickle statically
            names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        except (ValueError, RuntimeError, OSError):
            names = []
        if names:
            return ', '.join(sorted(names))
    text = str(error)
    named = re.search(r'GLOBAL (\S+) was not an allowed global', text)
    if named:
        return named.group(1)
    reason = text.split('WeightsUnpickler error:')[-1].strip()
    return ' '.join(reason.split('\n\n')[0].split())


def load_as_data(load: Callable[..., object], source: str,
                 path: Optional[str] = None):
    """Calls ``load(weights_only=...)`` (``torch.load`` or torch.hub's
    loader): torch's weights-only unpickler, which builds tensors, plain
    containers and the types allowed at the time, and nothing else.

    Args:
        load: The loader, taking ``weights_only``.
        source: The name the user gave (path, URL), for the message.
        path: The local file, to list everything it would load.

    Raises:
        UntrustedCheckpointError: the file needs more (a pickled object
            or function); nothing from it was built. The message names the
            file, what it tried to load and the opt-in.
    """
    if checkpoints_trusted():
        # The user's explicit opt-in: this runs code from the file.
        return load(weights_only=False)
    try:
        return load(weights_only=True)
    except pickle.UnpicklingError as e:
        raise UntrustedCheckpointError(
            f'checkpoint {source} is not plain data (weights-only loading '
            f'refused {_refused_names(e, path)}; nothing from the file was '
            'run): if you trust the file, pass --trust-checkpoint or set '
            f'{TRUST_ENV}=1, which runs code from the file') from None


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
    """Loads a local checkpoint as data (:func:`load_as_data`).

    Raises:
        CheckpointError: the file is missing, truncated or corrupt, or
            needs code to load; the message names the file.
    """
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise MissingCheckpointError(f'checkpoint {path} does not exist')
    try:
        return load_as_data(
            functools.partial(torch.load, path, map_location=map_location),
            path, path)
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
        except UntrustedCheckpointError:
            # Whole, but not plain weights: the Runner, which also reads
            # mmengine's types, decides whether it may load.
            return None
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


#: The statistics mmengine's HistoryBuffer pickles with each buffer.
_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_statistic(owner, name: str):
    """The one ``getattr`` a training checkpoint needs, and no other.

    A ``HistoryBuffer`` pickles its statistics methods, which pickle writes
    as ``getattr(HistoryBuffer, 'min')``. A free ``getattr`` would reach any
    module's globals from an allowed class (code execution), so this stands
    in for ``builtins.getattr`` and resolves those four methods only.
    """
    from mmengine.logging import HistoryBuffer
    if owner is HistoryBuffer and name in _HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'getattr({getattr(owner, "__name__", type(owner).__name__)}, '
        f'{name!r}), not a HistoryBuffer statistic')


def training_checkpoint_types() -> list:
    """What mmengine 0.10.x and this package pickle into a training
    checkpoint besides tensors and plain containers, all data:

    * the message hub's ``HistoryBuffer`` objects (with their statistics
      methods, see :func:`history_buffer_statistic`);
    * numpy arrays, scalars and their dtypes: the buffers' histories,
      values logged as numpy scalars (``eta``, metrics), and numpy's random
      state saved by ``ExactResumeHook`` (torch's and Python's random
      states are a tensor and a tuple of ints);
    * the numpy 1.x names of the same functions, for checkpoints written
      on a machine with numpy 1.x.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer
    from numpy._core.multiarray import _reconstruct, scalar
    dtypes = [type(np.dtype(name)) for name in (
        'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16',
        'uint32', 'uint64', 'float16', 'float32', 'float64')]
    return [HistoryBuffer, (history_buffer_statistic, 'builtins.getattr'),
            np.ndarray, np.dtype, _reconstruct, scalar, *dtypes,
            (_reconstruct, 'numpy.core.multiarray._reconstruct'),
            (scalar, 'numpy.core.multiarray.scalar')]


def training_checkpoint_globals():
    """Context in which ``torch.load(..., weights_only=True)`` also reads
    :func:`training_checkpoint_types` (the allowlist, in one place)."""
    return torch.serialization.safe_globals(training_checkpoint_types())


def read_run_checkpoint(path: str) -> dict:
    """A checkpoint our training runs wrote, read as ``--resume`` reads it
    (weights only, with mmengine's training-state types)."""
    with training_checkpoint_globals():
        return torch.load(path, map_location='cpu', weights_only=True)


def plain_data(value):
    """``value`` built of what ``torch.load(weights_only=True)`` reads with
    no allowlist: numpy scalars and arrays become Python numbers and lists,
    any other object its ``repr`` (a checkpoint's ``meta`` is a record, not
    code to revive)."""
    if isinstance(value, dict):
        return {plain_data(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [plain_data(v) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, torch.Tensor):
        return value
    if hasattr(value, 'tolist'):
        # numpy arrays and scalars (np.float64 is also a Python float).
        return value.tolist()
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    return repr(value)


def publish_checkpoint(source: str, out_dir: str, name: str,
                       keys: Sequence[str] = ('meta', 'state_dict')) -> str:
    """A training checkpoint as MMDetection's
    ``tools/model_converters/publish_model.py`` publishes it: only
    ``keys`` kept (the optimizer and the rest of the training state
    dropped), saved, and named ``NAME-<first 8 hex of its sha256>.pth``.

    The file is written beside its final name and renamed once hashed, so
    no partial file ever carries the name. ``meta`` is made plain data
    (:func:`plain_data`): the file loads with
    ``torch.load(weights_only=True)``. torch's zip format is kept (the
    script's legacy format served torch < 1.6); its CRCs let
    :func:`checkpoint_problem` check the file.

    Returns:
        The published file's path.

    Raises:
        CheckpointError: ``source`` cannot be read or has no
            ``state_dict``.
    """
    if not osp.isfile(source):
        raise MissingCheckpointError(f'checkpoint {source} does not exist')
    try:
        checkpoint = read_run_checkpoint(source)
    except (RuntimeError, EOFError, pickle.UnpicklingError, ValueError,
            zipfile.BadZipFile, OSError) as e:
        raise CheckpointError(
            f'checkpoint {source} cannot be published: {type(e).__name__}: '
            f'{str(e).splitlines()[0] if str(e) else ""}') from e
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        raise CheckpointError(f'checkpoint {source} has no state_dict')
    published = {k: checkpoint[k] for k in keys if k in checkpoint}
    if 'meta' in published:
        published['meta'] = plain_data(published['meta'])
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=f'{_TMP_PREFIX}{name}.',
                                    dir=out_dir)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(published, f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp's file is the owner's only; a published model is shared.
        os.chmod(tmp_path, 0o644)
        final = osp.join(out_dir, f'{name}-{file_sha256(tmp_path)[:8]}.pth')
        os.replace(tmp_path, final)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise
    return final


def file_sha256(path: str) -> str:
    """The hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()
