"""Runs that differ only by seed, drawn and tabled as one: the study's
curves (mean and range over seeds) and its Table 1 layout without mask AP,
on hand-written logs."""
import csv

import pytest

from rethink_mmdet.analysis import RunLog
from rethink_mmdet.analysis.curves import plot_seed_groups
from rethink_mmdet.analysis.scratch_vs_pretrained import (
    HEADER,
    build_rows,
    without_absent_metrics,
)

NAME = 'faster-rcnn_r18-tiny-{}_fpn_gn-all_study-1x-s{}_synthetic-coco'


def _log(init, seed, box, mask=False):
    """A run whose box AP (a fraction) is ``box[iteration]``; AP50 and AP75
    0.2 above and 0.02 below it, mask AP half of it with ``mask``."""
    val = {}
    for iteration, value in box.items():
        val[iteration] = {'coco/bbox_mAP': value,
                          'coco/bbox_mAP_50': value + 0.2,
                          'coco/bbox_mAP_75': value - 0.02}
        if mask:
            val[iteration]['coco/segm_mAP'] = value / 2
    name = NAME.format(init, seed)
    return RunLog(name, name, val=val)


def _runs(mask=False):
    """Scratch 1x with two seeds (seed 1 also validated at 50), pre-trained
    1x with one."""
    return ([_log('scratch', 0, {25: 0.10, 100: 0.20}, mask),
             _log('scratch', 1, {25: 0.14, 50: 0.5, 100: 0.30}, mask),
             _log('pretrained', 0, {25: 0.15, 100: 0.25})],
            ['scratch 1x', 'scratch 1x', 'pre-trained 1x'])


def test_each_seed_group_is_its_mean_and_min_max_range(tmp_path):
    runs, labels = _runs()
    figure, csv_path = plot_seed_groups(runs, labels,
                                        ['bbox_mAP', 'segm_mAP'],
                                        str(tmp_path / 'curves.png'))
    assert (tmp_path / 'curves.png').stat().st_size > 0
    with open(csv_path) as f:
        rows = [(r['group'], r['init'], r['metric'], int(r['iteration']),
                 int(r['seeds']), float(r['mean']), float(r['min']),
                 float(r['max'])) for r in csv.DictReader(f)]
    # Only the validations both seeds have; values as logged.
    assert rows == [
        ('scratch 1x', 'scratch', 'coco/bbox_mAP', 25, 2,
         pytest.approx(0.12), 0.10, 0.14),
        ('scratch 1x', 'scratch', 'coco/bbox_mAP', 100, 2,
         pytest.approx(0.25), 0.20, 0.30),
        ('pre-trained 1x', 'pretrained', 'coco/bbox_mAP', 25, 1, 0.15,
         0.15, 0.15),
        ('pre-trained 1x', 'pretrained', 'coco/bbox_mAP', 100, 1, 0.25,
         0.25, 0.25)]
    # No run logged mask AP: box AP alone.
    (axis,) = figure.axes
    lines = {line.get_label(): line for line in axis.get_lines()}
    assert lines['scratch 1x'].get_ydata() == pytest.approx([12.0, 25.0])
    assert lines['scratch 1x'].get_linestyle() == '-'
    assert lines['pre-trained 1x'].get_ydata() == pytest.approx(
        [15.0, 25.0])
    assert lines['pre-trained 1x'].get_linestyle() == '--'
    # One shaded range, the two-seed group's: from min to max, in %.
    (band,) = axis.collections
    heights = {round(y, 6) for y in band.get_paths()[0].vertices[:, 1]}
    assert {10.0, 14.0, 20.0, 30.0} <= heights <= {10.0, 14.0, 20.0, 30.0,
                                                   12.0, 25.0}


def test_mask_ap_gets_its_subplot_when_logged(tmp_path):
    runs, labels = _runs(mask=True)
    figure, csv_path = plot_seed_groups(runs, labels,
                                        ['bbox_mAP', 'segm_mAP'],
                                        str(tmp_path / 'curves.png'))
    box, mask = figure.axes
    assert mask.get_ylabel() == 'segm_mAP (%)'
    # The pre-trained run has no mask AP: only scratch in that subplot.
    assert [line.get_label() for line in mask.get_lines()] == ['scratch 1x']
    assert mask.get_lines()[0].get_ydata() == pytest.approx([6.0, 12.5])
    with open(csv_path) as f:
        masks = [r for r in csv.DictReader(f)
                 if r['metric'] == 'coco/segm_mAP']
    assert [(r['iteration'], float(r['min']), float(r['max']))
            for r in masks] == [('25', 0.05, 0.07), ('100', 0.10, 0.15)]
    with pytest.raises(ValueError, match='2 labels for 3 runs'):
        plot_seed_groups(runs, labels[:2], ['bbox_mAP'],
                         str(tmp_path / 'c.png'))


def test_table_without_mask_ap_has_no_mask_columns():
    runs, _ = _runs()
    rows, header = without_absent_metrics(
        [row[:-2] for row in build_rows([runs[0], runs[2]])], HEADER[:-2])
    assert header == ['model', 'init', 'run', 'box AP', 'AP50', 'AP75']
    by_init = {row[1]: row[3:] for row in rows}
    assert by_init == {'random init': ['20.0', '40.0', '18.0'],
                       'w/ pre-train': ['25.0', '45.0', '23.0'],
                       'Δ': ['-5.0', '-5.0', '-5.0']}
    # Mask AP logged (but not its AP50 and AP75): its column stays.
    runs, _ = _runs(mask=True)
    rows, header = without_absent_metrics(
        [row[:-2] for row in build_rows(runs[:1])], HEADER[:-2])
    assert header == ['model', 'init', 'run', 'box AP', 'AP50', 'AP75',
                      'mask AP']
    assert rows[0][3:] == ['20.0', '40.0', '18.0', '10.0']
