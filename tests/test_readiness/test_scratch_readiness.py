"""check_scratch_ready.py: each fault on a config the test writes, every
scratch row of configs/ passing, and the guard sharing the same check."""
import glob
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
import torch.nn as nn

from rethink_mmdet.cli.check_scratch_ready import main
from rethink_mmdet.cli.common import run_main
from rethink_mmdet.models import ScratchInit
from rethink_mmdet.models.init_policies import ScratchReadinessError
from rethink_mmdet.models.scratch_check import (
    inspect_part,
    probe_forward,
    scratch_problems,
)
from rethink_mmdet.testing import REPO_ROOT, TOY_CONFIG

SCRATCH_ROWS = sorted(
    osp.relpath(p, osp.join(REPO_ROOT, 'configs'))
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*-scratch_*.py'))
    if '_base_' not in p)
# A -tta row evaluates its base row's checkpoint: what it would train is
# its base row's (tests/test_runner/test_coco_user_traps.py checks that),
# so the checker runs on the base row alone.
TRAINED_ROWS = [row for row in SCRATCH_ROWS if '-tta_' not in row]

# One fault each, as a user would write it over the toy config (GN, scratch
# init): the lines of the config after `_base_`, and the problem expected,
# as (part, words of the line).
FAULTS = {
    'frozen stage': (
        "model = dict(backbone=dict(frozen_stages=1))",
        ('backbone', 'frozen parameters', 'frozen_stages=-1')),
    'norm_eval with SyncBN': (
        "model = dict(backbone=dict(norm_eval=True, norm_cfg=dict(\n"
        "    _delete_=True, type='AnySyncBN')))",
        ('backbone', 'stay in eval mode', 'norm_eval=False')),
    'FrozenBN': (
        "model = dict(backbone=dict(norm_eval=True, norm_cfg=dict(\n"
        "    _delete_=True, type='BN', requires_grad=False)))",
        ('backbone', 'FrozenBN layers')),
    'pretrained init': (
        "model = dict(backbone=dict(init_cfg=dict(_delete_=True,\n"
        "    type='Pretrained', checkpoint='imagenet://resnet50_gn')))",
        ('pretrained', 'model.backbone.init_cfg: Pretrained '
         'imagenet://resnet50_gn')),
    'load_from': (
        "load_from = 'work_dirs/r50/iter_90000.pth'",
        ('pretrained', 'load_from: work_dirs/r50/iter_90000.pth')),
    'decay on norms': (
        "optim_wrapper = dict(paramwise_cfg=dict(norm_decay_mult=1.0))",
        ('backbone', 'weight decay 0.0001', 'norm_decay_mult=0')),
    # custom_keys win over norm_decay_mult in mmengine: read from the
    # optimizer's real groups, not from the config's norm_decay_mult.
    'decay on norms by custom key': (
        "optim_wrapper = dict(paramwise_cfg=dict(\n"
        "    custom_keys={'mask_head': dict(decay_mult=1.0)}))",
        ('roi_head.mask_head', 'weight decay 0.0001')),
    'BN left in a head': (
        "model = dict(roi_head=dict(mask_head=dict(norm_cfg=dict(\n"
        "    _delete_=True, type='BN'))))",
        ('roi_head.mask_head', 'BatchNorm layers', "type='GN'")),
    # Found by the probe forward, not by building.
    'neck widths not the backbone\'s': (
        "model = dict(neck=dict(in_channels=[16, 32, 64, 128]))",
        ('forward', 'fails in neck.lateral_convs.0', 'RuntimeError')),
    # Found only by the training step: backbone and neck run, the box
    # head's first conv expects 64-channel RoI features, gets the neck's 32.
    'head widths not the neck\'s': (
        "model = dict(roi_head=dict(bbox_head=dict(in_channels=64)))",
        ('train step', 'roi_head.bbox_head.shared_convs.0.conv (Conv2d)',
         "fails in forward(mode='loss')", 'RuntimeError')),
    'a loss that is not finite': (
        "model = dict(rpn_head=dict(loss_bbox=dict(\n"
        "    loss_weight=float('inf'))))",
        ('train step', 'the loss is inf')),
    'LR drop before the start': (
        "param_scheduler = [dict(type='DropBeforeEndLR', by_epoch=False,\n"
        "                        drops_before_end=(5000, ))]",
        ('param_scheduler DropBeforeEndLR', 'ends at 1200')),
}


def _write(tmp_path, body, name='mask-rcnn_r18-tiny-scratch_fault.py'):
    path = tmp_path / name
    path.write_text(f'_base_ = {TOY_CONFIG!r}\n{body}\n')
    return str(path)


def _check(capsys, *argv):
    status = run_main(main, list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_toy_config_is_ready_and_reported_per_part(capsys):
    status, out, _ = _check(capsys, TOY_CONFIG)
    assert status == 0, out
    assert 'verdict: ready to train from scratch' in out
    rows = {line.split()[0]: line for line in out.splitlines()
            if line.split() and line.split()[0] in (
                'backbone', 'neck', 'rpn_head', 'roi_head.bbox_head',
                'roi_head.mask_head')}
    assert len(rows) == 5
    # ResNet-18: stem, 8 blocks x 2, 3 shortcuts.
    assert 'GroupNorm x20' in rows['backbone']
    assert ' none ' in rows['rpn_head']
    # The paper's rule on the toy's 1200 iterations (drops 240, 60 before).
    assert 'x0.1 at iterations 960, 1140 of 1200' in out
    assert 'no weight decay on norm parameters' in out
    # What Runner.train runs first, on a generated batch.
    assert re.search(r'train step: init_weights\(\), then forward, loss '
                     r'[\d.]+ and backward with an optimizer step on a '
                     r'2x3x128x128 batch: passed', out), out


@pytest.mark.parametrize('fault', sorted(FAULTS))
def test_each_fault_is_one_problem_line(fault, tmp_path, capsys):
    body, (part, *words) = FAULTS[fault]
    status, out, err = _check(capsys, _write(tmp_path, body))
    assert status == 1, out + err
    problems = [line for line in out.splitlines()
                if line.startswith('problem: ')]
    matching = [line for line in problems
                if line.startswith(f'problem: {part}')
                and all(w in line for w in words)]
    assert matching, problems
    assert out.rstrip().endswith(
        f'verdict: NOT ready to train from scratch ({len(problems)} '
        f'problem{"s" if len(problems) > 1 else ""})')
    if fault != 'decay on norms':  # one setting, several parts
        assert len(problems) == 1, problems


def test_pretrained_config_is_reported_without_a_verdict_against_it(capsys):
    status, out, _ = _check(capsys, osp.join(
        REPO_ROOT, 'configs', 'schedule-study',
        'mask-rcnn_r50-pretrained_fpn_gn-all_1x_coco.py'))
    assert status == 0
    assert 'claims scratch: no' in out
    assert 'note: backbone: 33 frozen parameters' in out  # stem + stage 1
    assert 'does not claim to train from scratch' in out
    status, out, _ = _check(capsys, osp.join(
        REPO_ROOT, 'configs', 'schedule-study',
        'mask-rcnn_r50-pretrained_fpn_gn-all_1x_coco.py'), '--scratch')
    assert status == 1 and 'claims scratch: yes: asked for' in out
    assert 'problem: backbone: 33 frozen parameters' in out


def test_bad_input_is_one_line(tmp_path, capsys):
    status, _, err = _check(capsys, str(tmp_path / 'missing.py'))
    assert (status, err.strip()) == (
        2, f'error: config file not found: {tmp_path / "missing.py"}')
    broken = _write(tmp_path, "model = dict(backbone=dict(norm_cfg=dict(\n"
                    "    num_groups=5)))")
    status, _, err = _check(capsys, broken)
    assert status == 2 and err.startswith(
        f'error: cannot build the model of {broken}: ')
    assert 'Traceback' not in err and len(err.strip().splitlines()) == 1


def test_group_norm_over_single_values_is_found_by_the_probe_forward():
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    # ResNeSt's split attention normalizes a pooled 1x1 map of
    # max(planes x radix / 4, 32) channels: 32 in stages 1 and 2 (planes
    # 32, 64), so GN(32) has one value per group there; 64 and 128 after.
    backbone = MODELS.build(dict(
        type='ResNeSt', depth=50, stem_channels=64, base_channels=32,
        radix=2, reduction_factor=4, norm_eval=False,
        norm_cfg=dict(type='GN', num_groups=32)))
    shapes, problems, *_ = probe_forward(backbone, size=64)
    assert [p.split(' (')[0] for p in problems] == [
        'layer1: 3 GroupNorm layers', 'layer2: 4 GroupNorm layers']
    assert all('[2, 32, 1, 1], 32 groups of 32 channels' in p
               for p in problems)
    assert shapes.endswith('128x16x16, 256x8x8, 512x4x4, 1024x2x2')


def test_frozen_batchnorm_class_is_frozen_bn():
    class FrozenBatchNorm2d(nn.Module):  # torchvision's, as a user has it
        def __init__(self, n):
            super().__init__()
            self.register_buffer('weight', torch.ones(n))

    report = inspect_part(nn.Sequential(nn.Conv2d(3, 4, 3),
                                        FrozenBatchNorm2d(4)), 'backbone')
    assert report.frozen_bn == ['1'] and report.norm_counts == {
        'FrozenBatchNorm2d': 1}
    assert 'FrozenBN' in report.problems()[0]


def test_guard_refuses_with_the_checkers_own_lines():
    head = nn.Sequential(nn.Conv2d(8, 8, 3), nn.BatchNorm2d(8))
    [line] = scratch_problems(head, 'Sequential')
    with pytest.raises(ScratchReadinessError) as error:
        ScratchInit()(head)
    assert line in str(error.value)


def test_the_tool_exits_non_zero_for_a_faulty_scratch_config(tmp_path):
    config = _write(tmp_path, FAULTS['frozen stage'][0])
    result = subprocess.run(
        [sys.executable, 'tools/misc/check_scratch_ready.py', config],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr[-2000:]
    assert 'problem: backbone: ' in result.stdout
    # The same fault fixed on the command line passes.
    result = subprocess.run(
        [sys.executable, 'tools/misc/check_scratch_ready.py', config,
         '--cfg-options', 'model.backbone.frozen_stages=-1'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize('relative', TRAINED_ROWS)
def test_every_scratch_row_passes(relative, capsys):
    status, out, err = _check(capsys, osp.join(REPO_ROOT, 'configs',
                                               relative))
    assert status == 0, out + err
    assert 'verdict: ready to train from scratch' in out


# Tiny transformer backbones over the toy config (GN(8) neck and heads):
# mmdet's classes whose init_weights accepts only a Pretrained init_cfg.
SELF_INITIALIZING = {
    'SwinTransformer': ("type='SwinTransformer', embed_dims=16, "
                        'depths=[1, 1, 1, 1], num_heads=[1, 2, 4, 8]',
                        [16, 32, 64, 128]),
    'PyramidVisionTransformerV2': (
        "type='PyramidVisionTransformerV2', embed_dims=16, "
        'num_layers=[1, 1, 1, 1], num_heads=[1, 2, 4, 8]',
        [16, 32, 64, 128]),
}


@pytest.mark.parametrize('cls', sorted(SELF_INITIALIZING))
def test_backbones_that_initialize_themselves(cls, tmp_path, capsys):
    """ScratchInit on them fails in init_weights(), as training would: one
    problem naming the module and the fix; with init_cfg=None their own
    random init applies, the checker says so, and a training step passes."""
    args, widths = SELF_INITIALIZING[cls]
    body = ('model = dict(\n'
            f'    backbone=dict(_delete_=True, {args}, init_cfg={{init}}),\n'
            f'    neck=dict(in_channels={widths}))')
    status, out, err = _check(capsys, _write(tmp_path, body.format(
        init="dict(type='ScratchInit')")))
    assert status == 1, out + err
    [problem] = [line for line in out.splitlines()
                 if line.startswith('problem: ')]
    assert problem.startswith(f'problem: init: backbone ({cls}): '
                              'init_weights() fails'), problem
    assert 'AssertionError' in problem and 'init_cfg=None' in problem
    assert 'train step: not run: init_weights() fails' in out

    status, out, err = _check(capsys, _write(tmp_path, body.format(
        init='None')))
    assert status == 0, out + err
    assert (f'init: backbone ({cls}) initializes itself and refuses '
            'ScratchInit: its own random init applies') in out
    assert 'LayerNorm x' in out.splitlines()[4]  # the backbone's row
    assert 'train step: init_weights(), then forward' in out
    assert out.rstrip().endswith('verdict: ready to train from scratch')
