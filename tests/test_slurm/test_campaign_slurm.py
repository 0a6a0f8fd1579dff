"""tools/campaign.py through a real Slurm (install/local_slurm.sh), CPU mode
on gloo: a campaign of three toy rows, one requeued mid-run by ``scontrol
requeue`` (its final weights equal its twin's, left alone) and one whose
config cannot build, which fails with its reason while the others finish;
the states each row shows at the moments they hold; the TensorBoard run of
the requeued row; and a row under a one-minute limit, signalled before it,
saved and continued by its requeues to the end. What Slurm 22.05 does
with these jobs: test_train_sbatch.py's docstring and docs/slurm.md."""
import json
import os
import subprocess
import sys
import time

import pytest
import torch

from rethink_mmdet.campaign.campaign_dir import Campaign
from rethink_mmdet.campaign.row_status import row_state
from rethink_mmdet.campaign.slurm_executor import scontrol_job
from rethink_mmdet.testing import (
    REPO_ROOT,
    as_cli_options,
    read_run_checkpoint,
    run_tool,
)
from rethink_mmdet.testing.paced_runs import CONFIG, paced_run_overrides
from rethink_mmdet.testing.runs import (
    checkpoint_iterations,
    max_difference,
    run_records,
    tensorboard_steps,
)

# One local Slurm per session, on one worker (make test: --dist loadgroup):
# two on two cores would each think it had both.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group('slurm')]

ITERS = 40
CPU_ROWS = ('--executor', 'slurm', '--gpus-per-node', '0',
            '--cpus-per-task', '1')


def _campaign(env, *args, returncode=0):
    result = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, 'tools', 'campaign.py'),
         *args], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == returncode, result.stdout + result.stderr
    return result


def _states(folder, env):
    """Each row's state as the status command sees it (in process)."""
    campaign = Campaign.open(folder)
    return {row.name: row_state(campaign, row, lambda job: scontrol_job(
        job, env)) for row in campaign.rows}


def _rows(tmp_path):
    """Two rows of the same toy (one to requeue, its twin left alone) and
    one whose backbone cannot be built."""
    folder = tmp_path / 'rows'
    folder.mkdir()
    for name, extra in (('requeued', ''), ('twin', ''),
                        ('broken', 'model = dict(backbone=dict(depth=19))')):
        (folder / f'{name}.py').write_text(f'_base_ = {CONFIG!r}\n{extra}\n')
    return [str(folder / f'{n}.py') for n in ('requeued', 'twin', 'broken')]


def test_a_campaign_of_three_rows(local_slurm, job_env, coco64, tmp_path):
    folder = str(tmp_path / 'campaign')
    options = as_cli_options(paced_run_overrides(coco64, ITERS, workers=1))
    submitted = _campaign(job_env, 'submit', *_rows(tmp_path),
                          '--campaign-dir', folder, *CPU_ROWS, '--time',
                          '10', '--track', 'tensorboard', *options)
    assert submitted.stdout.count('sbatch --parsable') == 3
    with open(os.path.join(folder, 'jobs.json')) as f:
        jobs = {row: entries[0]['id'] for row, entries in json.load(f).items()}

    # Three one-CPU jobs on two CPUs: one waits. The requeued row is sent
    # back mid-run and waits again (BeginTime), counted as requeued.
    seen = {name: [] for name in jobs}
    requeued = False
    start = time.monotonic()
    while True:
        states = _states(folder, job_env)
        for name, state in states.items():
            seen[name].append((state.state, state.restarts))
        if not requeued and states['requeued'].state == 'running' and \
                states['requeued'].iteration >= 5:
            local_slurm.run('scontrol', 'requeue', jobs['requeued'])
            requeued = True
        if all(s.final for s in states.values()):
            break
        assert time.monotonic() - start < 600, states
        time.sleep(0.5)
    assert ('queued', 0) in seen['broken']
    assert ('running', 0) in seen['requeued']
    assert ('queued', 1) in seen['requeued']  # requeued 1x, waiting
    assert states['requeued'].state == states['twin'].state == 'done'
    assert states['broken'].state == 'failed'
    assert 'invalid depth 19 for resnet' in states['broken'].note
    assert states['requeued'].restarts == 1

    # The requeue saved and the next run went on from there; the result is
    # the twin's, left alone.
    work = os.path.join(folder, 'requeued')
    first, resumed = (list(run) for run in run_records(work))
    assert list(resumed) == list(range(first[-1] + 1, ITERS + 1))
    assert checkpoint_iterations(work)[-1] == ITERS
    expected = read_run_checkpoint(
        os.path.join(folder, 'twin', f'iter_{ITERS}.pth'))
    actual = read_run_checkpoint(os.path.join(work, f'iter_{ITERS}.pth'))
    assert max_difference(expected['state_dict'],
                          actual['state_dict']) <= 1e-6
    # Its TensorBoard run is one: one folder, each step once, in order,
    # the requeued run's values from where it resumed.
    loss = tensorboard_steps(os.path.join(work, 'tensorboard'), 'loss')
    assert [step for step, _ in loss] == list(range(1, ITERS + 1))
    assert [value for step, value in loss if step > first[-1]] == \
        pytest.approx([run_records(work)[1][i]['loss'] for i in resumed])

    # The command's view: one line per row, the failure's reason.
    status = _campaign(job_env, 'status', '--campaign-dir', folder,
                       returncode=1)
    lines = {line.split()[0]: line for line in status.stdout.splitlines()}
    assert f'{ITERS}/{ITERS}' in lines['requeued']
    assert 'requeued 1x' in lines['requeued']
    assert 'failed' in lines['broken'] and 'depth 19' in lines['broken']
    assert status.stdout.splitlines()[-1] == '2 done, 1 failed'
    # Collected: the published weights (no optimizer, loadable as data),
    # the metafile entries compare_zoo.py reads, the tables.
    collected = _campaign(job_env, 'collect', '--campaign-dir', folder)
    assert 'not finished: broken' in collected.stdout
    metafile = os.path.join(folder, 'collect', 'metafile.yml')
    for name in ('requeued', 'twin'):
        [path] = [line.split(' published ')[1] for line in
                  collected.stdout.splitlines()
                  if line.startswith(f'{name}: published ')]
        published = torch.load(path, weights_only=True)
        assert set(published) == {'meta', 'state_dict'}
        assert max_difference(published['state_dict'],
                              expected['state_dict']) <= 1e-6
    zoo = run_tool([sys.executable, 'tools/analysis_tools/compare_zoo.py',
                    '--metafile', metafile])
    assert 'requeued' in zoo.stdout and 'twin' in zoo.stdout

    # Submitted again: nothing runs twice; the failed row says how to
    # restart it.
    again = _campaign(job_env, 'submit', '--campaign-dir', folder,
                      *CPU_ROWS)
    assert 'sbatch' not in again.stdout
    assert 'broken: failed (' in again.stdout and '--resume-failed' in \
        again.stdout
    with open(os.path.join(folder, 'jobs.json')) as f:
        counts = {row: len(e) for row, e in json.load(f).items()}
    assert counts == dict.fromkeys(jobs, 1)


def test_a_row_under_a_one_minute_limit_is_continued_to_the_end(
        local_slurm, job_env, coco64, tmp_path):
    # The limit's signal comes 20 to 50 s after each run's start
    # (test_train_sbatch.py), the training's handler is in place after 5 to
    # 15: 50 iterations of at least 1 s outlast a first run.
    iters = 50
    folder = str(tmp_path / 'limited')
    options = as_cli_options(paced_run_overrides(coco64, iters, pace=1.0))
    _campaign(job_env, 'submit', CONFIG, '--campaign-dir', folder,
              *CPU_ROWS, '--time', '1', '--signal-before', '10', *options)
    [row] = Campaign.open(folder).rows
    with open(os.path.join(folder, 'jobs.json')) as f:
        [job] = [entries[0]['id'] for entries in json.load(f).values()]
    assert local_slurm.wait(job, timeout=900) == 'COMPLETED'
    ends = local_slurm.completions(job)
    assert len(ends) >= 2 and set(ends[:-1]) == {'PENDING'}, ends
    work = os.path.join(folder, row.name)
    [log] = [os.path.join(work, n) for n in os.listdir(work)
             if n.startswith('slurm-')]
    with open(log) as f:
        text = f.read()
    assert 'time limit near: checkpoint, then requeue' in text
    assert 'TIME LIMIT' not in text  # each run saved before its limit
    runs = [list(run) for run in run_records(work)]
    # Every run trained, each from where the one before saved, to the end.
    assert len(runs) == len(ends)
    for before, after in zip(runs, runs[1:]):
        assert after[0] == before[-1] + 1
    assert runs[0][0] == 1 and runs[-1][-1] == iters
    assert _states(folder, job_env)[row.name].state == 'done'
