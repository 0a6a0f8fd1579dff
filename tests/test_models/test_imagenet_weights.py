"""Every pre-trained row feeds its ImageNet weights the input they were
trained on (rethink_mmdet/models/imagenet_weights.py), and the scratch
rows it is compared with use the same normalization."""
import glob
import hashlib
import json
import os.path as osp
import re
import sys

import mmengine
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config

from rethink_mmdet.models.imagenet_weights import (
    IMAGENET_WEIGHTS,
    imagenet_names,
    imagenet_problems,
    preprocessing_problem,
    resolve_imagenet_checkpoint,
)
from rethink_mmdet.models.layers import is_group_norm
from rethink_mmdet.testing import REPO_ROOT, run_tool, tool_env

ROWS = sorted(
    osp.relpath(p, osp.join(REPO_ROOT, 'configs'))
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py'))
    if not osp.basename(p).startswith('classifier_'))
PRETRAINED = [r for r in ROWS if '-pretrained' in osp.basename(r)]


def _cfg(relative):
    return Config.fromfile(osp.join(REPO_ROOT, 'configs', relative))


def _preprocessing(cfg):
    pre = cfg.model.data_preprocessor
    return ([round(v, 3) for v in pre.mean], [round(v, 3) for v in pre.std],
            bool(pre.get('bgr_to_rgb', False)))


def _comparison_key(relative):
    """The row with init and schedule taken out: rows that differ only in
    those are compared with each other in the paper."""
    fields = osp.splitext(osp.basename(relative))[0].split('_')
    fields[1] = re.sub(r'-(pretrained|scratch)$', '', fields[1])
    return osp.dirname(relative), tuple(fields[:-2] + fields[-1:])


def _norm_family(cfg):
    norm = (cfg.model.backbone.get('norm_cfg') or {}).get('type')
    if norm is None:
        return None
    return 'GN' if is_group_norm(norm) else 'BN'


def test_every_pretrained_row_is_found():
    assert len(PRETRAINED) >= 15


@pytest.mark.parametrize('relative', PRETRAINED)
def test_pretrained_row_input_matches_its_weights(relative):
    cfg = _cfg(relative)
    names = {name for _, name in imagenet_names(cfg.model)}
    assert names, f'{relative} loads no imagenet:// checkpoint'
    for name in names:
        weights = IMAGENET_WEIGHTS[name]
        assert preprocessing_problem(cfg.model, name) is None, relative
        assert _norm_family(cfg) == weights.norm, (relative, name)


@pytest.mark.parametrize('relative', PRETRAINED)
def test_scratch_counterparts_share_the_normalization(relative):
    key = _comparison_key(relative)
    partners = [r for r in ROWS if '-scratch' in osp.basename(r)
                and _comparison_key(r) == key]
    assert partners, f'{relative}: no scratch row to compare with'
    expected = _preprocessing(_cfg(relative))
    for partner in partners:
        assert _preprocessing(_cfg(partner)) == expected, partner


def test_a_disagreeing_preprocessor_is_named():
    cfg = _cfg('schedule-study/mask-rcnn_r50-pretrained_fpn_gn-all_2x_coco.py')
    cfg.model.data_preprocessor.bgr_to_rgb = True
    problem = preprocessing_problem(cfg.model, 'resnet50_gn')
    assert 'expects BGR input with mean [103.53, 116.28, 123.675]' in problem
    assert "'bgr_to_rgb': True" in problem


#: The checkpoints the paper's pre-trained rows start from, by the aliases
#: MMDetection's configs load them with; mmengine resolves each alias with
#: the model-zoo tables it ships (mmengine/hub/*.json), which makes these
#: addresses independent of our table.
ALIASES = {'resnet50_gn': 'open-mmlab://detectron/resnet50_gn',
           'resnet101_gn': 'open-mmlab://detectron/resnet101_gn',
           'resnet50': 'torchvision://resnet50',
           'resnet101': 'torchvision://resnet101',
           'vgg16': 'torchvision://vgg16'}
HUB_TABLES = {'open-mmlab': 'openmmlab.json',
              'torchvision': 'torchvision_0.12.json'}
SHIPPED = osp.join(REPO_ROOT, 'rethink_mmdet', 'toy', 'pretrained',
                   'classifier_r18-tiny_gn_toy-12000i_synthetic-shapes')


def _mmengine_address(alias):
    scheme, name = alias.split('://')
    table = osp.join(osp.dirname(mmengine.__file__), 'hub',
                     HUB_TABLES[scheme])
    with open(table) as f:
        return json.load(f)[name]


def test_public_rows_are_the_checkpoints_mmengine_resolves():
    assert {n for n, w in IMAGENET_WEIGHTS.items() if w.url} == set(ALIASES)
    for name, alias in ALIASES.items():
        weights = IMAGENET_WEIGHTS[name]
        assert weights.url == _mmengine_address(alias), name
        assert f'({alias})' in weights.origin, name
        # The hash torch.hub checks a download against (check_hash=True).
        hub_hash = torch.hub.HASH_REGEX.search(osp.basename(weights.url))
        assert weights.sha256_prefix == hub_hash.group(1), name


def test_the_local_row_is_the_shipped_classifier():
    """The one row without an address (the study installs it from the
    shipped classifier) against the file itself and the config that
    trained it."""
    [(name, weights)] = [(n, w) for n, w in IMAGENET_WEIGHTS.items()
                         if not w.url]
    with open(SHIPPED + '.json') as f:
        record = json.load(f)
    with open(SHIPPED + '.pth', 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest() == record['sha256']
    assert record['config'] in weights.origin
    trained = _cfg(osp.relpath(record['config'], 'configs'))
    assert weights.data_preprocessor() == {
        k: trained.model.data_preprocessor[k]
        for k in ('mean', 'std', 'bgr_to_rgb')}

    # The layout the row claims: the detector backbone that loads
    # imagenet://NAME takes the classifier's backbone key for key, shape
    # for shape.
    state = torch.load(SHIPPED + '.pth', map_location='cpu',
                       weights_only=True)['state_dict']
    shipped = {k[len('backbone.'):]: tuple(v.shape) for k, v in
               state.items() if k.startswith('backbone.')}
    [row] = [r for r in PRETRAINED if r.startswith('toy/mask-rcnn')]
    cfg = _cfg(row)
    assert cfg.model.backbone.init_cfg.checkpoint == f'imagenet://{name}'
    cfg.model.backbone.pop('init_cfg')
    backbone = MODELS.build(cfg.model.backbone)
    assert shipped == {k: tuple(v.shape)
                       for k, v in backbone.state_dict().items()}
    # GN, as the row says: no BN running statistics in the file.
    assert weights.norm == 'GN' and 'gn1.weight' in shipped
    assert not [k for k in state if 'running_' in k]


def test_resolver(tmp_path, monkeypatch):
    monkeypatch.delenv('RETHINK_IMAGENET_DIR', raising=False)
    assert resolve_imagenet_checkpoint('resnet50_gn') == \
        IMAGENET_WEIGHTS['resnet50_gn'].url
    with pytest.raises(KeyError, match='no public address'):
        resolve_imagenet_checkpoint('toy-resnet18_gn_synthetic-shapes')
    monkeypatch.setenv('RETHINK_IMAGENET_DIR', str(tmp_path))
    (tmp_path / 'resnet50_gn.pth').write_bytes(b'x')
    assert resolve_imagenet_checkpoint('resnet50_gn') == str(
        tmp_path / 'resnet50_gn.pth')
    cfg = _cfg('table1/mask-rcnn_r101-pretrained_fpn_gn-all_2x_coco.py')
    [problem] = imagenet_problems(cfg.model)
    assert 'resnet101_gn.pth does not exist' in problem


def test_train_stops_in_seconds_when_a_checkpoint_is_missing(tmp_path):
    config = osp.join(REPO_ROOT, 'configs', 'toy',
                      'mask-rcnn_r18-tiny-pretrained_fpn_gn-all_toy-1200i_'
                      'synthetic-coco.py')
    env = dict(tool_env(), RETHINK_IMAGENET_DIR=str(tmp_path))
    # data_root points nowhere: the pre-flight must come first.
    result = run_tool([sys.executable, 'tools/train.py', config,
                       '--work-dir', str(tmp_path / 'work'), '--data-root',
                       str(tmp_path / 'no-data')], returncode=2, env=env)
    [line] = [x for x in result.stderr.splitlines() if 'error' in x]
    assert line == result.stderr.strip().splitlines()[-1]
    assert line.startswith('error: imagenet://toy-resnet18_gn_synthetic-'
                           'shapes: RETHINK_IMAGENET_DIR=')
    assert 'fetch_imagenet_weights.py' in line
    assert not (tmp_path / 'work').exists() or not any(
        (tmp_path / 'work').rglob('*.pth'))
