"""The toy study: its schedules, ETA and report, and a reduced run end to
end through tools/study.py (the same pipeline as `make study`)."""
import csv
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from rethink_mmdet.analysis import RunLog, read_work_dir
from rethink_mmdet.engine.schedulers import rule_drop_points
from rethink_mmdet.study.execute import Progress, resume_argument
from rethink_mmdet.study.plan import SCALES, Run, plan_runs
from rethink_mmdet.study.report import claims
from rethink_mmdet.testing import REPO_ROOT, read_run_checkpoint


def test_schedules_follow_the_papers_rule_scaled_to_the_toy(tmp_path):
    runs = plan_runs(SCALES['full'], str(tmp_path), '/data', seed=3,
                     subset_ann='/data/sub.json')
    by_label = {run.label: run for run in runs}
    # 1x = 200 iterations: the standard 1x's drops at 2/3 and 8/9 of it;
    # Nx: the last 2/3 and 2/9 of a 1x (60k and 20k of 90k).
    expected = {'pre-trained 1x': (200, [133, 178]),
                'pre-trained 2x': (400, [267, 356]),
                'scratch 2x': (400, [267, 356]),
                'scratch 4x': (800, [667, 756])}
    for label, (iters, drops) in expected.items():
        cfg = Config.fromfile(by_label[label].config)
        assert cfg.train_cfg.max_iters == iters == by_label[label].max_iters
        assert rule_drop_points(cfg.param_scheduler[1], iters) == drops
        assert cfg.randomness == dict(seed=3, deterministic=True)
        assert cfg.train_dataloader.dataset.data_root == '/data/'
    small = [run for run in runs if run.train_images]
    assert {run.label for run in small} == {
        'scratch 2x, 200 images', 'pre-trained 1x, 200 images'}
    for run in small:
        cfg = Config.fromfile(run.config)
        assert cfg.train_dataloader.dataset.ann_file == '/data/sub.json'
    pretrained = Config.fromfile(by_label['pre-trained 1x'].config)
    assert pretrained.model.backbone.init_cfg.checkpoint.startswith(
        'imagenet://')
    assert runs[0].kind == 'pretrain'


def test_resume_argument(tmp_path):
    run = Run('r', 'detection', 8, 'c.py', str(tmp_path))
    assert resume_argument(run) == ([], 0)
    (tmp_path / 'iter_4.pth').touch()
    assert resume_argument(run) == (['--resume'], 4)
    # Final checkpoint without the final validation: redo from the one
    # before, so the validation runs.
    (tmp_path / 'iter_8.pth').touch()
    assert resume_argument(run) == (
        ['--resume', str(tmp_path / 'iter_4.pth')], 4)


def test_progress_eta_uses_measured_rates():
    now = [0.0]
    lines = []
    runs = [Run('a', 'pretrain', 10, '', ''), Run('b', 'detection', 20, '',
                                                  '', init='scratch',
                                                  times=2)]
    progress = Progress(runs, (1.0, 2.0), lines.append, lambda: now[0])
    assert progress.eta() == 10 * 1.0 + 20 * 2.0
    progress.begin(runs[0])
    now[0] = 15.0
    progress.update(runs[0], 5, 0)  # 3 s per pre-training iteration
    assert progress.eta() == 5 * 3.0 + 20 * 2.0
    assert '15s elapsed' in lines[-1] and '~55s left' in lines[-1]
    assert 'iteration 5/10' in lines[-1]


def _log(name, val):
    return RunLog(work_dir=name, name=name, val={
        it: {'coco/bbox_mAP': ap, 'coco/bbox_mAP_50': ap + 0.2,
             'coco/bbox_mAP_75': ap - d75, 'coco/segm_mAP': ap / 2}
        for it, (ap, d75) in val.items()})


def _run(init, times, images=None):
    return Run(f'{init}{times}{images}', 'detection', 100 * times, '', '',
               init=init, times=times, train_images=images)


def test_report_states_what_was_measured_either_way():
    pretrain = RunLog('p', 'p', val={30: {'cls/top1': 42.5}})
    pairs = [
        (_run('scratch', 2), _log('s2', {100: (0.05, 0.01),
                                         200: (0.30, 0.01)})),
        (_run('scratch', 4), _log('s4', {100: (0.04, 0.01),
                                         400: (0.36, 0.0)})),
        (_run('pretrained', 1), _log('p1', {100: (0.20, 0.02)})),
        (_run('scratch', 2, 50), _log('s2s', {100: (0.10, 0.0),
                                              200: (0.08, 0.0)})),
        (_run('pretrained', 1, 50), _log('p1s', {100: (0.15, 0.0)})),
    ]
    text = '\n'.join(claims(pairs, pretrain, chance=2.5))
    assert 'top-1 accuracy 42.5%' in text and 'chance: 2.5%' in text
    # Early: first shared validation at 100: pre-trained 20.0 vs 5.0.
    assert ('iteration 100, the first validation, pre-trained runs reach '
            '20.0 box AP and scratch runs 5.0: pre-training is ahead of '
            'scratch by 15.0 AP') in text
    # Final: scratch 4x 36.0 vs pre-trained 1x 20.0 -> scratch ahead.
    assert 'scratch 4x) ends at 36.0' in text
    assert 'scratch is ahead of pre-training by 16.0 AP' in text
    assert 'scratch 2x 30.0, 4x 36.0; pre-trained 1x 20.0' in text
    # AP75 gap (36-0)-(20-2)=18 vs AP50 gap 16: more favourable to scratch.
    assert '+16.0 AP50 and +18.0 AP75' in text
    assert 'more favourable to scratch' in text
    assert 'on 50 training images' in text
    assert 'scratch is behind pre-training by 7.0 AP' in text
    assert 'scratch 10.0 / 8.0, pre-trained 15.0 / 15.0' in text

    # The other way round: the words follow the numbers.
    pairs[2] = (_run('pretrained', 1), _log('p1', {100: (0.40, 0.0)}))
    text = '\n'.join(claims(pairs, pretrain, chance=2.5))
    assert 'scratch is behind pre-training by 4.0 AP' in text


@pytest.mark.slow
def test_tiny_study_end_to_end_and_rerun(tmp_path):
    out = tmp_path / 'study'
    command = [sys.executable, 'tools/study.py', '--scale', 'tiny', '--out',
               str(out), '--seed', '1']
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    first = subprocess.run(command, cwd=REPO_ROOT, env=env,
                           capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert 'left]' in first.stdout  # progress lines with an ETA
    for name in ('curves.png', 'curves.csv', 'table.md', 'report.md',
                 'timings.json'):
        assert (out / name).is_file(), name
    assert (out / 'pretrain' /
            'toy-resnet18_gn_synthetic-shapes.pth').is_file()

    runs = {osp.basename(d): read_work_dir(str(d))
            for d in (out / 'runs').iterdir() if 'mask-rcnn' in d.name}
    assert len(runs) == 2
    # The CSV holds exactly the logged validations.
    with open(out / 'curves.csv') as f:
        rows = list(csv.DictReader(f))
    logged = sorted((it, key, round(rec[key], 6))
                    for log in runs.values() for it, rec in log.val.items()
                    for key in ('coco/bbox_mAP', 'coco/segm_mAP'))
    assert sorted((int(r['iteration']), r['metric'],
                   round(float(r['value']), 6)) for r in rows) == logged
    # Table and report show each run's final box AP, in %.
    table = (out / 'table.md').read_text()
    report = (out / 'report.md').read_text()
    for name, log in runs.items():
        final = f'{100 * log.val[max(log.val)]["coco/bbox_mAP"]:.1f}'
        assert name in table and final in table
        assert final in report
    assert 'Claim 3, early convergence' in report
    assert 'top-1 accuracy' in report

    done = {p: p.stat().st_mtime for p in out.glob('runs/*/study_done.json')}
    assert len(done) == 3
    second = subprocess.run(command, cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stdout.count('already trained') == 3
    assert {p: p.stat().st_mtime for p in done} == done
    with open(out / 'timings.json') as f:
        assert len(json.load(f)['runs']) == 3


@pytest.mark.slow
def test_a_study_run_is_deterministic_for_its_seed(tmp_path, tiny_coco):
    """Two trainings of the same study config give the same weights."""
    import torch
    runs = plan_runs(SCALES['tiny'], str(tmp_path), tiny_coco, seed=4)
    scratch = next(run for run in runs if run.init == 'scratch')
    weights = []
    for attempt in range(2):
        work_dir = tmp_path / f'attempt{attempt}'
        result = subprocess.run(
            [sys.executable, 'tools/train.py', scratch.config,
             '--work-dir', str(work_dir), '--cfg-options',
             'train_cfg.max_iters=3', 'train_cfg.val_interval=3',
             'default_hooks.checkpoint.interval=3',
             'param_scheduler.1.drops_before_end=[1]'],
            cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=REPO_ROOT),
            capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        weights.append(
            read_run_checkpoint(work_dir / 'iter_3.pth')['state_dict'])
    assert weights[0].keys() == weights[1].keys()
    for key, value in weights[0].items():
        assert torch.equal(value, weights[1][key]), key
