"""Every MMDetection 3.3 backbone, from scratch, in the R50 scratch row.

One entry per backbone of ``mmdet/models/backbones/``: the config lines a
user writes over :data:`R50_ROW` to train it from random init in the
row's Mask R-CNN FPN (an example config of ``configs/extending/``, or a
snippet that docs/extending.md shows), the overrides that shrink it for a
test (:func:`tiny_config`), or why it cannot feed a Mask R-CNN FPN at
all. ``tools/misc/extending_table.py`` writes docs/extending.md's table
from the checker's report on each.
"""
import copy
import os.path as osp
import tempfile
from dataclasses import dataclass, field
from typing import List, Optional

import torch
from mmengine.config import Config

from rethink_mmdet.runner import load_config
from rethink_mmdet.runner.configs import config_path

#: The row every entry is written over.
R50_ROW = 'schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'
#: The toy the tiny variants use (GN(8), 32-channel neck and heads).
TOY_ROW = ('toy/mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_'
           'synthetic-coco.py')
_GN2 = dict(type='GN', num_groups=2, requires_grad=True)
_TINY_HRNET = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                num_blocks=(1, ), num_channels=(8, )),
    **{f'stage{n}': dict(num_modules=1, num_branches=n, block='BASIC',
                         num_blocks=(1, ) * n,
                         num_channels=(4, 8, 16, 32)[:n])
       for n in (2, 3, 4)})


def _four_stages(cls: str, out_indices: str) -> str:
    """The lines that replace the base's ResNet with a backbone of another
    signature whose four stages from stride 4 are ``out_indices``, widths
    128-1024 (CSPDarknet, CSPNeXt, Darknet-53), restating the scratch
    settings."""
    return f"""model = dict(
    backbone=dict(_delete_=True, type='{cls}', out_indices={out_indices},
                  frozen_stages=-1, norm_cfg={{{{_base_.norm_cfg}}}},
                  norm_eval=False, init_cfg={{{{_base_.scratch_init}}}}),
    neck=dict(in_channels=[128, 256, 512, 1024]))
"""


@dataclass(frozen=True)
class ScratchBackbone:
    """One MMDetection backbone in the R50 scratch row.

    Args:
        name: Its class in ``mmdet/models/backbones/``.
        model: The model the lines build, e.g. ``'EfficientNet-B3'``.
        config: An example config (relative to ``configs/``) that holds
            the lines, or empty.
        lines: Otherwise the lines over the R50 row (docs/extending.md
            shows them).
        tiny: Overrides of the backbone for a test at a tiny size; the
            neck's ``in_channels`` follow from a forward.
        why: What the lines change and why (GN groups, init).
        cannot: Why it cannot feed a Mask R-CNN FPN (no lines then).
    """
    name: str
    model: str
    config: str = ''
    lines: str = ''
    tiny: dict = field(default_factory=dict)
    why: str = ''
    cannot: str = ''

    @property
    def text(self) -> str:
        """The config file's text (over the R50 row, by its path)."""
        if self.config:
            with open(config_path(self.config)) as f:
                return f.read()
        return (f'_base_ = {config_path(R50_ROW)!r}\n' + self.lines)

    @property
    def code_lines(self) -> int:
        """Lines of code over the row (comments and blank lines aside);
        0 for the row itself."""
        if self.config == R50_ROW:
            return 0
        return sum(1 for line in self.text.splitlines()
                   if line.strip() and not line.lstrip().startswith('#'))


BACKBONES = (
    ScratchBackbone('ResNet', 'R-50', config=R50_ROW,
                    tiny=dict(depth=18, base_channels=8, norm_cfg=_GN2),
                    why='the row itself'),
    ScratchBackbone(
        'ResNeXt', 'X-101-32x4d',
        config='extending/mask-rcnn_x101-32x4d-scratch_fpn_gn-all_6x_coco.py',
        tiny=dict(depth=50, groups=2, base_width=4, base_channels=8,
                  norm_cfg=_GN2),
        why='a ResNet subclass: the base settings apply'),
    ScratchBackbone(
        'Res2Net', 'Res2Net-50 32w x 4s',
        lines="model = dict(backbone=dict(type='Res2Net', scales=4, "
        'base_width=32))\n',
        tiny=dict(base_channels=8, base_width=4, norm_cfg=_GN2),
        why='32w, not 26w: GN(32) does not divide 104'),
    ScratchBackbone(
        'ResNeSt', 'ResNeSt-50',
        lines="model = dict(backbone=dict(\n"
        "    type='ResNeSt', stem_channels=64, radix=2, reduction_factor=4,\n"
        "    avg_down_stride=True,\n"
        "    norm_cfg=dict(_delete_=True, type='AnySyncBN', "
        "requires_grad=True)))\n",
        tiny=dict(stem_channels=8, base_channels=8),
        why='SyncBN in the backbone: GN(32) on the split attention\'s '
        'pooled 32 channels outputs a constant'),
    ScratchBackbone(
        'RegNet', 'RegNetX-3.2GF',
        config='extending/mask-rcnn_regnetx-3.2GF-scratch_fpn_gn-all_6x_'
        'coco.py',
        tiny=dict(stem_channels=8, norm_cfg=_GN2, arch=dict(
            w0=8, wa=8.0, wm=2.0, group_w=4, depth=6, bot_mul=1.0)),
        why='GN(16) everywhere: 32 does not divide 432'),
    ScratchBackbone(
        'DetectoRS_ResNet', 'DetectoRS R-50 (SAC, no RFP)',
        lines="model = dict(backbone=dict(\n"
        "    type='DetectoRS_ResNet', sac=dict(type='SAC', use_deform=True),\n"
        "    stage_with_sac=(False, True, True, True), init_cfg=None))\n",
        tiny=dict(base_channels=8, norm_cfg=_GN2),
        why='its init_weights takes only Pretrained and ignores init_cfg: '
        'init_cfg=None, its own MSRA init'),
    ScratchBackbone(
        'DetectoRS_ResNeXt', 'DetectoRS X-50-32x4d (SAC, no RFP)',
        lines="model = dict(backbone=dict(\n"
        "    type='DetectoRS_ResNeXt', groups=32, base_width=4,\n"
        "    sac=dict(type='SAC', use_deform=True),\n"
        "    stage_with_sac=(False, True, True, True), init_cfg=None))\n",
        tiny=dict(groups=2, base_channels=8, norm_cfg=_GN2),
        why='as DetectoRS_ResNet'),
    ScratchBackbone(
        'HRNet', 'HRNetV2p-W32',
        config='extending/mask-rcnn_hrnetv2p-w32-scratch_hrfpn_gn-all_6x_'
        'coco.py',
        tiny=dict(extra=_TINY_HRNET, norm_cfg=_GN2),
        why='HRFPNWithNorm: mmdet\'s HRFPN ignores norm_cfg'),
    ScratchBackbone(
        'SwinTransformer', 'Swin-T',
        config='extending/mask-rcnn_swin-t-p4-w7-scratch_fpn_ln-gn_6x_'
        'coco.py',
        tiny=dict(embed_dims=16, depths=[1, 1, 1, 1],
                  num_heads=[1, 2, 4, 8]),
        why='LayerNorm; refuses ScratchInit: init_cfg=None, its own init'),
    *(ScratchBackbone(
        name, model,
        lines=f"""model = dict(
    backbone=dict(_delete_=True, type='{name}',
                  num_layers=[3, 4, 6, 3], init_cfg=None),
    neck=dict(in_channels=[64, 128, 320, 512]))
""",
        tiny=dict(embed_dims=16, num_layers=[1, 1, 1, 1],
                  num_heads=[1, 2, 4, 8]),
        why='as Swin') for name, model in (
            ('PyramidVisionTransformer', 'PVT-Small'),
            ('PyramidVisionTransformerV2', 'PVTv2-B2'))),
    ScratchBackbone(
        'EfficientNet', 'EfficientNet-B3',
        lines="""gn8 = dict(type='GN', num_groups=8, requires_grad=True)
model = dict(
    backbone=dict(_delete_=True, type='EfficientNet', arch='b3',
                  out_indices=(2, 3, 4, 5), frozen_stages=0, norm_cfg=gn8,
                  norm_eval=False, init_cfg={{_base_.scratch_init}}),
    neck=dict(in_channels=[32, 48, 136, 384]))
""",
        tiny=dict(arch='b0'),
        why='out_indices from stride 4 (mmdet\'s RetinaNet config starts '
        'at 8); GN(8) in the backbone: its widths are multiples of 8'),
    ScratchBackbone(
        'MobileNetV2', 'MobileNetV2',
        lines="""gn8 = dict(type='GN', num_groups=8, requires_grad=True)
model = dict(
    backbone=dict(_delete_=True, type='MobileNetV2',
                  out_indices=(1, 2, 4, 7), frozen_stages=-1, norm_cfg=gn8,
                  norm_eval=False, init_cfg={{_base_.scratch_init}}),
    neck=dict(in_channels=[24, 32, 96, 1280]))
""",
        tiny=dict(widen_factor=0.25),
        why='GN(8) in the backbone: 24 channels'),
    ScratchBackbone(
        'CSPDarknet', 'CSPDarknet P5 (YOLOX-L)',
        lines=_four_stages('CSPDarknet', '(1, 2, 3, 4)'),
        tiny=dict(deepen_factor=0.33, widen_factor=0.125, norm_cfg=_GN2),
        why='out_indices from stride 4 (YOLOX uses 8-32)'),
    ScratchBackbone(
        'CSPNeXt', 'CSPNeXt P5 (RTMDet-L)',
        lines=_four_stages('CSPNeXt', '(1, 2, 3, 4)'),
        tiny=dict(deepen_factor=0.167, widen_factor=0.125, norm_cfg=_GN2),
        why='out_indices from stride 4 (RTMDet uses 8-32)'),
    ScratchBackbone(
        'Darknet', 'Darknet-53',
        lines=_four_stages('Darknet', '(2, 3, 4, 5)'),
        why='out_indices from stride 4 (YOLOv3 uses 8-32); mmdet\'s '
        'default norm_eval is True'),
    ScratchBackbone(
        'TridentResNet', 'TridentNet R-50',
        cannot='one stride-16 output, its three dilated branches stacked in '
        'the batch, read by TridentRoIHead: no pyramid for an FPN, no mask '
        'head'),
    ScratchBackbone(
        'HourglassNet', 'Hourglass-104',
        cannot='each stack returns one stride-4 map (for CornerNet\'s '
        'corner heads): no pyramid for an FPN'),
    ScratchBackbone(
        'SSDVGG', 'VGG-16 (SSD)',
        cannot='no norm layers and no norm_cfg (GN cannot be put in), '
        'extra layers sized for 300/512 px inputs; VGG from scratch '
        'without norms is the no-norm row (configs/no-norm/)'),
)


def full_config(entry: ScratchBackbone) -> Config:
    """The entry's config at full size, as a user would write it."""
    if entry.config:
        return load_config(config_path(entry.config))
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'mask-rcnn_backbone-scratch_fpn_6x_coco.py')
        with open(path, 'w') as f:
            f.write(entry.text)
        return load_config(path)


def _widths(backbone: dict) -> List[int]:
    """The channels of a backbone's outputs, from a forward."""
    from mmdet.registry import MODELS
    model = MODELS.build(backbone)
    model.eval()
    with torch.no_grad():
        outs = model(torch.zeros(2, 3, 128, 128))
    return [int(o.shape[1]) for o in outs]


def tiny_config(entry: ScratchBackbone,
                full: Optional[Config] = None) -> Config:
    """The toy config (32-channel neck and heads, GN(8)) with the entry's
    backbone and neck, the backbone shrunk by ``entry.tiny`` and the
    neck's widths set from a forward: everything a test can afford, the
    backbone's structure (strides, norms, init) unchanged."""
    full = full or full_config(entry)
    cfg = load_config(config_path(TOY_ROW))
    # Copies: ConfigDict.update writes into nested dicts it shares.
    backbone = copy.deepcopy(full.model.backbone)
    backbone.update(entry.tiny)
    neck = copy.deepcopy(full.model.neck)
    neck.update(in_channels=_widths(backbone),
                out_channels=cfg.model.neck.out_channels)
    if 'norm_cfg' in neck:
        neck.norm_cfg = cfg.model.neck.norm_cfg
    cfg.model.backbone, cfg.model.neck = backbone, neck
    return cfg
