"""collect on hand-written work_dirs: every number in the metafile and
the tables is worked out by hand below from the logs written here."""
import json
import os
import os.path as osp
from collections import OrderedDict

import numpy as np
import pytest
import torch
import yaml

from rethink_mmdet.campaign.campaign_dir import Campaign
from rethink_mmdet.campaign.collect import collect
from rethink_mmdet.campaign.row_sets import Row
from rethink_mmdet.runner import UsageError
from rethink_mmdet.testing import REPO_ROOT

SCRATCH = 'mask-rcnn_r50-scratch_fpn_gn-all_3x_coco'
PRETRAINED = 'mask-rcnn_r50-pretrained_fpn_gn-all_3x_coco'
TTA = 'mask-rcnn_r50-scratch_fpn_gn-all_3x-tta_coco'
WAITING = 'mask-rcnn_r50-scratch_fpn_gn-all_6x_coco'
NO_CHECKPOINT = 'mask-rcnn_r50-pretrained_fpn_gn-all_2x_coco'


def _config(name):
    return osp.join(REPO_ROOT, 'configs', 'schedule-study', f'{name}.py')


def _val(step, box, segm):
    return {'coco/bbox_mAP': box, 'coco/bbox_mAP_50': box + 0.2,
            'coco/bbox_mAP_75': box + 0.05, 'coco/segm_mAP': segm,
            'coco/segm_mAP_50': segm + 0.2, 'coco/segm_mAP_75': segm + 0.02,
            'data_time': 0.01, 'time': 9.0, 'step': step}


def _write_run(work_dir, stamp, records):
    folder = work_dir / stamp / 'vis_data'
    folder.mkdir(parents=True)
    (folder / 'scalars.json').write_text(
        ''.join(json.dumps(r) + '\n' for r in records))


def _train(it, time, memory):
    return {'lr': 0.02, 'loss': 1.0, 'time': time, 'memory': memory,
            'iter': it, 'step': it}


def _checkpoint(path, seed):
    torch.save(dict(
        meta=dict(seed=np.int64(seed), loss=np.float32(0.5),
                  history=np.arange(3), iter=200),
        state_dict=OrderedDict(w=torch.arange(4.0) * seed),
        optimizer=dict(state={}, param_groups=[dict(lr=0.02)])), path)


@pytest.fixture
def campaign(tmp_path):
    rows = [Row(SCRATCH, _config(SCRATCH), 200),
            Row(PRETRAINED, _config(PRETRAINED), 200),
            Row(TTA, _config(SCRATCH), 0, tta_of=SCRATCH),
            Row(WAITING, _config(WAITING), 540000),
            Row(NO_CHECKPOINT, _config(NO_CHECKPOINT), 200)]
    campaign = Campaign(str(tmp_path / 'campaign'), rows)
    root = tmp_path / 'campaign'
    # Scratch: stopped after logging 150 with its checkpoint at 100, then
    # resumed from 100: the second run's 150 replaces the first's.
    _write_run(root / SCRATCH, '20260101_000000', [
        _train(50, 0.5, 1000), _train(100, 0.6, 1100),
        _val(100, 0.3, 0.25), _train(150, 0.7, 1200)])
    _write_run(root / SCRATCH, '20260101_010000', [
        _train(150, 0.4, 900), _train(200, 0.5, 950),
        _val(200, 0.4, 0.355)])
    _write_run(root / PRETRAINED, '20260101_000000', [
        _train(100, 1.0, 2048), _train(200, 2.0, 3072),
        _val(200, 0.41, 0.37)])
    _write_run(root / NO_CHECKPOINT, '20260101_000000', [
        _train(200, 1.0, 2048), _val(200, 0.4, 0.35)])
    (root / WAITING).mkdir()
    for name, seed in ((SCRATCH, 1), (PRETRAINED, 2)):
        _checkpoint(root / name / 'iter_200.pth', seed)
    for name in (SCRATCH, PRETRAINED, NO_CHECKPOINT):
        (root / name / 'finished.json').write_text(json.dumps(
            dict(kind='train', iter=200, finished=1.0)))
    (root / TTA).mkdir()
    (root / TTA / 'finished.json').write_text(json.dumps(dict(
        kind='test', iter=0, finished=2.0,
        metrics={'coco/bbox_mAP': 0.43, 'coco/bbox_mAP_50': 0.6})))
    return campaign


def test_metafile_entries_hold_the_logged_numbers(campaign):
    result = collect(campaign)
    assert result['waiting'] == [WAITING]
    assert list(result['problems']) == [NO_CHECKPOINT]
    assert 'iter_200.pth does not exist' in result['problems'][NO_CHECKPOINT]
    with open(osp.join(campaign.folder, 'collect', 'metafile.yml')) as f:
        models = {m['Name']: m for m in yaml.safe_load(f)['Models']}
    assert list(models) == [SCRATCH, PRETRAINED, TTA]
    scratch, pretrained, tta = (models[n] for n in (SCRATCH, PRETRAINED,
                                                     TTA))
    # 0.5 x 50 + 0.6 x 50 + 0.4 x 50 (the resumed run's 150) + 0.5 x 50;
    # the interrupted run's 150 is not counted; its 1200 MiB was reached.
    assert scratch['Metadata'] == {
        'Training Data': 'COCO', 'Iterations': 200,
        'Training Time (s)': 100.0, 'Time per Iteration (s)': 0.5,
        'Training Memory (GB)': 1.17}
    assert pretrained['Metadata']['Training Time (s)'] == 300.0
    assert pretrained['Metadata']['Time per Iteration (s)'] == 1.5
    assert pretrained['Metadata']['Training Memory (GB)'] == 3.0
    assert scratch['Results'] == [
        dict(Task='Object Detection', Dataset='COCO',
             Metrics={'box AP': 40.0}),
        dict(Task='Instance Segmentation', Dataset='COCO',
             Metrics={'mask AP': 35.5})]
    assert tta['Results'] == [dict(Task='Object Detection', Dataset='COCO',
                                   Metrics={'box AP': 43.0})]
    assert tta['Weights'] == scratch['Weights'] == result['published'][
        SCRATCH]
    assert tta['Metadata'] == {'Training Data': 'COCO', 'Evaluates': SCRATCH,
                               'Iterations': 200}
    assert scratch['Config'] == (
        f'configs/schedule-study/{SCRATCH}.py')


def test_published_checkpoints_are_plain_and_named_by_their_hash(campaign):
    import hashlib
    published = collect(campaign)['published']
    for name, seed in ((SCRATCH, 1), (PRETRAINED, 2)):
        path = published[name]
        with open(path, 'rb') as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        assert osp.basename(path) == f'{name}-{sha[:8]}.pth'
        checkpoint = torch.load(path, weights_only=True)
        assert set(checkpoint) == {'meta', 'state_dict'}
        assert checkpoint['meta'] == dict(seed=seed, loss=0.5,
                                          history=[0, 1, 2], iter=200)
        assert type(checkpoint['meta']['seed']) is int
        assert torch.equal(checkpoint['state_dict']['w'],
                           torch.arange(4.0) * seed)
    # Collected again: the same files, not published twice.
    again = collect(campaign)['published']
    assert again == published
    assert sorted(os.listdir(osp.dirname(published[SCRATCH]))) == sorted(
        osp.basename(p) for p in published.values())
    # The training checkpoint is left whole.
    assert 'optimizer' in torch.load(
        osp.join(campaign.folder, SCRATCH, 'iter_200.pth'),
        weights_only=False)


def test_tables_show_the_runs_references_and_the_zoo(campaign):
    collect(campaign)
    text = open(osp.join(campaign.folder, 'collect', 'tables.md')).read()
    # Table 1: box AP50 AP75 mask AP50 AP75, Detectron's numbers, the gap.
    assert (f'| mask-rcnn_r50_fpn_gn-all_coco | random init | {SCRATCH} | '
            '40.0 | 60.0 | 45.0 | 35.5 | 55.5 | 37.5 | 39.5/35.2 '
            '(Detectron (docs/recipe.md)) | +0.5 |') in text
    assert (f'| mask-rcnn_r50_fpn_gn-all_coco | w/ pre-train | {PRETRAINED} '
            '| 41.0 | 61.0 | 46.0 | 37.0 | 57.0 | 39.0 | 40.8/36.1 '
            '(Detectron (docs/recipe.md)) | +0.2 |') in text
    assert ('| mask-rcnn_r50_fpn_gn-all_coco | Δ |  | -1.0 | -1.0 | -1.0 | '
            '-1.5 | -1.5 | -1.5 |  |  |') in text
    assert f'| {TTA} | {SCRATCH} | 40.0 | 43.0 | +3.0 |' in text
    # MMDetection's scratch Mask R-CNN 6x, from its own metafile.
    import mmdet
    with open(osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs',
                       'scratch', 'metafile.yml')) as f:
        zoo = {m['Config']: m for m in yaml.safe_load(f)['Models']}
    entry = zoo['configs/scratch/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py']
    box = entry['Results'][0]['Metrics']['box AP']
    mask = entry['Results'][1]['Metrics']['mask AP']
    assert (f'| {SCRATCH} | 39.5/35.2 | 40.0/35.5 | '
            f'mask-rcnn_r50-scratch_fpn_gn-all_6x_coco | {box:.1f}/'
            f'{mask:.1f} | nearest schedule (6x) |') in text
    # Runs: 100 s = 0.028 h, 2 runs (started, resumed), 1200 MiB.
    assert f'| {SCRATCH} | 200 | 2 | 0.028 | 0.5000 | 1.17 | {SCRATCH}-' \
        in text
    plain = open(osp.join(campaign.folder, 'collect', 'tables.txt')).read()
    assert 'Table 1' in plain and '|' not in plain


def test_mim_and_compare_zoo_read_the_model_index(campaign, capsys):
    from mim.commands.search import convert2df
    from modelindex.load_model_index import load

    from rethink_mmdet.cli.compare_zoo import main
    result = collect(campaign)
    table = convert2df(load(result['model_index']))
    assert sorted(table.index) == sorted([SCRATCH, PRETRAINED, TTA])
    assert table.loc[SCRATCH, 'coco/box_ap'] == 40.0
    assert table.loc[SCRATCH, 'coco/mask_ap'] == 35.5
    assert table.loc[TTA, 'coco/box_ap'] == 43.0
    assert table.loc[TTA, 'weight'] == result['published'][SCRATCH]
    assert table.loc[PRETRAINED, 'weight'] == result['published'][
        PRETRAINED]
    assert table.loc[SCRATCH, 'training_time(s)'] == 100.0
    main(['--metafile', result['metafile']])
    lines = capsys.readouterr().out.splitlines()
    shown = {line.split()[0]: line.split()[2] for line in lines[1:]}
    assert shown == {SCRATCH: '40.0/35.5', PRETRAINED: '41.0/37.0',
                     TTA: '43.0/-'}
    assert lines[1].split()[1] == '39.5/35.2'  # the paper's side


def test_nothing_finished_and_bad_metafiles_are_one_line(tmp_path, capsys):
    from rethink_mmdet.cli.common import run_main
    from rethink_mmdet.cli.compare_zoo import main
    empty = Campaign(str(tmp_path / 'c'), [Row(SCRATCH, _config(SCRATCH),
                                               200)])
    with pytest.raises(UsageError, match='no row of .* has finished'):
        collect(empty)
    bad = tmp_path / 'bad.yml'
    for text, why in (('Models: [{Results: []}]', "without 'Name'"),
                      ('Collections: []', 'no Models'),
                      ('Models: [', 'not a readable metafile')):
        bad.write_text(text)
        assert run_main(main, ['--metafile', str(bad)]) == 2
        err = capsys.readouterr().err
        assert why in err and len(err.splitlines()) == 1
