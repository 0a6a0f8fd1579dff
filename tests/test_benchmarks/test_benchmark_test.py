"""The evaluation benchmark (tools/test.py by phase) end to end on a few
images (its timings are not checked here: figures live in
docs/benchmarks.md)."""
import pytest

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.testing import config_path

OURS = config_path(
    'schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py')


@pytest.mark.slow  # ~45 s on the loaded 2-core machine
def test_benchmark_test_splits_the_run_and_agrees_with_stock(tmp_path,
                                                             capsys):
    from rethink_mmdet.benchmarks.test_speed import PHASES
    from rethink_mmdet.cli.benchmark_test import main
    rows = main([OURS, '--vs', '--num-images', '3', '--input-size', '64',
                 '48', '--data-root', str(tmp_path)])
    out = capsys.readouterr().out
    assert 'metric compute' in out and 'metrics equal: True' in out
    assert [r['evaluator'] for r in rows] == [['FasterCocoMetric'],
                                              ['CocoMetric']]
    for row in rows:
        assert row['images'] == 3
        seconds = row['seconds']
        # Every phase ran; setup is the remainder of the measured total.
        for phase in ('data', 'model', 'metric process', 'metric compute'):
            assert seconds[phase] > 0, (phase, seconds)
        assert seconds['setup'] >= 0 and seconds['hooks'] >= 0
        assert sum(seconds[p] for p in PHASES) == pytest.approx(row['total'])
        # Same weights, same pipeline: 100 detections per image, same AP.
        assert set(row['metrics']) >= {'coco/bbox_mAP', 'coco/segm_mAP'}
    assert rows[0]['metrics'] == rows[1]['metrics']


def test_benchmark_test_rejects_bad_input(tmp_path):
    from rethink_mmdet.cli.benchmark_test import main
    assert run_main(main, [str(tmp_path / 'missing.py')]) == 2
    assert run_main(main, [OURS, '--num-images', '0']) == 2
    assert run_main(main, [OURS, '--workers', '-1']) == 2
    assert run_main(main, [OURS, '--input-size', '8', '8']) == 2
