"""``AutocastGN``: GroupNorm in the autocast dtype, fp32 GN's numbers.

Tolerance: the largest difference from float32 GroupNorm (computed on the
same low-precision input, as CUDA autocast's float32 policy does) is at
most 2 x the dtype's machine epsilon (bfloat16 2^-6, float16 2^-9) times
the largest reference value: the output is rounded to the low dtype once,
and the statistics stay float32 inside the kernel. Measured here: 0.43% /
0.69% / 0.40% (bf16 output / input grad / weight grad), 0.05-0.09% in
fp16. On the CPU, torch's autocast takes float16 too, so both dtypes run
through the module's own autocast path.
"""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer

import rethink_mmdet  # noqa: F401  (registers AutocastGN)
from rethink_mmdet.models.layers import AutocastGroupNorm
from rethink_mmdet.models.layers import autocast_group_norm as module


def _layers(channels=64, groups=8, seed=0):
    torch.manual_seed(seed)
    layer = AutocastGroupNorm(channels, groups)
    with torch.no_grad():
        layer.weight.normal_(1, 0.2)
        layer.bias.normal_(0, 0.2)
    ref = nn.GroupNorm(groups, channels)
    ref.load_state_dict(layer.state_dict())
    return layer, ref


def _rel(got, ref):
    return ((got.float() - ref).abs().max() / ref.abs().max()).item()


def test_outside_autocast_it_is_group_norm_exactly():
    layer, ref = _layers()
    x = torch.randn(2, 64, 8, 8, requires_grad=True)
    xr = x.detach().clone().requires_grad_()
    y, yr = layer(x), ref(xr)
    assert torch.equal(y, yr)
    g = torch.randn_like(y)
    y.backward(g)
    yr.backward(g)
    assert torch.equal(x.grad, xr.grad)
    assert torch.equal(layer.weight.grad, ref.weight.grad)
    assert torch.equal(layer.bias.grad, ref.bias.grad)


def test_checkpoints_load_both_ways_and_mmcv_names_it_gn():
    name, layer = build_norm_layer(
        dict(type='AutocastGN', num_groups=4, requires_grad=True), 16,
        postfix=1)
    assert name == 'gn1' and isinstance(layer, nn.GroupNorm)
    assert (layer.num_groups, layer.num_channels) == (4, 16)
    ref = nn.GroupNorm(4, 16)
    layer.load_state_dict(ref.state_dict())  # strict: same keys
    ref.load_state_dict(layer.state_dict())


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
@pytest.mark.parametrize('offset', [0., 5.])
def test_autocast_matches_fp32_group_norm(dtype, offset):
    # offset 5: a mean far from 0, where statistics kept in the low dtype
    # would lose the variance.
    layer, ref = _layers()
    x = (torch.randn(2, 64, 16, 16) * 2 + offset).to(dtype)
    x_low = x.clone().requires_grad_()
    with torch.autocast('cpu', dtype=dtype):
        y = layer(x_low)
    assert y.dtype == dtype  # no cast up, and none back down after it
    grad = torch.randn(y.shape).to(dtype)
    y.backward(grad)
    x_ref = x.float().requires_grad_()
    y_ref = ref(x_ref)
    y_ref.backward(grad.float())
    tol = 2 * torch.finfo(dtype).eps
    assert _rel(y, y_ref) <= tol
    assert x_low.grad.dtype == dtype and _rel(x_low.grad, x_ref.grad) <= tol
    # The float32 parameters get float32 gradients (the cast's backward).
    assert layer.weight.grad.dtype == torch.float32
    assert _rel(layer.weight.grad, ref.weight.grad) <= tol
    assert _rel(layer.bias.grad, ref.bias.grad) <= tol


@pytest.mark.parametrize('autocast', [False, True])
def test_channels_last_stays_channels_last(monkeypatch, autocast):
    layer, _ = _layers()
    x = torch.randn(2, 64, 8, 8).to(memory_format=torch.channels_last)
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
        expected = layer(x)
    # CUDA's kernel returns a contiguous tensor (the CPU's keeps the
    # layout): stand in for it here.
    group_norm = F.group_norm
    monkeypatch.setattr(module.F, 'group_norm',
                        lambda *a, **k: group_norm(*a, **k).contiguous())
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
        y = layer(x)
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert not y.is_contiguous()
    assert torch.equal(y, expected)


def test_a_backbone_with_it_passes_the_scratch_check_without_decay():
    # The scratch check and mmengine's norm_decay_mult find norms by
    # isinstance(nn.GroupNorm): a subclass is one.
    from mmdet.registry import MODELS
    from mmengine.optim import build_optim_wrapper

    from rethink_mmdet.models.scratch_check import inspect_part
    backbone = MODELS.build(dict(
        type='mmdet.ResNet', depth=18, base_channels=8, frozen_stages=-1,
        norm_eval=False,
        norm_cfg=dict(type='AutocastGN', num_groups=2, requires_grad=True)))
    report = inspect_part(backbone, 'backbone')
    assert report.norm_counts == {'AutocastGroupNorm': 20}
    assert report.problems() == []
    wrapper = build_optim_wrapper(backbone, dict(
        optimizer=dict(type='SGD', lr=0.02, weight_decay=1e-4),
        paramwise_cfg=dict(norm_decay_mult=0.)))
    decay = {id(p): g['weight_decay']
             for g in wrapper.optimizer.param_groups for p in g['params']}
    assert decay[id(backbone.gn1.weight)] == 0
    assert decay[id(backbone.conv1.weight)] == 1e-4


def test_gn_and_autocast_gn_are_group_norms_by_name():
    from rethink_mmdet.models.layers import is_group_norm
    assert is_group_norm('GN') and is_group_norm('AutocastGN')
    assert is_group_norm(AutocastGroupNorm)
    assert not any(is_group_norm(t) for t in ('BN', 'SyncBN', 'AnySyncBN',
                                               'LN', 'NoSuchNorm'))
