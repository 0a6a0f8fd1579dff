"""Every pre-trained row feeds its ImageNet weights the input they were
trained on (rethink_mmdet/models/imagenet_weights.py), and the scratch
rows it is compared with use the same normalization."""
import glob
import os.path as osp
import re
import sys

import pytest
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


def test_table_rows_are_complete():
    for name, weights in IMAGENET_WEIGHTS.items():
        assert weights.channel_order in ('BGR', 'RGB'), name
        assert len(weights.mean) == len(weights.std) == 3, name
        assert weights.key_layout and weights.origin, name
        if weights.url:
            assert weights.url.endswith(f'-{weights.sha256_prefix}.pth')


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
