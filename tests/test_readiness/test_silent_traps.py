"""What runs without an error and still ruins a scratch run, each made to
happen over the toy config and found by check_scratch_ready.py with its
fix, then fixed as the problem line says and found ready: feature strides
the heads do not expect (two backbones, a neck's start_level, a cascade),
a backbone whose init_weights ignores init_cfg, BatchNorm at 2 images per
GPU, norm_eval=True and a frozen stem."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmdet.models.backbones import ResNet
from mmdet.registry import MODELS
from mmengine.config import Config

from rethink_mmdet.cli.check_scratch_ready import main
from rethink_mmdet.cli.common import run_main
from rethink_mmdet.models.scratch_check import probe_forward
from rethink_mmdet.readiness.init_coverage import untouched_by_init
from rethink_mmdet.readiness.stride_check import (
    stride_consumers,
    stride_problems,
)
from rethink_mmdet.testing import REPO_ROOT, TOY_CONFIG

RPN = 'rpn_head.anchor_generator.strides'
BBOX_ROI = 'roi_head.bbox_roi_extractor.featmap_strides'
MASK_ROI = 'roi_head.mask_roi_extractor.featmap_strides'


@MODELS.register_module(force=True)
class ResNetOwnInit(ResNet):
    """A user's backbone: its init_weights draws its convs itself and
    never calls mmengine's, which is what runs init_cfg."""

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)


@MODELS.register_module(force=True)
class ResNetOwnFullInit(ResNet):
    """One that initializes every parameter itself (as DetectoRS_ResNet
    does): nothing is left as built, but ScratchInit and its guard still
    never run."""

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
            elif isinstance(m, nn.GroupNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


@MODELS.register_module(force=True)
class ResNetOwnInitFixed(ResNetOwnInit):
    """The fix the problem line names: call super().init_weights()."""

    def init_weights(self):
        super(ResNetOwnInit, self).init_weights()


def _check(tmp_path, capsys, body, *options):
    config = tmp_path / 'mask-rcnn_r18-tiny-scratch_trap.py'
    config.write_text(f'_base_ = {TOY_CONFIG!r}\n{body}\n')
    argv = [str(config)] + (['--cfg-options', *options] if options else [])
    status = run_main(main, argv)
    out, err = capsys.readouterr()
    return status, out + err, [line[len('problem: '):] for line in
                               out.splitlines()
                               if line.startswith('problem: ')]


# Each trap: the lines over the toy config, the one problem expected (its
# first words and words it must contain) and the --cfg-options of the fix.
STRIDE_8 = ('strides: the neck\'s outputs have strides 8, 16, 32, 64, 128 '
            '(128 px input / feature size)')
TRAPS = {
    # ResNet-18 from stage 2 (strides 8-32): the FPN gives 8-128.
    'ResNet out_indices from stride 8': (
        "model = dict(backbone=dict(out_indices=(1, 2, 3)),\n"
        "             neck=dict(in_channels=[64, 128, 256]))",
        (STRIDE_8, f'{RPN}=[4, 8, 16, 32, 64]',
         f'{BBOX_ROI}=[4, 8, 16, 32]', f'{MASK_ROI}=[4, 8, 16, 32]',
         'out_indices from its stride-4 stage (it gives strides 8, 16, 32)',
         f'or set {RPN}=[8, 16, 32, 64, 128], {BBOX_ROI}=[8, 16, 32, 64]'),
        (f'model.{RPN}=[8,16,32,64,128]', f'model.{BBOX_ROI}=[8,16,32,64]',
         f'model.{MASK_ROI}=[8,16,32,64]')),
    # MobileNetV2 as mmdet's YOLOv3 config picks it: strides 8, 16, 32.
    'MobileNetV2 out_indices (2, 4, 6)': (
        "norm = dict(type='GN', num_groups=8)\n"
        "model = dict(\n"
        "    backbone=dict(_delete_=True, type='MobileNetV2',\n"
        "                  widen_factor=0.25, out_indices=(2, 4, 6),\n"
        "                  norm_cfg=norm,\n"
        "                  init_cfg=dict(type='ScratchInit')),\n"
        "    neck=dict(in_channels=[8, 24, 80]))",
        (STRIDE_8, 'its stride-4 stage (it gives strides 8, 16, 32)'),
        ('model.backbone.out_indices=(1,2,4,6)',
         'model.neck.in_channels=[8,8,24,80]')),
    # All four stages reach the neck, which starts at the second.
    'neck start_level=1': (
        "model = dict(neck=dict(start_level=1))",
        (STRIDE_8, "the neck's start_level=0 (the backbone gives strides "
         '4, 8, 16, 32)'),
        ('model.neck.start_level=0', )),
    # Four levels where the RPN lays anchors on five (it then also fails
    # in the training step: two problems).
    'neck num_outs=4': (
        "model = dict(neck=dict(num_outs=4))",
        ("levels: the neck's outputs are 4 levels (strides 4, 8, 16, 32) "
         f'but {RPN} has 5:', "set the neck's num_outs=5"),
        ('model.neck.num_outs=5', )),
    'init_weights ignores init_cfg': (
        "model = dict(backbone=dict(type='ResNetOwnInit'))",
        ('init: backbone: 40 parameters keep the values they were built '
         'with after init_weights() (gn1.weight, gn1.bias, '
         'layer1.0.gn1.weight, ...)',
         'ResNetOwnInit.init_weights replaces mmengine\'s and ignores '
         'init_cfg, so ScratchInit (and its guard) never runs there',
         'call super().init_weights()'),
        ('model.backbone.type=ResNetOwnInitFixed', )),
    'init_weights ignores init_cfg, initializes all': (
        "model = dict(backbone=dict(type='ResNetOwnFullInit'))",
        ('init: backbone: ResNetOwnFullInit.init_weights ignores init_cfg, '
         'so ScratchInit (and its guard) never runs on it',
         'call super().init_weights()'),
        ('model.backbone.type=ResNetOwnInitFixed', )),
    'BatchNorm at 2 images per GPU': (
        "model = dict(backbone=dict(norm_cfg=dict(_delete_=True, "
        "type='BN')))",
        ('backbone: 20 BatchNorm layers', "one GPU's 2 images",
         "norm_cfg=dict(type='GN', num_groups=32)"),
        ('model.backbone.norm_cfg.type=AnySyncBN', )),
    'norm_eval=True': (
        "model = dict(backbone=dict(norm_eval=True, norm_cfg=dict(\n"
        "    _delete_=True, type='AnySyncBN')))",
        ('backbone: 20 BatchNorm/SyncBN layers', 'stay in eval mode',
         'set norm_eval=False'),
        ('model.backbone.norm_eval=False', )),
    'frozen_stages=0': (
        "model = dict(backbone=dict(frozen_stages=0))",
        ('backbone: 3 frozen parameters (conv1.weight, gn1.weight, '
         'gn1.bias)', 'set frozen_stages=-1'),
        ('model.backbone.frozen_stages=-1', )),
}


@pytest.mark.parametrize('trap', sorted(TRAPS))
def test_each_trap_is_one_problem_and_its_fix_is_ready(trap, tmp_path,
                                                       capsys):
    body, (start, *words), fix = TRAPS[trap]
    status, out, problems = _check(tmp_path, capsys, body)
    assert status == 1, out
    assert len(problems) == 1 or trap == 'neck num_outs=4', problems
    assert problems[0].startswith(start), problems
    assert all(w in problems[0] for w in words), (problems[0], words)
    assert 'verdict: NOT ready to train from scratch' in out

    status, out, problems = _check(tmp_path, capsys, body, *fix)
    assert (status, problems) == (0, []), out
    assert out.rstrip().endswith('verdict: ready to train from scratch')


def test_the_report_says_the_strides_and_who_reads_them(tmp_path, capsys):
    status, out, _ = _check(tmp_path, capsys, '')
    assert status == 0
    assert (f'strides: 4, 8, 16, 32, 64 (128 px input / feature size); '
            f'read as: {RPN} [4, 8, 16, 32, 64]; {BBOX_ROI} [4, 8, 16, 32]; '
            f'{MASK_ROI} [4, 8, 16, 32]') in out


def test_cascade_stages_are_each_compared():
    """Every stage of a cascade has its own RoI extractors: all six are
    named in the one line (built, not trained: the stride check needs
    only the probe forward)."""
    from mmdet.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(osp.join(
        REPO_ROOT, 'configs', 'enhanced',
        'cascade-mask-rcnn_r50-scratch_fpn_gn-all_train-aug-9x_coco.py'))
    cfg.model.backbone.out_indices = (1, 2, 3)
    cfg.model.neck.in_channels = [512, 1024, 2048]
    model = MODELS.build(cfg.model)
    probe = probe_forward(model)
    consumers = stride_consumers(model)
    assert [c.key for c in consumers] == [RPN] + [
        f'roi_head.{kind}_roi_extractor.{stage}.featmap_strides'
        for kind in ('bbox', 'mask') for stage in range(3)]
    [line] = stride_problems(probe.sizes, 128, consumers,
                             probe.backbone_sizes, model.neck)
    assert line.startswith(STRIDE_8), line
    assert all(f'{c.key}=[{", ".join(map(str, c.strides))}]' in line
               for c in consumers), line
    assert 'roi_head.mask_roi_extractor.2.featmap_strides=[8, 16, 32, 64]' \
        in line.split(', or set ')[1]


def test_untouched_parameters_are_named_and_get_their_values_back():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.GroupNorm(2, 4))
    built = [p.detach().clone() for p in model.parameters()]
    untouched = untouched_by_init(
        model, lambda: nn.init.zeros_(model[0].weight))
    assert untouched == ['0.bias', '1.weight', '1.bias']
    assert not model[0].weight.any()
    for p, before in list(zip(model.parameters(), built))[1:]:
        assert torch.equal(p, before)
    # A part a checkpoint writes is not expected to change.
    assert untouched_by_init(model, lambda: None, skip=['1']) == ['0.weight',
                                                                 '0.bias']
