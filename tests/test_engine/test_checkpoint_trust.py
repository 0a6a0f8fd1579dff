"""Checkpoints load as data (issue 19): weights files as tensors and plain
containers, training checkpoints also with mmengine's types, a file that
needs code only with the user's explicit opt-in."""
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.model.weight_init import PretrainedInit
from mmengine.runner.checkpoint import (
    _load_checkpoint,
    load_from_http,
    save_checkpoint,
)

from rethink_mmdet.engine.checkpointing import (
    TRUST_ENV,
    UntrustedCheckpointError,
    training_checkpoint_globals,
)
from rethink_mmdet.testing import write_code_running_checkpoint


@pytest.fixture
def malicious(tmp_path, monkeypatch):
    """A weights file whose unpickling creates ``marker``."""
    monkeypatch.delenv(TRUST_ENV, raising=False)
    marker, path = tmp_path / 'marker', tmp_path / 'weights.pth'
    write_code_running_checkpoint(
        str(path), str(marker), dict(state_dict=dict(weight=torch.ones(1, 2))))
    return path, marker


def _assert_refused(error, source, marker):
    message = str(error.value)
    assert '\n' not in message
    assert f'checkpoint {source} ' in message
    assert 'builtins.exec' in message  # what it tried to load
    assert '--trust-checkpoint' in message and TRUST_ENV in message
    assert not marker.exists()


def test_weights_file_that_runs_code_is_refused(malicious):
    path, marker = malicious
    # init_cfg=Pretrained, load_from and --resume all read through here.
    with pytest.raises(UntrustedCheckpointError) as error:
        _load_checkpoint(str(path), 'cpu')
    _assert_refused(error, path, marker)
    # Training checkpoints allow mmengine's types, never code.
    with training_checkpoint_globals(), \
            pytest.raises(UntrustedCheckpointError) as error:
        _load_checkpoint(str(path), 'cpu')
    _assert_refused(error, path, marker)


def test_pretrained_init_refuses_it(malicious):
    path, marker = malicious
    with pytest.raises(UntrustedCheckpointError) as error:
        PretrainedInit(checkpoint=str(path))(torch.nn.Linear(2, 1))
    _assert_refused(error, path, marker)


def test_imagenet_dir_file_is_refused(malicious, monkeypatch):
    import rethink_mmdet.models  # noqa: F401  (registers imagenet://)
    path, marker = malicious
    monkeypatch.setenv('RETHINK_IMAGENET_DIR', str(path.parent))
    with pytest.raises(UntrustedCheckpointError) as error:
        _load_checkpoint('imagenet://weights', 'cpu')
    _assert_refused(error, path, marker)


def test_downloaded_file_is_read_as_data(malicious, tmp_path):
    # torchvision:// and open-mmlab:// download through load_from_http
    # (torch.hub, whose own default runs the file's code); a file:// URL
    # stands in for the internet.
    path, marker = malicious
    url = path.as_uri()
    with pytest.raises(UntrustedCheckpointError) as error:
        load_from_http(url, map_location='cpu',
                       model_dir=str(tmp_path / 'hub'))
    _assert_refused(error, url, marker)


def test_opt_in_loads_it_and_runs_its_code(malicious, monkeypatch):
    path, marker = malicious
    monkeypatch.setenv(TRUST_ENV, '1')
    checkpoint = _load_checkpoint(str(path), 'cpu')
    assert torch.equal(checkpoint['state_dict']['weight'], torch.ones(1, 2))
    assert marker.exists()


def test_training_checkpoint_needs_the_training_types(tmp_path):
    hub = MessageHub.get_instance('trust_test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', 2.5)
    path = str(tmp_path / 'iter_2.pth')
    save_checkpoint(dict(meta=dict(iter=2), state_dict={},
                         message_hub=hub.state_dict()), path)
    with pytest.raises(UntrustedCheckpointError,
                       match='mmengine.logging.history_buffer.HistoryBuffer'):
        _load_checkpoint(path, 'cpu')
    with training_checkpoint_globals():
        checkpoint = _load_checkpoint(path, 'cpu')
    buffer = checkpoint['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == 2.0 and buffer.current() == 2.5


class _Getattr:
    """Pickles as ``getattr(owner, name)``."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


def test_getattr_reaches_history_buffer_statistics_only(tmp_path):
    # The stand-in for builtins.getattr: a free getattr would reach any
    # module's globals (HistoryBuffer.min.__globals__) from an allowed class.
    path = str(tmp_path / 'getattr.pth')
    torch.save(dict(method=_Getattr(HistoryBuffer, '__init__')), path)
    with training_checkpoint_globals(), pytest.raises(
            UntrustedCheckpointError, match='not a HistoryBuffer statistic'):
        _load_checkpoint(path, 'cpu')
    torch.save(dict(method=_Getattr(HistoryBuffer, 'mean')), path)
    with training_checkpoint_globals():
        assert _load_checkpoint(path, 'cpu')['method'] is HistoryBuffer.mean
