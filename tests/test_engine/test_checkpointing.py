import os
import signal
import subprocess
import sys

import pytest
import torch
from mmengine.fileio import get_file_backend

from rethink_mmdet.engine import checkpointing
from rethink_mmdet.engine.checkpointing import (
    AtomicLocalBackend,
    CheckpointError,
    checkpoint_problem,
    choose_resume_checkpoint,
    read_checkpoint,
    remove_stale_temporaries,
    write_atomically,
)


def _save(path, value):
    torch.save({'meta': {'iter': value}, 'state_dict': {
        'w': torch.full((64, 64), float(value))}}, path)
    return str(path)


def _truncate(path):
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)


def test_mmengine_writes_local_files_through_the_atomic_backend(tmp_path):
    backend = get_file_backend(str(tmp_path / 'iter_1.pth'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put_text('x', str(tmp_path / 'sub' / 'last_checkpoint'))
    assert (tmp_path / 'sub' / 'last_checkpoint').read_text() == 'x'
    assert os.listdir(tmp_path / 'sub') == ['last_checkpoint']


@pytest.mark.parametrize('killed_in', ['write', 'replace'])
def test_a_write_killed_midway_leaves_the_old_file_whole(tmp_path,
                                                         killed_in):
    target = tmp_path / 'last_checkpoint'
    target.write_text('old')
    # The process dies inside the write (after part of the bytes) or just
    # before the rename; SIGKILL runs no cleanup.
    script = f'''
import os, signal
import rethink_mmdet.engine.checkpointing as c
if {killed_in!r} == 'replace':
    c.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
else:
    c.os.fsync = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
c.write_atomically(b'new' * 100000, {str(target)!r})
'''
    result = subprocess.run([sys.executable, '-c', script])
    assert result.returncode == -signal.SIGKILL
    assert target.read_text() == 'old'
    leftovers = list(tmp_path.glob('.tmp-last_checkpoint.*'))
    assert len(leftovers) == 1
    assert remove_stale_temporaries(str(tmp_path)) == [str(leftovers[0])]
    assert not list(tmp_path.glob('.tmp-*'))


def test_write_atomically_replaces_the_content(tmp_path):
    write_atomically(b'abc', str(tmp_path / 'f'))
    write_atomically('def', str(tmp_path / 'f'))
    assert (tmp_path / 'f').read_text() == 'def'


def test_a_truncated_checkpoint_is_named_in_the_error(tmp_path):
    path = _save(tmp_path / 'iter_2.pth', 2)
    assert checkpoint_problem(path) is None
    assert read_checkpoint(path)['meta']['iter'] == 2
    _truncate(path)
    assert checkpoint_problem(path) is not None
    with pytest.raises(CheckpointError, match='iter_2.pth cannot be read'):
        read_checkpoint(path)
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        read_checkpoint(str(tmp_path / 'nope.pth'))


def test_a_corrupted_byte_is_found(tmp_path):
    path = _save(tmp_path / 'iter_1.pth', 1)
    with open(path, 'r+b') as f:
        f.seek(os.path.getsize(path) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert 'damaged entry' in checkpoint_problem(path)


def test_auto_resume_takes_the_newest_readable_checkpoint(tmp_path,
                                                          monkeypatch):
    warnings = []
    monkeypatch.setattr(checkpointing, 'print_log',
                        lambda message, **kwargs: warnings.append(message))
    for it in (2, 4, 6):
        _save(tmp_path / f'iter_{it}.pth', it)
    # The pointer lags when the job died between saving and pointing.
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    assert choose_resume_checkpoint(str(tmp_path)) == str(
        tmp_path / 'iter_6.pth')
    _truncate(tmp_path / 'iter_6.pth')
    assert choose_resume_checkpoint(str(tmp_path)) == str(
        tmp_path / 'iter_4.pth')
    [warning] = warnings
    assert warning.startswith('resume: skipped unreadable checkpoint(s) '
                              f'{tmp_path / "iter_6.pth"} (')
    assert warning.endswith(f'resuming from {tmp_path / "iter_4.pth"}')
    _truncate(tmp_path / 'iter_4.pth')
    _truncate(tmp_path / 'iter_2.pth')
    with pytest.raises(CheckpointError, match='no readable checkpoint'):
        choose_resume_checkpoint(str(tmp_path))


def test_auto_resume_in_an_empty_work_dir_starts_fresh(tmp_path):
    assert choose_resume_checkpoint(str(tmp_path)) is None
