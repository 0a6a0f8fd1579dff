"""The analysis tools on real logs of short toy training runs."""
import csv
import json
import shutil
import subprocess
import sys

import pytest

from rethink_mmdet.analysis import WorkDirError, read_work_dir
from rethink_mmdet.analysis.scratch_vs_pretrained import (
    build_rows,
    format_table,
)
from rethink_mmdet.testing import (
    REPO_ROOT,
    TOY_CONFIG,
    as_cli_options,
    toy_overrides,
)

pytestmark = pytest.mark.slow


def _train(work_dir, data_root, max_iters, *extra, **overrides):
    command = [sys.executable, 'tools/train.py', TOY_CONFIG, '--work-dir',
               str(work_dir), *extra,
               *as_cli_options(toy_overrides(data_root, max_iters,
                                             **overrides))]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope='module')
def runs(tmp_path_factory, tiny_coco):
    """A 4-iteration run validated every 2 iterations, and the same run
    stopped at 2 and resumed to 4 (a new timestamp folder)."""
    root = tmp_path_factory.mktemp('runs')
    _train(root / 'straight', tiny_coco, 4, interval=2)
    _train(root / 'resumed', tiny_coco, 2, interval=2, schedule_iters=4)
    _train(root / 'resumed', tiny_coco, 4, '--resume', interval=2)
    return root


def _scalars(work_dir):
    records = []
    for path in sorted(work_dir.glob('*/vis_data/scalars.json')):
        records += [json.loads(line) for line in path.read_text().split('\n')
                    if line.strip()]
    return records


def test_numbers_are_those_in_the_logs(runs):
    run = read_work_dir(str(runs / 'straight'))
    logged = [r for r in _scalars(runs / 'straight') if 'coco/bbox_mAP' in r]
    assert run.metric('coco/bbox_mAP') == {
        r['step']: r['coco/bbox_mAP'] for r in logged}
    assert list(run.val) == [2, 4]
    assert run.init == 'scratch'
    assert sorted(run.train) == [1, 2, 3, 4]
    assert run.lr_drops() == [2]  # toy_overrides: one drop half-way


def test_resumed_run_has_no_duplicated_or_missing_points(runs):
    run = read_work_dir(str(runs / 'resumed'))
    assert len(list((runs / 'resumed').glob('*/vis_data/scalars.json'))) == 2
    assert sorted(run.train) == [1, 2, 3, 4]
    assert sorted(run.val) == [2, 4]


def test_work_dir_without_validation_is_a_clear_error(tmp_path, runs):
    with pytest.raises(WorkDirError, match='no \\*/vis_data'):
        read_work_dir(str(tmp_path))
    no_val = tmp_path / 'no_val'
    shutil.copytree(runs / 'straight', no_val)
    for path in no_val.glob('*/vis_data/scalars.json'):
        path.write_text(''.join(
            line + '\n' for line in path.read_text().split('\n')
            if line.strip() and 'coco/' not in line))
    with pytest.raises(WorkDirError, match='no validation results'):
        read_work_dir(str(no_val))


def test_plot_curves_tool(runs, tmp_path):
    out = tmp_path / 'curves.png'
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/plot_curves.py',
         str(runs / 'straight'), str(runs / 'resumed'), '--metric',
         'bbox_mAP', 'segm_mAP', '--out', str(out), '--x', 'images',
         '--legend', 'straight', 'resumed'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.is_file() and out.stat().st_size > 0
    with open(tmp_path / 'curves.csv') as f:
        rows = list(csv.DictReader(f))
    # 2 runs x 2 metrics x 2 validations; images = iterations x batch 2.
    assert len(rows) == 8
    straight = read_work_dir(str(runs / 'straight'))
    for row in rows:
        assert int(row['images']) == 2 * int(row['iteration'])
        if row['run'] == 'straight':
            assert float(row['value']) == straight.metric(
                row['metric'])[int(row['iteration'])]


def test_plot_figure_has_one_line_per_run(runs, tmp_path):
    from rethink_mmdet.analysis.curves import plot_curves
    figure, csv_path = plot_curves([read_work_dir(str(runs / 'straight')),
                                    read_work_dir(str(runs / 'resumed'))],
                                   ['bbox_mAP'], str(tmp_path / 'c.png'))
    # Drawn against iterations, the CSV still says how many images.
    with open(csv_path) as f:
        assert all(int(row['images']) == 2 * int(row['iteration'])
                   for row in csv.DictReader(f))
    axis = figure.axes[0]
    assert len(axis.get_lines()) - len(
        [ln for ln in axis.get_lines() if ln.get_linestyle() == ':']) == 2
    assert all(len(ln.get_xdata()) == 2 for ln in axis.get_lines()
               if ln.get_linestyle() != ':')


def test_paper_table_delta_row_is_the_difference(runs, tmp_path):
    scratch = read_work_dir(str(runs / 'straight'))
    # The resumed run's logs, as a pre-trained run of the same model.
    pretrained = read_work_dir(str(runs / 'resumed'))
    pretrained.name = scratch.name.replace('-scratch_', '-pretrained_')
    rows = build_rows([scratch, pretrained])
    by_init = {row[1]: row for row in rows}
    assert set(by_init) == {'random init', 'w/ pre-train', 'Δ'}
    last_s = scratch.val[4]
    last_p = pretrained.val[4]
    for column, key in enumerate(('coco/bbox_mAP', 'coco/bbox_mAP_50',
                                  'coco/bbox_mAP_75', 'coco/segm_mAP',
                                  'coco/segm_mAP_50', 'coco/segm_mAP_75')):
        assert by_init['random init'][3 + column] == f'{100 * last_s[key]:.1f}'
        assert by_init['Δ'][3 + column] == \
            f'{100 * (last_s[key] - last_p[key]):+.1f}'
    assert '| Δ |' in format_table(rows, markdown=True)


def test_paper_table_shows_reference_numbers(runs, tmp_path):
    run = read_work_dir(str(runs / 'straight'))
    run.name = 'mask-rcnn_r50-scratch_fpn_gn-all_6x_coco'
    rows = build_rows([run], metafile=f'{REPO_ROOT}/configs/metafile.yml')
    assert rows[0][-2] == '41.2/37.4 (MMDetection 3.x (docs/recipe.md))'
    box = 100 * run.val[4]['coco/bbox_mAP']
    assert rows[0][-1] == f'{box - 41.2:+.1f}'


def test_compare_zoo_finds_mmdetection_scratch_row():
    # Read from the installed mmdet's metafiles, not from this repo.
    from rethink_mmdet.analysis.model_zoo import (
        closest,
        parse_name,
        zoo_entries,
    )
    entries = zoo_entries()
    zoo = closest(parse_name('mask-rcnn_r50-scratch_fpn_gn-all_6x_coco'),
                  entries)
    assert zoo['row'].name == 'mask-rcnn_r50-scratch_fpn_gn-all_6x_coco'
    assert (zoo['box'], zoo['mask'], zoo['match']) == (41.2, 37.4, 'exact')
    nearest = closest(parse_name('mask-rcnn_r50-scratch_fpn_gn-all_3x_coco'),
                      entries)
    assert nearest['match'] == 'nearest schedule (6x)'
    assert closest(parse_name('faster-rcnn_vgg16-scratch_11x_coco'),
                   entries) is None


def test_compare_zoo_tool_with_a_measured_run(runs):
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/compare_zoo.py',
         f'{REPO_ROOT}/configs/schedule-study/'
         'mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py',
         'configs/toy/' + TOY_CONFIG.rsplit('/', 1)[1],
         '--work-dirs', str(runs / 'straight'), '--format', 'md'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith('| our config |')
    paper_row = next(ln for ln in lines if '_6x_coco |' in ln)
    assert '| 41.2/37.4 |' in paper_row and '| exact |' in paper_row
    toy_row = next(ln for ln in lines if 'toy-1200i' in ln)
    run = read_work_dir(str(runs / 'straight'))
    box = 100 * run.val[4]['coco/bbox_mAP']
    mask = 100 * run.val[4]['coco/segm_mAP']
    assert f'| {box:.1f}/{mask:.1f} |' in toy_row
