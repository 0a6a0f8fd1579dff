"""The training-step and SyncBN benchmarks run end to end on tiny settings
(their timings are not checked here: figures live in docs/benchmarks.md)."""
import pytest
import torch
from mmengine.device import utils as device_utils

from rethink_mmdet.cli.common import run_main
from rethink_mmdet.testing import TOY_CONFIG


@pytest.fixture
def on_the_cpu(monkeypatch):
    """The timed runs on the CPU on every machine: what the tests expect
    (modes skipped, memory from RSS, the loss-check tolerance) is the
    CPU's; the GPU branch times real CUDA steps, which make gpu-accept runs
    on a GPU node. The tool asks torch, the Runner mmengine's device."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(device_utils, 'DEVICE', 'cpu')


@pytest.mark.slow
def test_benchmark_train_compares_two_configs(tiny_coco, capsys,
                                              on_the_cpu):
    from rethink_mmdet.cli.benchmark_train import main
    result = main([TOY_CONFIG, '--vs', TOY_CONFIG, '--input-size', '64',
                   '--batch-size', '1', '--warmup', '0', '--iters', '1',
                   '--data-root', tiny_coco])
    rows, baseline = result['rows'], result['baseline']
    assert (baseline['mode'], baseline['batch_size']) == ('fp32', 2)
    out = capsys.readouterr().out
    assert 'ratio (first / second)' in out and 'CPU' in out
    assert len(rows) == 2
    # Against --vs in its default mode, fp32 at batch 2, timed on its own.
    assert 'x base' in out
    for row in rows:
        assert row['mode'] == 'fp32'
        assert row['images_s'] == 1 / row['step_s']
        assert row['step_s'] > 0 and row['step_data_s'] > 0
        # The toy model's parameters and momentum alone are ~1 MiB.
        assert row['memory_mb'] > 1


def test_benchmark_train_rejects_bad_input(tmp_path):
    from rethink_mmdet.cli.benchmark_train import main
    assert run_main(main, [str(tmp_path / 'missing.py')]) == 2
    assert run_main(main, [TOY_CONFIG, '--vs', 'mmdet::no/such.py']) == 2
    assert run_main(main, [TOY_CONFIG, '--input-size', '1', '2', '3']) == 2
    assert run_main(main, [TOY_CONFIG, '--iters', '0']) == 2
    assert run_main(main, [TOY_CONFIG, '--modes', 'fp8']) == 2
    assert run_main(main, [TOY_CONFIG, '--modes', 'amp-bf16+fp32']) == 2
    assert run_main(main, [TOY_CONFIG, '--modes', 'compile+compile']) == 2
    assert run_main(main, [TOY_CONFIG, '--loss-check', '4',
                           '--loss-window', '3']) == 2


def test_a_loss_check_shorter_than_its_window_is_one_line(capsys):
    from rethink_mmdet.benchmarks.loss_tracking import window_means
    from rethink_mmdet.cli.benchmark_train import _check_args, main, parse_args
    argv = [TOY_CONFIG, '--modes', 'fp32', 'amp-bf16', '--warmup', '1',
            '--iters', '2', '--loss-check', '8']
    assert run_main(main, argv) == 2
    out, err = capsys.readouterr()
    assert not out  # refused before anything ran
    assert err == ('error: --loss-check 8 trains the fp32 batch-2 reference '
                   'on 16 images, fewer than one --loss-window of 32: pass '
                   '--loss-check 16 or more or --loss-window 16\n')
    # 8 losses of batch 2: no whole window of 32 images (the numpy error
    # this replaces); each way out named gives one.
    assert len(window_means([1.0] * 8, 2, 32)) == 0
    assert len(window_means([1.0] * 16, 2, 32)) == 1
    assert len(window_means([1.0] * 8, 2, 16)) == 1
    for fix in (['--loss-check', '16'], ['--loss-window', '16']):
        _check_args(parse_args(argv + fix))
    # Windows must be whole batches of 16: only a longer check fits.
    assert run_main(main, [TOY_CONFIG, '--batch-size', '16', '--loss-check',
                           '4', '--loss-window', '16']) == 2
    assert capsys.readouterr().err.endswith(
        'fewer than one --loss-window of 16: pass --loss-check 8 or more\n')


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


def test_amp_fp16_is_skipped_without_a_gpu_only(monkeypatch, capsys):
    from rethink_mmdet.benchmarks.train_speed import mode_problem
    from rethink_mmdet.cli.benchmark_train import main
    assert mode_problem('amp-fp16+channels-last', cuda=True) is None
    assert 'needs a GPU' in mode_problem('amp-fp16+channels-last',
                                         cuda=False)
    assert mode_problem('amp-bf16', cuda=False) is None
    # Before any data is made or model built.
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert run_main(main, [TOY_CONFIG, '--modes', 'amp-fp16']) == 2
    out, err = capsys.readouterr()
    assert out.startswith('skipping amp-fp16: amp-fp16 needs a GPU')
    assert err == 'error: no --modes left to run on this machine\n'


@pytest.mark.slow
def test_benchmark_train_modes_and_loss_check_on_cpu(tiny_coco, capsys,
                                                     on_the_cpu):
    from rethink_mmdet.cli.benchmark_train import main
    result = main([TOY_CONFIG, '--vs', TOY_CONFIG, '--input-size', '64',
                   '--modes', 'fp32', 'amp-fp16', 'amp-bf16',
                   'channels-last+fixed-shapes', '--warmup', '0',
                   '--iters', '1',
                   '--loss-check', '8', '--loss-window', '8',
                   '--loss-tolerance', '0.05', '--data-root', tiny_coco])
    out = capsys.readouterr().out
    modes = ['fp32', 'amp-bf16', 'channels-last+fixed-shapes']
    assert 'skipping amp-fp16: amp-fp16 needs a GPU' in out
    assert [r['mode'] for r in result['rows']] == [m for m in modes
                                                   for _ in range(2)]
    assert out.count('ratio (first / second)') == len(modes)
    # The fp32 batch-2 row of --vs is the baseline, not timed again.
    assert result['baseline'] is result['rows'][1]
    checks = {c['mode']: c for c in result['loss_checks']}
    assert set(checks) == set(modes) - {'fp32'}
    for check in checks.values():
        # 16 images, windows of 8: the curves from the same seed agree.
        assert check['windows'] == 2 and check['ok'], check
    # bf16 really ran in reduced precision: its losses are not fp32's.
    assert checks['amp-bf16']['mean_rel'] > 0
    assert 'tracks' in out


@pytest.mark.slow
def test_batch_16_on_one_process_keeps_the_paper_schedule(tiny_coco,
                                                          tmp_path):
    # A GN row's whole batch of 16 on one GPU is the paper's recipe; with
    # the LR schedule auto-scaled (as tools/train.py --auto-scale-lr) it
    # keeps the paper's iterations and LR.
    from rethink_mmdet.benchmarks.train_speed import StepBench
    from rethink_mmdet.runner import load_config
    from rethink_mmdet.testing import config_path
    row = config_path(
        'schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py')
    paper = load_config(row)
    bench = StepBench(row, tiny_coco, (64, 64), 16, 'fp32',
                      str(tmp_path), lr=None, seed=0)
    cfg = bench.runner.cfg
    assert cfg.train_dataloader.batch_size == 16
    assert cfg.train_cfg.max_iters == paper.train_cfg.max_iters
    assert cfg.param_scheduler == paper.param_scheduler
    group = bench.runner.optim_wrapper.optimizer.param_groups[0]
    assert group['initial_lr'] == pytest.approx(
        paper.optim_wrapper.optimizer.lr)
    # At batch 2 the same code path scales the schedule by 8.
    half = StepBench(row, tiny_coco, (64, 64), 2, 'fp32',
                     str(tmp_path / 'b2'), lr=None, seed=0)
    assert half.runner.cfg.train_cfg.max_iters == \
        8 * paper.train_cfg.max_iters
