import math

import pytest
import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

from rethink_mmdet.models.init_policies import (
    LAST_LAYER_STD,
    ScratchInit,
    scratch_problems,
)
from rethink_mmdet.testing import TOY_CONFIG

NORMS = (nn.GroupNorm, nn.modules.batchnorm._BatchNorm)

register_all_modules()


def _assert_std(tensor, expected, what=''):
    # A sample std of n normal draws has a relative std of 1/sqrt(2n):
    # allow 4 of those.
    tolerance = 4 / math.sqrt(2 * tensor.numel())
    assert tensor.std().item() == pytest.approx(expected, rel=tolerance), what


def _toy_model():
    torch.manual_seed(0)
    cfg = Config.fromfile(TOY_CONFIG)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def test_conv_std_is_msra_fan_out():
    torch.manual_seed(0)
    conv = nn.Conv2d(64, 128, 3)
    ScratchInit()(nn.Sequential(conv))
    fan_out = 128 * 3 * 3
    assert conv.weight.std().item() == pytest.approx(
        math.sqrt(2 / fan_out), rel=0.03)
    assert conv.weight.mean().item() == pytest.approx(0, abs=2e-3)
    assert conv.bias.abs().max().item() == 0


def test_toy_model_init_statistics():
    model = _toy_model()
    convs = {name: m for name, m in model.named_modules()
             if isinstance(m, nn.Conv2d) and m.weight.numel() >= 4096
             and name.rsplit('.', 1)[-1] not in LAST_LAYER_STD}
    assert any(n.startswith('backbone') for n in convs)
    assert any(n.startswith('neck') for n in convs)
    assert any(n.startswith('rpn_head') for n in convs)
    assert any(n.startswith('roi_head.bbox_head') for n in convs)
    assert any(n.startswith('roi_head.mask_head') for n in convs)
    for name, conv in convs.items():
        fan_out = conv.out_channels * conv.kernel_size[0] * \
            conv.kernel_size[1]
        _assert_std(conv.weight, math.sqrt(2 / fan_out), name)
    for name, module in model.named_modules():
        if isinstance(module, nn.GroupNorm):
            assert module.weight.eq(1).all() and module.bias.eq(0).all(), name
    bbox_head = model.roi_head.bbox_head
    _assert_std(bbox_head.fc_cls.weight, 0.01)
    _assert_std(bbox_head.fc_reg.weight, 0.001)
    _assert_std(model.rpn_head.rpn_cls.weight, 0.01)
    _assert_std(model.rpn_head.rpn_reg.weight, 0.01)


def test_toy_model_norms_follow_the_recipe():
    model = _toy_model()
    assert all(p.requires_grad for p in model.parameters())
    for part in ('backbone', 'neck', 'roi_head.bbox_head',
                 'roi_head.mask_head'):
        module = model.get_submodule(part)
        norms = [m for m in module.modules() if isinstance(m, NORMS)]
        assert norms and all(isinstance(m, nn.GroupNorm) for m in norms), part
    assert not any(isinstance(m, NORMS) for m in model.rpn_head.modules())
    # Shortcut (downsample) and stem are normalized too.
    assert isinstance(model.backbone.layer2[0].downsample[1], nn.GroupNorm)
    assert isinstance(model.backbone.norm1, nn.GroupNorm)


def test_frozen_stage_is_refused():
    cfg = Config.fromfile(TOY_CONFIG)
    cfg.model.backbone.frozen_stages = 1
    model = MODELS.build(cfg.model)
    with pytest.raises(ValueError, match='frozen parameters'):
        model.init_weights()


def test_batchnorm_in_eval_mode_is_refused():
    # norm_eval acts in the backbone's train(), which the check runs (and
    # undoes): SyncBN kept in eval mode is refused, updated SyncBN is not.
    sync_bn = dict(type='AnySyncBN', requires_grad=True)
    backbone = MODELS.build(dict(type='ResNet', depth=18, base_channels=4,
                                 norm_cfg=sync_bn, norm_eval=True))
    backbone.eval()
    assert any('norm_eval=False' in p for p in scratch_problems(backbone))
    assert not backbone.training, 'the check changed the module\'s mode'
    with pytest.raises(ValueError, match='norm_eval'):
        ScratchInit()(backbone)
    backbone.norm_eval = False
    assert scratch_problems(backbone) == []


def test_imagenet_policy_loads_a_local_checkpoint(tmp_path, monkeypatch):
    # An "ImageNet" backbone checkpoint as a GPU node without internet
    # would keep it: $RETHINK_IMAGENET_DIR/NAME.pth.
    cfg = Config.fromfile(TOY_CONFIG)
    source = MODELS.build(cfg.model.backbone)
    torch.nn.init.normal_(source.conv1.weight)
    torch.save(dict(state_dict=source.state_dict()),
               tmp_path / 'toy_resnet.pth')
    monkeypatch.setenv('RETHINK_IMAGENET_DIR', str(tmp_path))

    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint='imagenet://toy_resnet')
    cfg.model.backbone.frozen_stages = 1
    model = MODELS.build(cfg.model)
    model.init_weights()
    for name, value in source.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[name], value), name
    # The rest keeps the scratch policy.
    fpn_conv = model.neck.fpn_convs[0].conv
    _assert_std(fpn_conv.weight, math.sqrt(2 / (fpn_conv.out_channels * 9)))


def test_imagenet_policy_errors_name_the_checkpoint(tmp_path, monkeypatch):
    from rethink_mmdet.models.init_policies import resolve_imagenet_checkpoint
    monkeypatch.delenv('RETHINK_IMAGENET_DIR', raising=False)
    assert resolve_imagenet_checkpoint('resnet50_gn') == (
        'https://download.openmmlab.com/pretrain/third_party/'
        'resnet50_gn-9186a21c.pth')
    with pytest.raises(KeyError, match='no public address'):
        resolve_imagenet_checkpoint('resnet7')
    monkeypatch.setenv('RETHINK_IMAGENET_DIR', str(tmp_path))
    with pytest.raises(FileNotFoundError, match='resnet50_gn.pth'):
        resolve_imagenet_checkpoint('resnet50_gn')
