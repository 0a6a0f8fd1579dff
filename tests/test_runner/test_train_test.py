"""End to end through the command-line tools, as a user runs them."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from rethink_mmdet.testing import (
    REPO_ROOT,
    TOY_CONFIG,
    as_cli_options,
    config_path,
    read_run_checkpoint,
    run_tool,
    short_run_overrides,
    synthetic_data_overrides,
    tool_env,
    toy_overrides,
    toy_train_command,
)

pytestmark = pytest.mark.slow


def _train(work_dir, data_root, max_iters, interval=None, extra=(),
           **overrides):
    return run_tool(toy_train_command(work_dir, data_root, max_iters,
                                      interval, extra, **overrides))


def _scalars(work_dir):
    """Training records of every run in the work_dir, in order."""
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            records.append([json.loads(line) for line in f])
    return records


def test_train_then_test(tmp_path, tiny_coco):
    work_dir = tmp_path / 'run'
    _train(work_dir, tiny_coco, max_iters=3)
    checkpoint = work_dir / 'iter_3.pth'
    assert checkpoint.is_file()
    with open(work_dir / 'last_checkpoint') as f:
        assert f.read().strip().endswith('iter_3.pth')

    result = run_tool([sys.executable, 'tools/test.py', TOY_CONFIG,
                   str(checkpoint), '--work-dir', str(tmp_path / 'test'),
                   '--out', str(tmp_path / 'preds.pkl'),
                   *as_cli_options(toy_overrides(tiny_coco, 3))])
    log = result.stdout + result.stderr
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP'):
        assert key in log
    assert (tmp_path / 'preds.pkl').is_file()


def test_resume_continues_iterations_and_lr(tmp_path, tiny_coco):
    # A 4-iteration schedule (warmup over 2, LR drop at 2) stopped after 2
    # iterations, then resumed from last_checkpoint to the end.
    work_dir = tmp_path / 'run'
    _train(work_dir, tiny_coco, max_iters=2, schedule_iters=4)
    assert (work_dir / 'iter_2.pth').is_file()
    _train(work_dir, tiny_coco, max_iters=4, interval=2, extra=['--resume'])
    first, resumed = _scalars(work_dir)
    assert [r['iter'] for r in first if 'lr' in r] == [1, 2]
    assert [r['iter'] for r in resumed if 'lr' in r] == [3, 4], \
        'resume restarted the iteration count'
    lrs = [r['lr'] for r in first + resumed if 'lr' in r]
    assert lrs == pytest.approx([0.02 * 1e-3, 0.02, 0.002, 0.002])
    checkpoint = read_run_checkpoint(work_dir / 'iter_4.pth')
    assert checkpoint['meta']['iter'] == 4


def _dist_train(config, work_dir, overrides):
    """tools/dist_train.sh CONFIG 2 on CPU processes; returns rank 0's log
    text."""
    # CPU_ONLY on every machine: a GPU node may have fewer than 2 GPUs, and
    # the CPU path is the one our patches make (compat; their GPU branch is
    # tested in test_compat.py).
    env = dict(tool_env(), CPU_ONLY='1')
    command = ['bash', 'tools/dist_train.sh', config, '2',
               '--work-dir', str(work_dir), *as_cli_options(overrides)]
    result = subprocess.run(command, cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    logs = glob.glob(osp.join(work_dir, '*', '*.log'))
    assert len(logs) == 1, 'rank 0 alone writes the log'
    with open(logs[0]) as f:
        text = f.read()
    assert 'Distributed training: True' in text
    # mmengine logs the world size as "GPU number", CPU processes included.
    assert 'GPU number: 2' in text
    assert 'gloo' in text
    return text


def test_dist_train_two_processes(tmp_path, tiny_coco):
    work_dir = tmp_path / 'dist'
    _dist_train(TOY_CONFIG, work_dir,
                toy_overrides(tiny_coco, max_iters=2, batch_size=1))
    checkpoints = [f for f in os.listdir(work_dir) if f.endswith('.pth')]
    assert checkpoints == ['iter_2.pth']


def test_syncbn_row_trains_on_two_cpu_processes(tmp_path, tiny_coco):
    # The paper's R50 SyncBN row, unchanged but for data and length.
    config = config_path(
        'syncbn/mask-rcnn_r50-scratch_fpn_syncbn-all_3x_coco.py')
    work_dir = tmp_path / 'syncbn'
    text = _dist_train(config, work_dir, {
        **synthetic_data_overrides(config, tiny_coco),
        **short_run_overrides(max_iters=2, batch_size=1)})
    assert "type='AnySyncBN'" in text
    assert (work_dir / 'iter_2.pth').is_file()


def test_scratch_config_with_a_frozen_stage_stops_with_a_clear_error(
        tmp_path, tiny_coco):
    command = [sys.executable, 'tools/train.py', TOY_CONFIG,
               '--work-dir', str(tmp_path / 'frozen'),
               *as_cli_options({**toy_overrides(tiny_coco, max_iters=2),
                                'model.backbone.frozen_stages': 1})]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 2
    assert 'error: ScratchInit' in result.stderr
    assert 'frozen_stages=-1' in result.stderr
    assert 'Traceback' not in result.stderr
    assert not list((tmp_path / 'frozen').glob('*.pth'))


def test_non_finite_loss_stops_before_the_nan_model_is_saved(
        tmp_path, tiny_coco):
    work_dir = tmp_path / 'diverge'
    # Two good iterations, checkpointed every iteration.
    _train(work_dir, tiny_coco, max_iters=2, interval=1, schedule_iters=4)
    # Resumed with a NaN loss weight: iteration 3 diverges.
    command = [sys.executable, 'tools/train.py', TOY_CONFIG, '--work-dir',
               str(work_dir), '--resume',
               *as_cli_options({
                   **toy_overrides(tiny_coco, max_iters=4, interval=1),
                   'model.roi_head.bbox_head.loss_cls.loss_weight': 'nan'})]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 1, result.stderr[-3000:]
    assert 'error: iteration 3: non-finite loss' in result.stderr
    assert 'loss_cls=nan' in result.stderr
    assert 'iter_2.pth' in result.stderr
    assert 'Traceback' not in result.stderr
    assert not (work_dir / 'iter_3.pth').exists()
    with open(work_dir / 'last_checkpoint') as f:
        assert f.read().strip().endswith('iter_2.pth')
