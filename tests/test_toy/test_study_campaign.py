"""The study as a local campaign: its rows, its plan growing with more
seeds, the error naming failed runs, and a reduced study end to end
through tools/study.py (the same pipeline as `make study`), then again
with a second seed, and tools/campaign.py status on its runs."""
import csv
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from rethink_mmdet.analysis import read_work_dir
from rethink_mmdet.campaign.campaign_dir import Campaign
from rethink_mmdet.runner import UsageError
from rethink_mmdet.testing import REPO_ROOT
from rethink_mmdet.toy.pretraining import check_shipped
from rethink_mmdet.toy.study_execute import (
    PLANNER,
    failed_runs_error,
    study_rows,
)
from rethink_mmdet.toy.study_plan import SCALES, plan_runs


def _runs(tmp_path, seeds, pretrain=True):
    return plan_runs(SCALES['tiny'], str(tmp_path / 'out'), '/data', seeds,
                     subset_anns={8: '/data/sub8.json'}, pretrain=pretrain)


def test_one_row_per_run_fine_tunings_after_the_pre_training(tmp_path):
    runs = _runs(tmp_path, [0])
    rows = study_rows(runs)
    assert [row.name for row in rows] == [run.name for run in runs]
    pretrain = rows[0]
    assert pretrain.name.startswith('classifier_') and pretrain.after == ()
    for run, row in zip(runs[1:], rows[1:]):
        assert (row.config, row.max_iters) == (run.config, run.max_iters)
        assert row.after == ((pretrain.name,) if run.init == 'pretrained'
                             else ())
    # With the shipped pre-training, nothing to wait for.
    assert all(row.after == () for row in study_rows(
        _runs(tmp_path, [0], pretrain=False)))


def test_the_studys_plan_grows_with_its_seeds_and_refuses_others(tmp_path):
    folder = str(tmp_path / 'out' / 'runs')
    one = study_rows(_runs(tmp_path, [0]))
    two = study_rows(_runs(tmp_path, [0, 1]))
    assert Campaign.grow(folder, one, PLANNER).rows == one
    assert Campaign.grow(folder, two, PLANNER).rows == two
    # Fewer seeds again: the plan keeps the rows trained before, after
    # this invocation's.
    again = Campaign.grow(folder, one, PLANNER)
    assert again.rows == one + [row for row in two if row not in one]
    with open(osp.join(folder, 'campaign.json')) as f:
        assert json.load(f)['planner'] == PLANNER
    # tools/campaign.py opens it as any campaign (status), and refuses to
    # submit other rows there.
    assert Campaign.open(folder).rows == again.rows
    with pytest.raises(UsageError, match='holds another plan'):
        Campaign.open(folder, one)
    # A row of the same name training something else (another scale's
    # length) would reuse the wrong work_dir.
    other_scale = plan_runs(SCALES['full'], str(tmp_path / 'out'), '/data',
                            [0], pretrain=False)
    with pytest.raises(UsageError, match='holds a plan whose row '
                       'faster-rcnn_r18-tiny-scratch_fpn_gn-all_study-2x'
                       '-s0_synthetic-coco is 8 iterations'):
        Campaign.grow(folder, study_rows(other_scale), PLANNER)
    # Without its pre-training the fine-tunings wait for nothing: the same
    # work_dirs, another order.
    shipped = study_rows(_runs(tmp_path, [0], pretrain=False))
    assert Campaign.grow(folder, shipped, PLANNER).rows[:len(shipped)] == (
        shipped)
    # A plan written by tools/campaign.py is not the study's to rewrite.
    Campaign.open(str(tmp_path / 'theirs'), one[:2])
    with pytest.raises(UsageError, match='holds another plan'):
        Campaign.grow(str(tmp_path / 'theirs'), one, PLANNER)
    assert Campaign.grow(str(tmp_path / 'theirs'), one[:2],
                         PLANNER).rows == one[:2]


def test_the_error_names_each_failed_run_its_reason_and_log(tmp_path):
    runs = _runs(tmp_path, [0])
    campaign = Campaign.grow(str(tmp_path / 'out' / 'runs'),
                             study_rows(runs), PLANNER)
    pretrain, detections = runs[0], runs[1:]
    for run in detections[1:]:
        os.makedirs(run.work_dir)
        with open(osp.join(run.work_dir, 'finished.json'), 'w') as f:
            f.write('{}')
    os.makedirs(pretrain.work_dir)
    log = osp.join(pretrain.work_dir, 'train.log')
    with open(log, 'w') as f:
        f.write('Traceback (most recent call last):\n'
                'RuntimeError: the classifier broke\n')
    results = {run.name: 0 for run in detections[1:]}
    results.update({pretrain.name: 1, detections[0].name: None})
    why = f'needs {pretrain.name}, which did not finish'
    error = str(failed_runs_error(campaign, runs, results,
                                  {detections[0].name: why}))
    assert error.splitlines() == [
        f'2 of the study\'s {len(runs)} runs did not finish (the others '
        'did; a re-run trains only these):',
        f'- {pretrain.name}: exit 1, RuntimeError: the classifier broke; '
        f'its log: {log}',
        f'- {detections[0].name}: not run ({why})']
    # Exit 0 without finished.json (a stopped run) is not finished either.
    results[pretrain.name] = 0
    assert f'- {pretrain.name}: exit 0' in str(failed_runs_error(
        campaign, runs, results, {}))
    assert failed_runs_error(campaign, runs[2:], results, {}) is None


def _run_study(out, seeds, timeout=900):
    command = [sys.executable, 'tools/study.py', '--scale', 'tiny', '--out',
               str(out), '--seed', '1', '--seeds', str(seeds), '--pretrain']
    result = subprocess.run(command, cwd=REPO_ROOT,
                            env=dict(os.environ, PYTHONPATH=REPO_ROOT),
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (result.stdout[-3000:] +
                                    result.stderr[-3000:])
    return result.stdout


@pytest.mark.slow
def test_tiny_study_end_to_end_then_with_a_second_seed(tmp_path):
    out = tmp_path / 'study'
    first = _run_study(out, 1)
    assert 'left]' in first  # progress lines with an ETA
    assert '== 2/4 pre-training' in first
    assert '== 3/4 detection 1/5:' in first
    assert '== 3/4 detection 5/5:' in first
    # The campaign's status table, every row done.
    assert first.split('== 4/4')[0].rstrip().endswith('6 done')
    for name in ('curves.png', 'curves.csv', 'pretrain_curve.png',
                 'table.md', 'report.md', 'timings.json'):
        assert (out / name).is_file(), name
    assert (out / 'pretrain' /
            'toy-resnet18_gn_synthetic-shapes.pth').is_file()
    # The pre-training in the shipped format, ready to replace it.
    record = check_shipped(str(out / 'pretrain'))
    assert record['iterations'] == SCALES['tiny'].pretrain_iters
    assert record['seed'] == 1

    runs = {osp.basename(d): read_work_dir(str(d))
            for d in (out / 'runs').iterdir() if 'faster-rcnn' in d.name}
    assert len(runs) == 5
    # Validated at 1/4 and 1/2 of the 1x (4 iterations), then every 1x.
    for name, log in runs.items():
        length = 8 if '-2x-' in name else 4
        assert sorted(log.val) == [1, 2] + list(range(4, length + 1, 4)), (
            name)
    # The CSV holds exactly the logged validations (one seed: the mean,
    # min and max of each run's group are its values).
    with open(out / 'curves.csv') as f:
        rows = list(csv.DictReader(f))
    logged = sorted((it, key, round(rec[key], 6))
                    for log in runs.values() for it, rec in log.val.items()
                    for key in ('coco/bbox_mAP', 'coco/segm_mAP')
                    if key in rec)
    # Faster R-CNN: box AP only.
    assert {key for _, key, _ in logged} == {'coco/bbox_mAP'}
    assert sorted((int(r['iteration']), r['metric'],
                   round(float(r['mean']), 6)) for r in rows) == logged
    assert all(r['seeds'] == '1' and r['min'] == r['mean'] == r['max']
               for r in rows)
    # Table and report show each run's final box AP, in %.
    table = (out / 'table.md').read_text()
    report = (out / 'report.md').read_text()
    for name, log in runs.items():
        final = f'{100 * log.val[max(log.val)]["coco/bbox_mAP"]:.1f}'
        assert name in table and final in table
        assert final in report
    for claim in ('Pre-training', 'Convergence', 'Catching up',
                  'Plateaus', 'Less data', 'Localization'):
        assert f'**{claim}**' in report
    # Judged at equal schedules: scratch 2x against pre-trained 2x.
    assert 'Measured: scratch 2x ' in report
    assert ', pre-trained 2x ' in report.split('**Catching up**')[1]
    # Every run trained now: each on the time line with its minutes.
    assert '## Time line' in report
    assert '6 runs trained, 0 reused' in report
    status = subprocess.run(
        [sys.executable, 'tools/campaign.py', 'status', '--campaign-dir',
         str(out / 'runs')], cwd=REPO_ROOT, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT), timeout=300)
    assert status.returncode == 0, status.stderr[-3000:]
    assert status.stdout.rstrip().endswith('6 done')
    # The pre-training's row: its last held-out top-1, in %.
    pretrain = next((out / 'runs').glob('classifier_*'))
    top1 = read_work_dir(str(pretrain)).metric('cls/top1')
    assert re.search(rf'{pretrain.name} +done +3/3 +{top1[3]:.1f} ',
                     status.stdout), status.stdout

    done = {p: p.stat().st_mtime for p in out.glob('runs/*/finished.json')}
    assert len(done) == 6
    # A second seed: the plan grows, the first seed's runs are reused.
    second = _run_study(out, 2)
    assert second.count('already trained') == 6
    assert {p: p.stat().st_mtime for p in done} == done
    with open(out / 'timings.json') as f:
        timings = json.load(f)
    assert len(timings['runs']) == 11
    assert sorted(timings['time_line']) == sorted(
        name for name in timings['runs'] if '-s2_' in name)
    assert '5 runs trained, 6 reused' in (out / 'report.md').read_text()
    assert len(Campaign.open(str(out / 'runs')).rows) == 11
