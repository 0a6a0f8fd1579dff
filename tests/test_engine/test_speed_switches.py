"""The speed switches (``speed`` in the default runtime): off by default,
and each one working when on, on the toy detector."""
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules

import rethink_mmdet  # noqa: F401
from rethink_mmdet.engine import SpeedSwitchesHook
from rethink_mmdet.engine.hooks.speed_switches import SPEED_DEFAULTS
from rethink_mmdet.models import FixedShapePad
from rethink_mmdet.runner import load_config
from rethink_mmdet.testing import TOY_CONFIG

register_all_modules()


class _Runner:
    def __init__(self, cfg, model):
        self.cfg, self.model = cfg, model


@pytest.fixture
def toy():
    cfg = load_config(TOY_CONFIG)
    torch.manual_seed(0)
    return cfg, MODELS.build(cfg.model)


@pytest.fixture
def cudnn_benchmark():
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = False
    yield
    torch.backends.cudnn.benchmark = before


def _state(model):
    conv = model.backbone.conv1.weight
    return dict(
        augments=model.data_preprocessor.batch_augments,
        channels_last=conv.is_contiguous(memory_format=torch.channels_last)
        and not conv.is_contiguous(),
        compiled=model.backbone._compiled_call_impl is not None,
        cudnn_benchmark=torch.backends.cudnn.benchmark)


def test_every_switch_is_off_by_default(toy, cudnn_benchmark):
    cfg, model = toy
    assert cfg.speed == SPEED_DEFAULTS
    assert not SPEED_DEFAULTS['fixed_shapes']
    assert not SPEED_DEFAULTS['channels_last']
    assert not SPEED_DEFAULTS['compile']['enabled']
    assert dict(type='SpeedSwitchesHook') in cfg.custom_hooks
    SpeedSwitchesHook().before_train(_Runner(cfg, model))
    assert _state(model) == dict(augments=None, channels_last=False,
                                 compiled=False, cudnn_benchmark=False)


def test_switches_on_pad_convert_and_compile(toy, cudnn_benchmark):
    cfg, model = toy
    cfg.merge_from_dict({
        'speed.fixed_shapes': [(96, 128), (128, 96)],
        'speed.channels_last': True,
        # The eager backend: the wiring, without minutes of C++ builds.
        'speed.compile.enabled': True,
        'speed.compile.backend': 'eager'})
    SpeedSwitchesHook().before_train(_Runner(cfg, model))
    state = _state(model)
    assert isinstance(state.pop('augments')[-1], FixedShapePad)
    assert state == dict(channels_last=True, compiled=True,
                         cudnn_benchmark=True)
    assert model.neck._compiled_call_impl is not None
    # A training forward: 80x112 and 100x60 images pad to 96x128.
    data = demo_mm_inputs(2, [(3, 80, 112), (3, 60, 100)], num_classes=6,
                          with_mask=True)
    data = model.data_preprocessor(data, True)
    assert data['inputs'].shape[-2:] == (96, 128)
    assert data['data_samples'][0].batch_input_shape == (96, 128)
    loss, _ = model.parse_losses(model(**data, mode='loss'))
    assert torch.isfinite(loss)


def test_unknown_switch_is_refused(toy):
    cfg, model = toy
    cfg.speed['channel_last'] = True
    with pytest.raises(ValueError, match="unknown switch.*channel_last"):
        SpeedSwitchesHook().before_train(_Runner(cfg, model))


def test_fixed_shape_pad_picks_the_smallest_shape_that_holds_the_batch():
    pad = FixedShapePad([(1344, 800), (800, 1344)])
    inputs, _ = pad(torch.zeros(2, 3, 768, 1216))
    assert inputs.shape[-2:] == (800, 1344)
    inputs, _ = pad(torch.zeros(2, 3, 1344, 736))
    assert inputs.shape[-2:] == (1344, 800)
    with pytest.raises(ValueError, match='larger than every fixed shape'):
        pad(torch.zeros(1, 3, 1344, 1344))
    with pytest.raises(ValueError, match=r'\(h, w\) pairs'):
        FixedShapePad([(800,)])
