"""``MixedPrecisionOptimWrapper``: bfloat16 without a GradScaler, and
``tools/train.py --amp`` uses it."""
import pytest
import torch
from mmengine.device import utils as device_utils
from mmengine.optim import build_optim_wrapper
from mmengine.optim.optimizer import amp_optimizer_wrapper

import rethink_mmdet  # noqa: F401  (registers the wrapper)
from rethink_mmdet.cli import train as train_cli
from rethink_mmdet.engine import MixedPrecisionOptimWrapper
from rethink_mmdet.testing import TOY_CONFIG


def _pretend(monkeypatch, device):
    """The device mmengine reports (``get_device()``, fixed when it is
    imported) and whether its AMP wrapper sees CUDA: all the wrappers ask,
    so each branch runs on every machine."""
    monkeypatch.setattr(device_utils, 'DEVICE', device)
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available',
                        lambda: device == 'cuda')


def _wrapper(dtype, **kwargs):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3),
                                torch.nn.Flatten(), torch.nn.Linear(144, 2))
    return model, build_optim_wrapper(model, dict(
        type='MixedPrecisionOptimWrapper', dtype=dtype,
        optimizer=dict(type='SGD', lr=0.1), **kwargs))


@pytest.mark.parametrize('dtype', ['bfloat16', torch.bfloat16])
def test_bfloat16_uses_no_grad_scaler(monkeypatch, dtype):
    # The bfloat16 path has no device branch; the CPU's autocast runs it
    # everywhere.
    _pretend(monkeypatch, 'cpu')

    def no_scaler(*args, **kwargs):
        raise AssertionError('a GradScaler was created')

    monkeypatch.setattr(amp_optimizer_wrapper, 'GradScaler', no_scaler)
    model, wrapper = _wrapper(dtype, clip_grad=dict(max_norm=1e6))
    assert isinstance(wrapper, MixedPrecisionOptimWrapper)
    assert wrapper.loss_scaler is None
    x = torch.randn(2, 3, 8, 8, device='cpu')
    with wrapper.optim_context(model):
        assert torch.is_autocast_enabled('cpu')
        assert torch.get_autocast_dtype('cpu') == torch.bfloat16
        loss = model(x).float().pow(2).mean()
    before = [p.detach().clone() for p in model.parameters()]
    loss.backward(retain_graph=True)
    # The gradients are the loss's own, unscaled (a GradScaler would have
    # multiplied them by 65536 before unscaling in step).
    grads = [p.grad.clone() for p in model.parameters()]
    wrapper.zero_grad()
    wrapper.update_params(loss)
    for p, b, g in zip(model.parameters(), before, grads):
        torch.testing.assert_close(p.detach(), b - 0.1 * g)
    assert 'loss_scaler' not in wrapper.state_dict()
    # A checkpoint of a float16 run resumes in bfloat16: its scale is moot.
    state = wrapper.state_dict()
    state['loss_scaler'] = {'scale': 1024.}
    wrapper.load_state_dict(state)


def test_float16_on_a_cpu_says_to_use_bfloat16(monkeypatch):
    _pretend(monkeypatch, 'cpu')
    with pytest.raises(AssertionError):  # why: mmengine's wrapper refuses
        _wrapper_of('AmpOptimWrapper', 'bfloat16')
    for dtype in (None, 'float16'):
        with pytest.raises(ValueError, match='dtype=bfloat16'):
            _wrapper(dtype)


@pytest.mark.parametrize('dtype', [None, 'float16'])
def test_float16_on_a_gpu_is_mmengines_wrapper_with_its_scaler(
        monkeypatch, dtype):
    _pretend(monkeypatch, 'cuda')
    scalers = []

    class Scaler:
        def __init__(self, *args, **kwargs):
            scalers.append(self)

    monkeypatch.setattr(amp_optimizer_wrapper, 'GradScaler', Scaler)
    wrapper = _wrapper(dtype)[1]
    assert scalers == [wrapper.loss_scaler]
    assert wrapper.cast_dtype == (dtype and torch.float16)


def _wrapper_of(kind, dtype):
    model = torch.nn.Linear(2, 2)
    return build_optim_wrapper(model, dict(
        type=kind, dtype=dtype, optimizer=dict(type='SGD', lr=0.1)))


def test_unknown_dtype_is_one_line():
    with pytest.raises(ValueError, match="got 'fp8'"):
        _wrapper('fp8')


def test_train_amp_flag_uses_it_and_keeps_the_dtype():
    args = train_cli.parse_args([TOY_CONFIG, '--amp', '--cfg-options',
                                 'optim_wrapper.dtype=bfloat16'])
    cfg = train_cli.configure(args)
    assert cfg.optim_wrapper.type == 'MixedPrecisionOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
