"""The scratch policy and the GN/SyncBN conversion on every MMDetection
backbone that takes a ``norm_cfg``, at tiny sizes (64 px inputs, 2 GN
groups, base widths of 4-8 channels), and what the shared check says where
a module hard-codes BatchNorm or ignores its norm_cfg."""
import math

import pytest
import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from torch.nn.modules.batchnorm import _BatchNorm

from rethink_mmdet.models import AnySyncBatchNorm
from rethink_mmdet.models.scratch_check import inspect_part

register_all_modules()

GN = dict(type='GN', num_groups=2, requires_grad=True)
SYNC_BN = dict(type='AnySyncBN', requires_grad=True)
TINY_HRNET = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                num_blocks=(1, ), num_channels=(8, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC',
                num_blocks=(1, 1), num_channels=(4, 8)),
    stage3=dict(num_modules=1, num_branches=3, block='BASIC',
                num_blocks=(1, 1, 1), num_channels=(4, 8, 16)),
    stage4=dict(num_modules=1, num_branches=4, block='BASIC',
                num_blocks=(1, 1, 1, 1), num_channels=(4, 8, 16, 32)))
BACKBONES = {
    'ResNet': dict(type='ResNet', depth=18, base_channels=8),
    'ResNeXt': dict(type='ResNeXt', depth=50, groups=2, base_width=4,
                    base_channels=8),
    'RegNet': dict(type='RegNet', stem_channels=8, arch=dict(
        w0=8, wa=8.0, wm=2.0, group_w=4, depth=6, bot_mul=1.0)),
    'Res2Net': dict(type='Res2Net', depth=50, base_channels=8, scales=4,
                    base_width=4),
    'ResNeSt': dict(type='ResNeSt', depth=50, base_channels=8, radix=2,
                    reduction_factor=4),
    'HRNet': dict(type='HRNet', extra=TINY_HRNET),
}


def _build(name, **kwargs):
    return MODELS.build(dict(BACKBONES[name], **kwargs))


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_gn_scratch_backbone_has_no_batchnorm_and_trains(name):
    torch.manual_seed(0)
    backbone = _build(name, norm_cfg=GN, norm_eval=False,
                      init_cfg=dict(type='ScratchInit'))
    assert not [n for n, m in backbone.named_modules()
                if isinstance(m, _BatchNorm)], f'{name} hard-codes BN'
    report = inspect_part(backbone, name)
    assert report.norm_counts and set(report.norm_counts) == {'GroupNorm'}
    assert report.problems() == []

    backbone.init_weights()  # the guard runs here and finds nothing
    convs = [(path, conv) for path, conv in backbone.named_modules()
             if isinstance(conv, nn.Conv2d) and conv.weight.numel() >= 2048]
    assert convs
    for path, conv in convs:
        # torch's fan_out: out_channels x kernel area, groups or not. A
        # sample std of n draws is off by 1/sqrt(2n) relative: allow 4.
        fan_out = conv.out_channels * conv.kernel_size[0] * \
            conv.kernel_size[1]
        assert conv.weight.std().item() == pytest.approx(
            math.sqrt(2 / fan_out),
            rel=4 / math.sqrt(2 * conv.weight.numel())), f'{name}.{path}'

    backbone.train()
    outs = backbone(torch.randn(2, 3, 64, 64))
    sum(o.float().pow(2).mean() for o in outs).backward()
    untrained = [n for n, p in backbone.named_parameters() if p.grad is None]
    assert not untrained, f'{name}: no gradient for {untrained[:3]}'


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_syncbn_conversion_and_norm_eval(name):
    backbone = _build(name, norm_cfg=SYNC_BN, norm_eval=False)
    norms = [m for m in backbone.modules() if isinstance(m, _BatchNorm)]
    assert norms and all(isinstance(m, AnySyncBatchNorm) for m in norms)
    assert inspect_part(backbone, name).problems() == []
    # mmdet's default, norm_eval=True, freezes SyncBN statistics too.
    frozen_stats = _build(name, norm_cfg=SYNC_BN, norm_eval=True)
    report = inspect_part(frozen_stats, name)
    assert len(report.bn_eval) == len(norms)
    assert [p for p in report.problems() if 'norm_eval=False' in p]


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_default_batchnorm_is_reported(name):
    problems = inspect_part(_build(name, norm_eval=False), name).problems()
    assert len(problems) == 1 and 'BatchNorm layers' in problems[0] and \
        "type='GN'" in problems[0]


def test_hard_coded_batchnorm_is_named():
    # YOLOF's DilatedEncoder builds nn.BatchNorm2d whatever the config says.
    neck = MODELS.build(dict(type='DilatedEncoder', in_channels=16,
                             out_channels=8, block_mid_channels=4,
                             num_residual_blocks=1, block_dilations=[1]))
    report = inspect_part(neck, 'neck')
    assert {'lateral_norm', 'fpn_norm'} <= set(report.plain_bn)


def test_hrfpn_ignores_norm_cfg_and_hrfpn_with_norm_applies_it():
    in_channels = [4, 8, 16, 32]
    feats = [torch.randn(1, c, 16 // 2**i, 16 // 2**i)
             for i, c in enumerate(in_channels)]
    plain = MODELS.build(dict(type='HRFPN', in_channels=in_channels,
                              out_channels=8, norm_cfg=GN))
    [problem] = inspect_part(plain, 'neck').problems()
    assert "norm_cfg type='GN'" in problem and 'HRFPNWithNorm' in problem

    normed = MODELS.build(dict(type='HRFPNWithNorm', in_channels=in_channels,
                               out_channels=8, norm_cfg=GN))
    report = inspect_part(normed, 'neck')
    assert report.norm_counts == {'GroupNorm': 1 + normed.num_outs}
    assert report.problems() == []
    assert [o.shape for o in normed(feats)] == [o.shape
                                                 for o in plain(feats)]
