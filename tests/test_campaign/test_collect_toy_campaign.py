"""collect on a real campaign: two toy rows trained by tools/train.py for
4 iterations (the scratch one SIGKILLed after logging iteration 3, its
checkpoint at 2, then resumed) and a -tta evaluation of the scratch row by
tools/test.py --tta; every expected number is read from the logs, the
checkpoints and finished.json here, not through the code under test."""
import glob
import hashlib
import json
import os.path as osp
import sys
import time

import pytest
import torch
import yaml

from rethink_mmdet.campaign.campaign_dir import Campaign
from rethink_mmdet.campaign.collect import collect
from rethink_mmdet.campaign.local_executor import LocalExecutor, row_run
from rethink_mmdet.campaign.row_sets import Row
from rethink_mmdet.models.classifier import export_backbone
from rethink_mmdet.runner.configs import config_path, configs_root
from rethink_mmdet.runner.launch import Launched
from rethink_mmdet.testing import (
    TOY_CONFIG,
    as_cli_options,
    read_run_checkpoint,
    run_tool,
    tool_env,
    toy_overrides,
)
from rethink_mmdet.toy.pretraining import shipped_paths

pytestmark = pytest.mark.slow

PRETRAINED_CONFIG = config_path(
    'toy/mask-rcnn_r18-tiny-pretrained_fpn_gn-all_toy-1200i_synthetic-coco.py')
SCRATCH = osp.splitext(osp.basename(TOY_CONFIG))[0]
PRETRAINED = osp.splitext(osp.basename(PRETRAINED_CONFIG))[0]
TTA = SCRATCH.replace('_toy-1200i_', '_toy-1200i-tta_')
# Two scales x two flips of the toy's 128 px images; box AP only.
TTA_CONFIG = """_base_ = [{toy!r}, {tta!r}]
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale=(128, 96), keep_ratio=True),
         dict(type='Resize', scale=(128, 128), keep_ratio=True)],
        [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)],
        [dict(type='LoadAnnotations', with_bbox=True)],
        [dict(type='PackDetInputs', meta_keys=(
            'img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
            'flip', 'flip_direction'))]])]
test_evaluator = dict(metric=['bbox'])
"""
# Every iteration logged with its own time (a window of one).
PER_ITERATION = {'log_processor.window_size': 1}


def _options(data_root, config, **kwargs):
    return tuple(as_cli_options({**toy_overrides(data_root, 4,
                                                 config=config, **kwargs),
                                 **PER_ITERATION}))


def _scalar_files(work_dir):
    return sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))


def _records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope='module')
def campaign(tmp_path_factory, tiny_coco):
    root = tmp_path_factory.mktemp('campaign')
    tta_config = root.parent / f'{TTA}.py'
    tta_config.write_text(TTA_CONFIG.format(
        toy=TOY_CONFIG,
        tta=osp.join(configs_root(), '_base_', 'datasets', 'coco_tta.py')))
    rows = [Row(SCRATCH, TOY_CONFIG, 4,
                _options(tiny_coco, TOY_CONFIG, interval=2)),
            Row(PRETRAINED, PRETRAINED_CONFIG, 4,
                _options(tiny_coco, PRETRAINED_CONFIG)),
            Row(TTA, str(tta_config), 0,
                _options(tiny_coco, str(tta_config)), tta_of=SCRATCH)]
    campaign = Campaign.open(str(root), rows)
    # The pre-trained row's backbone: the shipped toy classifier's.
    imagenet = root.parent / 'imagenet'
    export_backbone(shipped_paths()['weights'],
                    str(imagenet / 'toy-resnet18_gn_synthetic-shapes.pth'))
    env = dict(tool_env(), RETHINK_IMAGENET_DIR=str(imagenet))
    work_dir = campaign.work_dir(rows[0])
    with open(root / 'killed.log', 'w') as log:
        started = Launched(row_run(campaign, rows[0], env=env), log,
                           new_session=True)
        deadline = time.time() + 600
        while time.time() < deadline and started.poll() is None and not any(
                r.get('iter') == 3 for p in _scalar_files(work_dir)
                for r in _records(p)):
            time.sleep(0.05)
        started.kill_group()
        started.wait()
    assert campaign.finished(rows[0]) is None, 'the kill came too late'
    statuses = LocalExecutor(campaign, jobs=2, env=env).run(rows)
    assert statuses == {SCRATCH: 0, PRETRAINED: 0, TTA: 0}, statuses
    return campaign, collect(campaign)


def test_training_time_counts_each_iteration_once(campaign):
    campaign, result = campaign
    with open(result['metafile']) as f:
        models = {m['Name']: m for m in yaml.safe_load(f)['Models']}
    assert list(models) == [SCRATCH, PRETRAINED, TTA]
    for name in (SCRATCH, PRETRAINED):
        files = _scalar_files(osp.join(campaign.folder, name))
        last_time, every_time, memory = {}, [], []
        for path in files:  # later runs replace what they repeat
            for record in _records(path):
                if 'iter' in record:
                    last_time[record['iter']] = record['time']
                    every_time.append(record['time'])
                    memory += [record['memory']] if 'memory' in record else []
        assert sorted(last_time) == [1, 2, 3, 4]
        seconds = sum(last_time.values())
        meta = models[name]['Metadata']
        assert meta['Training Time (s)'] == round(seconds, 1)
        assert meta['Time per Iteration (s)'] == round(seconds / 4, 4)
        assert meta['Iterations'] == 4
        assert memory == [] and 'Training Memory (GB)' not in meta  # CPU
        if name == SCRATCH:  # killed after 3, resumed from 2: 3 ran twice
            assert len(files) == 2 and len(every_time) > 4
        last = max((r for r in _records(files[-1]) if 'coco/bbox_mAP' in r),
                   key=lambda r: r['step'])
        assert last['step'] == 4
        assert models[name]['Results'] == [
            dict(Task='Object Detection', Dataset='synthetic-coco',
                 Metrics={'box AP': round(100 * last['coco/bbox_mAP'], 1)}),
            dict(Task='Instance Segmentation', Dataset='synthetic-coco',
                 Metrics={'mask AP': round(100 * last['coco/segm_mAP'], 1)})]
    with open(osp.join(campaign.folder, TTA, 'finished.json')) as f:
        evaluated = json.load(f)
    assert evaluated['kind'] == 'test'
    assert models[TTA]['Results'] == [dict(
        Task='Object Detection', Dataset='synthetic-coco',
        Metrics={'box AP': round(100 * evaluated['metrics']['coco/bbox_mAP'],
                                 1)})]
    assert models[TTA]['Weights'] == models[SCRATCH]['Weights']


def test_published_checkpoints_hold_the_final_weights_only(campaign):
    campaign, result = campaign
    for name in (SCRATCH, PRETRAINED):
        path = result['published'][name]
        with open(path, 'rb') as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        assert osp.basename(path) == f'{name}-{sha[:8]}.pth'
        published = torch.load(path, weights_only=True)
        trained = read_run_checkpoint(
            osp.join(campaign.folder, name, 'iter_4.pth'))
        assert 'optimizer' in trained and set(published) == {'meta',
                                                              'state_dict'}
        assert published['meta']['iter'] == 4
        assert list(published['state_dict']) == list(trained['state_dict'])
        for key, tensor in trained['state_dict'].items():
            assert torch.equal(published['state_dict'][key], tensor), key


def test_compare_zoo_and_mim_read_what_collect_wrote(campaign):
    from mim.commands.search import convert2df
    from modelindex.load_model_index import load
    campaign, result = campaign
    with open(result['metafile']) as f:
        models = {m['Name']: m for m in yaml.safe_load(f)['Models']}
    box = {n: m['Results'][0]['Metrics']['box AP'] for n, m in models.items()}
    out = run_tool([sys.executable, 'tools/analysis_tools/compare_zoo.py',
                    '--metafile', result['metafile']]).stdout
    shown = {line.split()[0]: line.split()[2]
             for line in out.splitlines()[1:]}
    assert {n: v.split('/')[0] for n, v in shown.items()} == {
        n: f'{b:.1f}' for n, b in box.items()}
    table = convert2df(load(result['model_index']))
    assert sorted(table.index) == sorted(models)
    for name, model in models.items():
        assert table.loc[name, 'synthetic-coco/box_ap'] == box[name]
        assert table.loc[name, 'weight'] == model['Weights']


def test_tables_pair_scratch_with_pre_trained(campaign):
    campaign, result = campaign
    text = open(result['tables']).read()
    model = 'mask-rcnn_r18-tiny_fpn_gn-all_synthetic-coco'
    for init, run in (('random init', SCRATCH), ('w/ pre-train', PRETRAINED)):
        assert f'| {model} | {init} | {run} |' in text
    assert f'| {model} | Δ |' in text
    assert f'| {TTA} | {SCRATCH} |' in text
    assert f'| {SCRATCH} | 4 | 2 |' in text  # 4 iterations, 2 runs
    assert f'| {PRETRAINED} | 4 | 1 |' in text
