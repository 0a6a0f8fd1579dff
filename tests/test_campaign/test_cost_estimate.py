"""The paper on paper: GPU-hours per row and wall time on N nodes, on
made-up rows whose numbers are worked out by hand in each test."""
import json
import os.path as osp

import pytest

from rethink_mmdet.campaign.cost import (
    estimate,
    estimate_for,
    format_cost,
    seconds_from_benchmark,
    tta_views,
)
from rethink_mmdet.campaign.row_sets import Row
from rethink_mmdet.runner import UsageError
from rethink_mmdet.testing import REPO_ROOT, TOY_CONFIG

ROWS = [Row('a', 'a.py', 1000), Row('b', 'b.py', 3000),
        Row('c', 'c.py', 2000), Row('b-tta', 'b-tta.py', 0, tta_of='b')]


def _hours(cost):
    """name, hours, GPU-hours, ... of each row in turn."""
    return [v for row in cost.rows for v in (row.name, row.hours,
                                              row.gpu_hours)]


def test_rows_on_8_gpus_each_and_longest_first_packing():
    cost = estimate(ROWS, 0.9, nodes=(1, 2, 3), eval_images=100,
                    views_of=lambda row: 4)
    # a: 1000 x 0.9 s = 900 s = 0.25 h, x 8 GPUs = 2 GPU-h; b: 2700 s;
    # c: 1800 s. b-tta: 100 images x 4 views x (0.9 s / 2 images per GPU)
    # / 8 GPUs = 22.5 s = 0.00625 h, 0.05 GPU-h.
    assert _hours(cost) == ['a', pytest.approx(0.25), pytest.approx(2.0),
                            'b', pytest.approx(0.75), pytest.approx(6.0),
                            'c', pytest.approx(0.5), pytest.approx(4.0),
                            'b-tta', pytest.approx(0.00625),
                            pytest.approx(0.05)]
    assert cost.gpu_hours == pytest.approx(12.05)
    # 1 node: all in a row. 2 nodes: b | c then a (0.75); b-tta after b.
    # 3 nodes: b | c | a, b-tta waits for b although two nodes are free.
    assert cost.wall_hours == pytest.approx({1: 1.50625, 2: 0.75625,
                                             3: 0.75625})
    assert [row.kind for row in cost.rows] == ['train'] * 3 + [
        'evaluation']
    assert cost.rows[3].work == '100 images x 4 views'


def test_rows_of_4_gpus_run_two_to_a_node():
    cost = estimate(ROWS[:3], 0.9, nodes=(1, ), gpus_per_row=4)
    # GPU-h: a 1000 x 0.9 x 4 / 3600 = 1.0, b 3.0, c 2.0. One node holds
    # two rows: b | c then a -> max(0.75, 0.5 + 0.25) = 0.75 h.
    assert _hours(cost) == ['a', pytest.approx(0.25), pytest.approx(1.0),
                            'b', pytest.approx(0.75), pytest.approx(3.0),
                            'c', pytest.approx(0.5), pytest.approx(2.0)]
    assert cost.wall_hours == pytest.approx({1: 0.75})
    # 4 images per GPU: an evaluation costs 0.9 / 4 s per image-view.
    tta = estimate(ROWS, 0.9, gpus_per_row=4, eval_images=100,
                   views_of=lambda row: 4).rows[3]
    assert tta.hours * 3600 == pytest.approx(100 * 4 * 0.225 / 4)


def test_the_formatted_table_names_its_figure_and_totals():
    cost = estimate(ROWS, 0.9, 'assumed, for the test', nodes=(1, 2),
                    eval_images=100, views_of=lambda row: 4)
    text = format_cost(cost, markdown=True)
    assert text.startswith('0.9 s/iter (assumed, for the test); 8 GPUs per '
                           'row, 8 per node')
    assert '| b | 3000 iterations | 0.8 | 6.0 |' in text
    assert '| total | 4 rows |  | 12.1 |' in text
    assert '| 2 | 2 | 0.8 | 0.0 |' in text
    plain = format_cost(cost)
    assert 'total' in plain and '|' not in plain


def test_tta_views_are_scales_times_flips():
    config = osp.join(REPO_ROOT, 'configs', 'enhanced', 'cascade-mask-rcnn_'
                      'r50-scratch_fpn_gn-all_train-aug-9x-tta_coco.py')
    # configs/_base_/datasets/coco_tta.py: short sides 400..1200 by 100
    # (9), flipped and not (2).
    assert tta_views(config) == 18
    assert tta_views(TOY_CONFIG) == 1


def _benchmark(tmp_path, rows):
    path = tmp_path / 'bench.json'
    path.write_text(json.dumps(dict(rows=rows, loss_checks=[],
                                    device='NVIDIA H200')))
    return str(path)


def _row(config, mode, batch, images_s):
    return dict(config=config, mode=mode, batch_size=batch,
                images_s=images_s, step_s=batch / images_s)


def test_seconds_per_iteration_from_a_benchmark(tmp_path):
    path = _benchmark(tmp_path, [
        _row('ours.py', 'fp32', 2, 20.0), _row('stock', 'fp32', 2, 10.0),
        _row('ours.py', 'fp32', 16, 40.0), _row('ours.py', 'amp-bf16', 16,
                                                 64.0)])
    seconds, source = seconds_from_benchmark(path)
    assert seconds == pytest.approx(2 / 20.0)  # 2 images per GPU
    assert 'ours.py, fp32, 20.00 images/s' in source
    assert 'NVIDIA H200' in source and 'measured at batch' not in source
    # Only batch 16 was measured in bf16: used, and said so.
    seconds, source = seconds_from_benchmark(path, 'amp-bf16')
    assert seconds == pytest.approx(2 / 64.0)
    assert 'measured at batch 16, not 2' in source
    # A whole batch of 16 on one GPU.
    assert seconds_from_benchmark(path, gpus_per_row=1)[0] == \
        pytest.approx(16 / 40.0)
    cost = estimate_for(ROWS[:1], benchmark=path, nodes=(1, ))
    assert cost.rows[0].hours == pytest.approx(1000 * 0.1 / 3600)
    assert cost.source.startswith(path)


def test_bad_figures_are_one_line(tmp_path):
    path = _benchmark(tmp_path, [_row('ours.py', 'fp32', 2, 20.0)])
    with pytest.raises(UsageError, match=r'no amp-fp16 figure of ours.py '
                       r'\(it has: fp32 batch 2\)'):
        seconds_from_benchmark(path, 'amp-fp16')
    (tmp_path / 'not.json').write_text('{')
    with pytest.raises(UsageError, match='not a benchmark_train.py --json'):
        seconds_from_benchmark(str(tmp_path / 'not.json'))
    with pytest.raises(UsageError, match='either'):
        estimate_for(ROWS, 0.5, benchmark=path)
    with pytest.raises(UsageError, match='must be > 0'):
        estimate(ROWS, 0)
    with pytest.raises(UsageError, match='GPUs per row'):
        estimate(ROWS, 1.0, gpus_per_row=3)
    loop = [Row('x', 'x.py', 10, after=('y', )),
            Row('y', 'y.py', 10, after=('x', ))]
    with pytest.raises(UsageError, match='wait on each other: x, y'):
        estimate(loop, 1.0)


@pytest.mark.slow
def test_the_figure_of_a_real_benchmark_json(tmp_path, tiny_coco):
    from rethink_mmdet.cli.benchmark_train import main
    out = tmp_path / 'bench.json'
    main([TOY_CONFIG, '--input-size', '64', '--batch-size', '2',
          '--warmup', '0', '--iters', '1', '--data-root', tiny_coco,
          '--json', str(out)])
    with open(out) as f:
        measured = json.load(f)['rows'][0]
    seconds, source = seconds_from_benchmark(str(out))
    assert seconds == pytest.approx(2 / measured['images_s'])
    assert seconds == pytest.approx(measured['step_s'])  # batch 2 per GPU
    assert 'CPU' in source
