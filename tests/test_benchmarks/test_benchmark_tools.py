"""The training-step and SyncBN benchmarks run end to end on tiny settings
(their timings are not checked here: figures live in docs/benchmarks.md)."""
import pytest

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.testing import TOY_CONFIG


@pytest.mark.slow
def test_benchmark_train_compares_two_configs(tiny_coco, capsys):
    from rethink_mmdet.cli.benchmark_train import main
    rows = main([TOY_CONFIG, '--vs', TOY_CONFIG, '--input-size', '64',
                 '--batch-size', '1', '--warmup', '0', '--iters', '1',
                 '--data-root', tiny_coco])
    out = capsys.readouterr().out
    assert 'ratio (first / second)' in out and 'CPU' in out
    assert len(rows) == 2
    for row in rows:
        assert row['step_s'] > 0 and row['step_data_s'] > 0
        # The toy model's parameters and momentum alone are ~1 MiB.
        assert row['memory_mb'] > 1


def test_benchmark_train_rejects_bad_input(tmp_path):
    from rethink_mmdet.cli.benchmark_train import main
    assert run_main(main, [str(tmp_path / 'missing.py')]) == 2
    assert run_main(main, [TOY_CONFIG, '--vs', 'mmdet::no/such.py']) == 2
    assert run_main(main, [TOY_CONFIG, '--input-size', '1', '2', '3']) == 2
    assert run_main(main, [TOY_CONFIG, '--iters', '0']) == 2


def test_stock_config_resolves_from_installed_mmdet():
    from rethink_mmdet.benchmarks.train_speed import resolve_config
    from rethink_mmdet.cli.benchmark_train import STOCK
    assert resolve_config(STOCK).endswith(
        'scratch/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py')


@pytest.mark.slow
def test_benchmark_sync_bn_over_two_gloo_processes(capsys):
    from rethink_mmdet.cli.benchmark_sync_bn import main
    result = main(['--depth', '18', '--input-size', '32', '--warmup', '0',
                   '--iters', '1'])
    assert result['BN'] > 0 and result['AnySyncBN'] > 0
    assert result['ratio'] == result['AnySyncBN'] / result['BN']
    assert 'AnySyncBN / BN' in capsys.readouterr().out


def test_benchmark_sync_bn_rejects_bad_input():
    from rethink_mmdet.cli.benchmark_sync_bn import main
    assert run_main(main, ['--world-size', '0']) == 2
    assert run_main(main, ['--device', 'cuda', '--world-size', '64']) == 2
