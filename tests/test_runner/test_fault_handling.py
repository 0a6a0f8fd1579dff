"""Faults in real training runs of the toy config (issue 5) that must stop
them clearly or be stepped around: damaged checkpoints, a failing rank, bad
data. docs/reliability.md lists what each shows; interruptions and resumes
are in test_reliability.py."""
import json
import os
import shutil
import sys

import pytest

from rethink_mmdet.testing import (
    TOY_CONFIG,
    as_cli_options,
    read_run_checkpoint,
    run_tool,
    tool_env,
    toy_overrides,
    toy_train_command,
)

pytestmark = pytest.mark.slow


def _truncate(path):
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)


def test_damaged_checkpoints_give_clear_errors_or_fall_back(tmp_path,
                                                           tiny_coco):
    work_dir = tmp_path / 'run'
    run_tool(toy_train_command(work_dir, tiny_coco, 3, 1))
    damaged = tmp_path / 'damaged.pth'
    shutil.copy(work_dir / 'iter_3.pth', damaged)
    _truncate(damaged)

    for extra, options in ((['--resume', str(damaged)], {}),
                           ([], {'load_from': str(damaged)})):
        result = run_tool(toy_train_command(tmp_path / 'other', tiny_coco,
                                            4, extra=extra, **options),
                          returncode=2)
        assert f'error: checkpoint {damaged}' in result.stderr
        assert 'Traceback' not in result.stderr

    # Auto-resume: the damaged latest checkpoint is skipped, with a warning.
    _truncate(work_dir / 'iter_3.pth')
    result = run_tool(toy_train_command(work_dir, tiny_coco, 4, 1,
                                        extra=['--resume']))
    log = result.stdout + result.stderr
    assert 'skipped unreadable checkpoint(s)' in log
    assert f'resuming from {work_dir / "iter_2.pth"}' in log
    assert read_run_checkpoint(work_dir / 'iter_4.pth')['meta']['iter'] == 4

    # Nothing readable left: stop rather than restart from iteration 0.
    for path in work_dir.glob('iter_*.pth'):
        _truncate(path)
    result = run_tool(toy_train_command(work_dir, tiny_coco, 5, 1,
                                        extra=['--resume']), returncode=2)
    assert 'error: no readable checkpoint in' in result.stderr


FAILING_RANK = '''
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class FailOnRank1Hook(Hook):
    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if get_rank() == 1 and runner.iter == 2:
            raise RuntimeError('injected fault on rank 1')
'''


def test_a_failing_rank_stops_the_whole_job_and_keeps_the_checkpoint(
        tmp_path, tiny_coco):
    (tmp_path / 'fault_hook.py').write_text(FAILING_RANK)
    # CPU processes on every machine: a GPU node may have fewer than 2 GPUs.
    env = dict(tool_env(first_on_path=str(tmp_path)), CPU_ONLY='1')
    work_dir = tmp_path / 'dist'
    overrides = {**toy_overrides(tiny_coco, max_iters=4, interval=2,
                                 batch_size=1),
                 'custom_imports.imports': ['rethink_mmdet', 'fault_hook'],
                 # replaces ExactResumeHook, which this test does not need
                 'custom_hooks.1.type': 'FailOnRank1Hook'}
    command = ['bash', 'tools/dist_train.sh', TOY_CONFIG, '2', '--work-dir',
               str(work_dir), *as_cli_options(overrides)]
    # A hang would raise TimeoutExpired; rank 0 waits in a collective.
    result = run_tool(command, returncode=None, timeout=180, env=env)
    assert result.returncode != 0
    assert 'error: rank 1 of 2 failed: RuntimeError: injected fault on ' \
        'rank 1' in result.stderr
    with open(work_dir / 'last_checkpoint') as f:
        assert f.read().strip().endswith('iter_2.pth')
    assert read_run_checkpoint(work_dir / 'iter_2.pth')['meta']['iter'] == 2


def test_bad_data_stops_training_before_the_first_iteration(tmp_path,
                                                            tiny_coco):
    data = tmp_path / 'data'
    shutil.copytree(tiny_coco, data)
    with open(data / 'annotations' / 'instances_train.json') as f:
        train = json.load(f)
    missing = train['images'][1]
    os.remove(data / missing['file_name'])
    command = toy_train_command(tmp_path / 'run', str(data), 2)
    result = run_tool(command, returncode=2)
    assert f'image id {missing["id"]}:' in result.stderr
    assert 'missing on disk' in result.stderr
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'run').exists() or \
        not list((tmp_path / 'run').glob('*.pth'))

    # The checker lists every problem at once: a box under one pixel (as
    # COCO 2017 has; CocoDataset drops it) warns, a duplicate id is an error.
    train['annotations'][0]['bbox'][2] = 0
    train['annotations'][2]['id'] = train['annotations'][1]['id']
    with open(data / 'annotations' / 'instances_train.json', 'w') as f:
        json.dump(train, f)
    result = run_tool([sys.executable, 'tools/misc/check_dataset.py',
                       TOY_CONFIG,
                       *as_cli_options(toy_overrides(str(data), 2))],
                      returncode=1)
    assert 'missing on disk' in result.stdout
    assert 'annotation ids listed twice' in result.stdout
    assert 'warning: ' in result.stdout and 'under one pixel' in result.stdout
    assert '2 error(s), 1 warning(s)' in result.stdout
