"""Every config under configs/ against the row its name claims.

Expectations come from the file name (MMDetection's naming rule) and
docs/recipe.md, never from the config itself: the schedule length from
`Nx`, the init from `-scratch`/`-pretrained`, the norm from
`gn-all`/`syncbn-all`.
"""
import glob
import os.path as osp
import re

import pytest
import torch.nn as nn
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from torch.nn.modules.batchnorm import _BatchNorm

from rethink_mmdet.engine.schedulers import rule_drop_points
from rethink_mmdet.models.init_policies import scratch_problems
from rethink_mmdet.models.layers import AnySyncBatchNorm
from rethink_mmdet.testing import REPO_ROOT

register_all_modules()

ALL_CONFIGS = sorted(
    osp.relpath(p, osp.join(REPO_ROOT, 'configs'))
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py'))
    if '_base_' not in p)
# Pre-training (classifier) configs of the toy study are checked by
# test_classifier_configs; every other config is a detector row.
CLASSIFIER_CONFIGS = [c for c in ALL_CONFIGS
                      if osp.basename(c).startswith('classifier_')]
CONFIGS = [c for c in ALL_CONFIGS if c not in CLASSIFIER_CONFIGS]
ITERS_PER_X = 90000  # docs/recipe.md: 1x = 90k iterations at batch 16
NORM_TYPES = (nn.GroupNorm, _BatchNorm, nn.LayerNorm)
# Backbones with a width that 32 groups do not divide (RegNetX-3.2GF: 432).
GN_GROUPS = {'regnetx-3.2GF': 16}
# configs/extending/: each example adds at most this many lines of code
# (comments aside) to the row it inherits (docs/extending.md).
EXAMPLE_MAX_LINES = 15


def parse_name(relative):
    """The row a config claims, from its name."""
    stem = osp.splitext(osp.basename(relative))[0]
    fields = stem.split('_')
    arch, init = fields[1].rsplit('-', 1)
    # Nx (N x 90k iterations), Nk (N thousand iterations) or the toy's Ni.
    schedule = re.fullmatch(
        r'(?P<aug>train-aug-)?(?:(?P<x>\d+)x|(?P<k>\d+)k)(?P<tta>-tta)?'
        r'|toy-(?P<iters>\d+)i', fields[-2])
    assert schedule, f'{relative}: cannot read a schedule from {fields[-2]}'
    # ln-gn: a transformer backbone's own LayerNorm, GN in the other parts.
    norm = next((f for f in fields
                 if f in ('gn-all', 'syncbn-all', 'ln-gn')), None)
    return dict(
        algo=fields[0], arch=arch, init=init, norm=norm,
        times=int(schedule['x']) if schedule['x'] else None,
        kilo_iters=int(schedule['k']) if schedule['k'] else None,
        toy_iters=int(schedule['iters']) if schedule['iters'] else None,
        train_aug=bool(schedule['aug']), tta=bool(schedule['tta']),
        data=fields[-1])


def _parts(model):
    """The detector parts the paper normalizes, by name."""
    parts = {'backbone': model.backbone}
    if getattr(model, 'neck', None) is not None:
        parts['neck'] = model.neck
    heads = model.roi_head.bbox_head
    for i, head in enumerate(heads if isinstance(heads, nn.ModuleList)
                             else [heads]):
        parts[f'bbox_head{i}'] = head
    if model.roi_head.with_mask:
        heads = model.roi_head.mask_head
        for i, head in enumerate(heads if isinstance(heads, nn.ModuleList)
                                 else [heads]):
            parts[f'mask_head{i}'] = head
    if getattr(model.roi_head, 'with_keypoint', False):
        parts['keypoint_head'] = model.roi_head.keypoint_head
    return parts


def _init_cfgs(node):
    """Every init_cfg in a config tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'init_cfg' and value:
                yield from (value if isinstance(value, list) else [value])
            else:
                yield from _init_cfgs(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _init_cfgs(item)


@pytest.fixture(scope='module', params=CONFIGS)
def row(request):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', request.param))
    return request.param, parse_name(request.param), cfg


def test_names_follow_the_convention(row):
    relative, claim, _ = row
    assert claim['algo'] in ('mask-rcnn', 'faster-rcnn',
                             'cascade-mask-rcnn', 'keypoint-rcnn'), relative
    assert claim['init'] in ('scratch', 'pretrained'), relative


@pytest.mark.parametrize('relative', ALL_CONFIGS)
def test_a_row_starts_with_one_line_naming_it(relative):
    # docs/configs.md: one header line; the rationale lives in docs/ and
    # the schedule arithmetic in the schedule base.
    with open(osp.join(REPO_ROOT, 'configs', relative)) as f:
        lines = f.read().splitlines()
    assert lines[0].startswith('# ') and not lines[1].startswith('#'), \
        relative


def test_extending_examples_are_short(row):
    relative, _, _ = row
    if not relative.startswith('extending/'):
        return
    with open(osp.join(REPO_ROOT, 'configs', relative)) as f:
        code = [line for line in f
                if line.strip() and not line.lstrip().startswith('#')]
    assert len(code) <= EXAMPLE_MAX_LINES, f'{relative}: {len(code)} lines'


def test_norm_layers(row):
    relative, claim, cfg = row
    model = MODELS.build(cfg.model)
    for name, part in _parts(model).items():
        norms = [m for m in part.modules() if isinstance(m, NORM_TYPES)]
        if claim['norm'] is None:
            assert not norms, f'{relative}: {name} has norm layers'
        elif claim['norm'] == 'ln-gn' and name == 'backbone':
            assert norms and all(isinstance(m, nn.LayerNorm)
                                 for m in norms), relative
        elif claim['norm'] in ('gn-all', 'ln-gn'):
            assert norms and all(isinstance(m, nn.GroupNorm)
                                 for m in norms), f'{relative}: {name}'
            groups = {m.num_groups for m in norms}
            # docs/recipe.md: GN uses 32 groups; the toy has too few channels.
            expected = 8 if claim['toy_iters'] else GN_GROUPS.get(
                claim['arch'], 32)
            assert groups == {expected}, name
        else:
            assert norms and all(isinstance(m, AnySyncBatchNorm)
                                 for m in norms), f'{relative}: {name}'
    assert not any(isinstance(m, NORM_TYPES)
                   for m in model.rpn_head.modules()), relative


def test_init_policy(row):
    relative, claim, cfg = row
    pretrained = [c for c in _init_cfgs(cfg.model)
                  if c.get('type') == 'Pretrained']
    if claim['init'] == 'scratch':
        assert not pretrained, f'{relative}: scratch row loads {pretrained}'
        assert cfg.get('load_from') is None
        model = MODELS.build(cfg.model)
        assert scratch_problems(model) == [], relative
        assert all(p.requires_grad for p in model.parameters())
        # norm_eval concerns BN; LayerNorm has no running statistics.
        assert cfg.model.backbone.get('norm_eval', True) is False or \
            claim['norm'] in (None, 'ln-gn')
        assert cfg.model.backbone.get('zero_init_residual', False) is False
    else:
        assert [c['checkpoint'] for c in pretrained] and all(
            c['checkpoint'].startswith('imagenet://')
            for c in pretrained), f'{relative}: {pretrained}'
        assert cfg.model.backbone.init_cfg.type == 'Pretrained'


def test_schedule(row):
    relative, claim, cfg = row
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    warmup, rule = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and warmup.by_epoch is False
    assert rule.type == 'DropBeforeEndLR'
    max_iters = cfg.train_cfg.max_iters
    if claim['toy_iters']:
        assert max_iters == claim['toy_iters']
        return
    assert warmup.start_factor == 1e-3
    if claim['kilo_iters']:
        # Schedules docs/recipe.md does not give (less data, VOC): the length
        # the name states.
        assert max_iters == claim['kilo_iters'] * 1000, relative
        # Too short for the last-60k/20k rule: 1x's shape (60k and 80k of
        # 90k, docs/recipe.md), scaled to the length.
        assert rule_drop_points(rule, max_iters) == [
            round(max_iters * 2 / 3), round(max_iters * 8 / 9)], relative
        return
    assert warmup.end == 1000
    assert max_iters == claim['times'] * ITERS_PER_X, relative
    drops = rule_drop_points(rule, max_iters)
    expected = ([60000, 80000] if claim['times'] == 1 else
                [max_iters - 60000, max_iters - 20000])
    assert drops == expected, relative


def test_optimizer(row):
    relative, claim, cfg = row
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum,
            optimizer.weight_decay) == ('SGD', 0.02, 0.9, 1e-4), relative
    assert cfg.optim_wrapper.paramwise_cfg.norm_decay_mult == 0
    if not claim['toy_iters']:
        # 8 GPUs x 2 images = the paper's batch of 16.
        assert cfg.train_dataloader.batch_size == 2
        assert cfg.auto_scale_lr.base_batch_size == 16


def _transform(pipeline, name):
    return next(t for t in pipeline if t['type'] == name)


def test_input_scales(row):
    relative, claim, cfg = row
    if not claim['data'].startswith('coco'):
        return
    dataset = cfg.train_dataloader.dataset
    while 'pipeline' not in dataset:  # RepeatDataset and friends
        dataset = dataset.dataset
    train = dataset.pipeline
    if claim['train_aug']:
        resize = _transform(train, 'RandomChoiceResize')
        assert sorted(s[1] for s in resize.scales) == list(
            range(640, 801, 32)), relative
        assert {s[0] for s in resize.scales} == {1333}
    else:
        assert tuple(_transform(train, 'Resize').scale) == (1333, 800)
    assert _transform(train, 'RandomFlip').prob == 0.5
    test = cfg.test_dataloader.dataset.pipeline
    assert tuple(_transform(test, 'Resize').scale) == (1333, 800), relative
    if claim['tta']:
        assert cfg.tta_model.type == 'BoxTTAModel'
        assert cfg.test_evaluator.metric == ['bbox']


def test_keypoint_rows(row):
    relative, claim, cfg = row
    if claim['algo'] != 'keypoint-rcnn':
        return
    roi_head = cfg.model.roi_head
    assert roi_head.type == 'KeypointRoIHead' and roi_head.mask_head is None
    assert roi_head.keypoint_roi_extractor.roi_layer.output_size == 14
    head = MODELS.build(cfg.model).roi_head.keypoint_head
    # The paper's head (Mask R-CNN Sec. 5): 8 convs, 56x56 heatmaps; the
    # toy keeps the shape at 32 channels.
    assert len(head.convs) == 8 and head.heatmap_size == 56
    assert {c.conv.out_channels for c in head.convs} == (
        {32} if claim['toy_iters'] else {512}), relative
    coco = claim['data'] == 'coco-person'
    assert head.num_keypoints == (17 if coco else 5)
    assert cfg.model.roi_head.bbox_head.num_classes == 1
    train = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert 'LoadKeypoints' in train and train[-1] == 'PackKeypointDetInputs'
    assert train.index('LoadKeypoints') > train.index('LoadAnnotations')
    metrics = {m['type']: m for m in cfg.val_evaluator}
    assert set(metrics) == {'FasterCocoMetric', 'CocoKeypointMetric'}
    # COCO: pycocotools' 17 person sigmas; the synthetic data sets its own.
    assert (metrics['CocoKeypointMetric'].get('sigmas') is None) == coco
    if coco:
        assert cfg.train_dataloader.dataset.ann_file == \
            'annotations/person_keypoints_train2017.json'


def test_coco_rows_evaluate_with_faster_coco_metric(row):
    relative, claim, cfg = row
    if claim['data'].startswith('voc'):
        assert cfg.val_evaluator.type == 'VOCMetric', relative
        return
    if claim['algo'] == 'keypoint-rcnn':
        return  # box (FasterCocoMetric) + keypoint metrics: test_keypoint_rows
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        assert evaluator.type == 'FasterCocoMetric', relative
    masks = claim['algo'] != 'faster-rcnn' and not claim['tta']
    assert cfg.test_evaluator.metric == (['bbox', 'segm'] if masks else
                                         ['bbox'] if claim['tta'] else
                                         'bbox'), relative


def test_metafile_lists_every_row_with_verified_numbers_only():
    import yaml
    with open(osp.join(REPO_ROOT, 'configs', 'metafile.yml')) as f:
        models = yaml.safe_load(f)['Models']
    names = [m['Name'] for m in models]
    assert sorted(names) == sorted(
        osp.splitext(osp.basename(c))[0] for c in ALL_CONFIGS)
    for model in models:
        assert osp.isfile(osp.join(REPO_ROOT, model['Config']))
        assert osp.splitext(osp.basename(model['Config']))[0] == \
            model['Name']
    with open(osp.join(REPO_ROOT, 'docs', 'recipe.md')) as f:
        verified = set(re.findall(r'\d+\.\d', f.read()))
    numbers = [value for model in models for result in
               model.get('Results', []) for value in
               result['Metrics'].values()]
    assert numbers, 'no results at all'
    assert {str(v) for v in numbers} <= verified
    with open(osp.join(REPO_ROOT, 'model-index.yml')) as f:
        assert yaml.safe_load(f)['Import'] == ['configs/metafile.yml']


@pytest.mark.parametrize('relative', CLASSIFIER_CONFIGS)
def test_classifier_configs(relative):
    """A pre-training config trains the very backbone its toy detector
    builds (so the exported checkpoint loads key for key), from scratch,
    for the iterations its name states."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', relative))
    stem = osp.splitext(osp.basename(relative))[0]
    iters = re.fullmatch(r'toy-(\d+)i', stem.split('_')[-2])
    assert iters and cfg.train_cfg.max_iters == int(iters.group(1))
    detector = Config.fromfile(osp.join(
        REPO_ROOT, 'configs', 'toy',
        'mask-rcnn_r18-tiny-scratch_fpn_gn-all_toy-1200i_synthetic-coco.py'))
    assert cfg.model.backbone == detector.model.backbone
    model = MODELS.build(cfg.model)
    assert scratch_problems(model.backbone) == []
    assert cfg.param_scheduler[1].type == 'DropBeforeEndLR'
