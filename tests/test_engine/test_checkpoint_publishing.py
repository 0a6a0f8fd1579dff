"""publish_checkpoint: MMDetection's publish_model.py, as plain data."""
import hashlib
import os

import numpy as np
import pytest
import torch

from rethink_mmdet.engine.checkpointing import (
    CheckpointError,
    plain_data,
    publish_checkpoint,
)


def test_meta_becomes_plain_data_and_the_training_state_is_dropped(
        tmp_path):
    source = tmp_path / 'iter_8.pth'
    torch.save(dict(
        meta=dict(seed=np.int64(3), best=np.float64(0.25),
                  shape=np.array([[1, 2], [3, 4]], dtype=np.int32),
                  classes=('a', 'b'), nested=[dict(x=np.bool_(True))]),
        state_dict=dict(conv=torch.ones(2, 3)),
        optimizer=dict(state={0: dict(momentum_buffer=torch.zeros(2))}),
        message_hub=dict(runtime_info=dict(iter=8))), source)
    path = publish_checkpoint(str(source), str(tmp_path / 'out'), 'row')
    digest = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    assert os.path.basename(path) == f'row-{digest[:8]}.pth'
    # Nothing else in the folder: no temporary file is left behind.
    assert os.listdir(tmp_path / 'out') == [os.path.basename(path)]
    assert os.stat(path).st_mode & 0o777 == 0o644  # readable by others
    published = torch.load(path, weights_only=True)
    assert set(published) == {'meta', 'state_dict'}
    assert published['meta'] == dict(seed=3, best=0.25,
                                     shape=[[1, 2], [3, 4]],
                                     classes=('a', 'b'),
                                     nested=[dict(x=True)])
    assert [type(published['meta'][k]) for k in ('seed', 'best')] == [
        int, float]
    assert torch.equal(published['state_dict']['conv'], torch.ones(2, 3))


def test_other_objects_in_meta_become_their_repr():
    class Thing:
        def __repr__(self):
            return 'Thing()'
    assert plain_data({'a': Thing(), 1: (None, b'x')}) == {
        'a': 'Thing()', 1: (None, b'x')}


def test_unpublishable_sources_are_one_line_and_write_nothing(tmp_path):
    out = tmp_path / 'out'
    with pytest.raises(CheckpointError, match='does not exist'):
        publish_checkpoint(str(tmp_path / 'missing.pth'), str(out), 'row')
    truncated = tmp_path / 'truncated.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(100))), truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(CheckpointError, match='cannot be published') as e:
        publish_checkpoint(str(truncated), str(out), 'row')
    assert '\n' not in str(e.value)
    no_weights = tmp_path / 'no_weights.pth'
    torch.save(dict(meta={}), no_weights)
    with pytest.raises(CheckpointError, match='has no state_dict'):
        publish_checkpoint(str(no_weights), str(out), 'row')
    assert not out.exists() or os.listdir(out) == []
