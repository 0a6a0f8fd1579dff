"""make gpu-accept (install/gpu_accept.py): its stage logic with stand-in
commands, and its rehearsal: every stage on CPU processes at toy size
(``--toy``), through the same tools as on a GPU node."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from rethink_mmdet.testing import REPO_ROOT
from rethink_mmdet.testing.environments import hermetic_env, uv_image

sys.path.insert(0, osp.join(REPO_ROOT, 'install'))
import gpu_accept  # noqa: E402

PY = sys.executable


def _accept(tmp_path, commands, budget=60, caps=None):
    caps = caps or {name: 30 for name in commands}
    return gpu_accept.accept(str(tmp_path), budget, commands, caps, env=None)


def _statuses(summary):
    return {s['stage']: (s['status'], s['why']) for s in summary['stages']}


def test_each_stage_passes_fails_or_is_cut_with_its_reason(tmp_path):
    summary = _accept(tmp_path, {
        'setup': [PY, '-c', 'print("environment ready")'],
        'gpu-check': [PY, '-c', 'import sys; print("loading"); '
                      'print("error: no kernel image"); sys.exit(1)'],
        'resume': ['sleep', '5'],
        'bench-b2': [PY, '-c', 'print("fp32 0.1 s")'],
    }, caps={'setup': 30, 'gpu-check': 30, 'resume': 1, 'bench-b2': 30})
    statuses = _statuses(summary)
    assert statuses['setup'] == ('passed', 'environment ready')
    assert statuses['gpu-check'] == ('failed', 'exit 1: error: no kernel '
                                     'image')
    assert statuses['resume'] == ('cut', 'still running after its cap of '
                                  '1 s')
    # A failed stage does not stop the later ones; only the set-up does.
    assert statuses['bench-b2'][0] == 'passed'
    assert not summary['passed']
    with open(tmp_path / 'gpu_accept.json') as f:
        assert json.load(f)['stages'] == summary['stages']
    log = (tmp_path / 'gpu_accept.log').read_text()
    assert 'environment ready' in log and 'no kernel image' in log
    table = gpu_accept.table(summary)
    assert 'gpu-accept NOT passed' in table


def test_the_budget_cuts_the_stage_in_flight_and_skips_the_rest(tmp_path):
    summary = _accept(tmp_path, {
        'setup': ['true'], 'gpu-check': ['sleep', '10'],
        'resume': ['true']}, budget=2)
    statuses = _statuses(summary)
    assert statuses['gpu-check'][0] == 'cut'
    assert 'the budget of 2 s ran out' in statuses['gpu-check'][1]
    assert statuses['resume'] == ('skipped', 'the budget of 2 s was spent')
    assert summary['total_s'] < 5


def test_nothing_runs_after_a_failed_set_up(tmp_path):
    summary = _accept(tmp_path, {'setup': ['false'], 'gpu-check': ['true']})
    assert _statuses(summary)['gpu-check'] == ('skipped',
                                               'setup did not pass')


def test_the_gpu_stages_are_the_issues_list():
    commands = gpu_accept.commands_for('/out', False, '/venv')
    assert list(commands) == ['setup', 'gpu-check', 'resume', 'bench-b2',
                              'bench-b16']
    for name in ('bench-b2', 'bench-b16'):
        line = ' '.join(commands[name])
        assert '--vs' in line and gpu_accept.ROW in line
        assert '--modes fp32 amp-bf16 amp-fp16 channels-last' in line
    assert '--batch-size 16' in ' '.join(commands['bench-b16'])
    assert '--loss-check-fastest' in commands['bench-b16']
    # On a GPU node nothing runs on the CPU or at toy size.
    assert not [c for c in commands.values() if '--toy' in c or 'cpu' in c]
    assert list(gpu_accept.commands_for('/out', False, '/venv',
                                        ['bench-b2'])) == ['setup',
                                                           'bench-b2']


def test_a_benchmark_whose_losses_differ_fails_its_stage(tmp_path):
    rows = [dict(config='ours', mode=m, batch_size=16, images_s=v,
                 memory_mb=9000.0) for m, v in (('fp32', 30.0),
                                                ('amp-bf16', 60.0))]
    result = dict(device='NVIDIA H200', rows=rows, baseline=dict(
        config='stock', mode='fp32', batch_size=2, images_s=20.0),
        loss_checks=[dict(mode='amp-bf16', batch_size=16, ok=False)])
    (tmp_path / 'bench-b16.json').write_text(json.dumps(result))
    summary = _accept(tmp_path, {'setup': ['true'], 'bench-b16': ['true']})
    stage = summary['stages'][1]
    assert (stage['status'], stage['why']) == (
        'failed', 'loss check differs: amp-bf16')
    assert stage['figures']['best_mode'] == 'amp-bf16'
    assert stage['figures']['x_stock_fp32_b2'] == 3.0
    result['loss_checks'][0]['ok'] = True
    (tmp_path / 'bench-b16.json').write_text(json.dumps(result))
    summary = _accept(tmp_path, {'setup': ['true'], 'bench-b16': ['true']})
    assert _statuses(summary)['bench-b16'] == (
        'passed', 'best amp-bf16: 60.0 images/s (3.0x stock fp32 batch 2), '
        '9000 MiB')


@pytest.mark.slow
def test_rehearsal_on_cpu_processes(wheelhouse, tmp_path):
    """The stages as on a GPU node, offline from the session's wheelhouse,
    into the image's own environment (VENV=): made by uv with torch in it
    and no pip, as a GPU image has it."""
    env = hermetic_env(str(tmp_path), WHEELHOUSE=str(wheelhouse))
    venv = tmp_path / 'image'
    uv_image(str(venv), env)
    out = tmp_path / 'accept'
    result = subprocess.run(
        [PY, 'install/gpu_accept.py', '--toy', '--out', str(out),
         '--venv', str(venv)], cwd=REPO_ROOT, capture_output=True,
        text=True, timeout=1200, env=env)
    with open(out / 'gpu_accept.json') as f:
        summary = json.load(f)
    assert result.returncode == 0, (result.stdout, (out / 'gpu_accept.log')
                                    .read_text()[-5000:])
    assert [s['stage'] for s in summary['stages']] == [
        'setup', 'gpu-check', 'resume', 'bench-b2', 'bench-b16']
    assert summary['passed'] and summary['toy']
    log = (out / 'gpu_accept.log').read_text()
    assert f'{venv} has no pip: adding it (ensurepip)' in log
    assert 'keeping the installed torch' in log
    assert f'offline: installing from {wheelhouse} only' in log
    assert 'gpu-accept passed' in result.stdout
    statuses = _statuses(summary)
    assert statuses['gpu-check'][1].startswith('[gpu-check] passed on CPU')
    assert 'resumed weights differ' in statuses['resume'][1]
    for bench in ('bench-b2', 'bench-b16'):
        assert statuses[bench][1].startswith('best fp32: ')
    assert summary['stages'][-1]['figures']['loss_checks'][0]['ok']
    # The control: the run stopped by SIGTERM, not resumed, is caught.
    from rethink_mmdet.acceptance.launcher_resume import weight_difference
    runs = out / 'resume_check' / 'runs'
    stopped = sorted((runs / 'preempted').glob('iter_*.pth'))[0]
    assert weight_difference(str(runs / 'uninterrupted' / 'iter_4.pth'),
                             str(stopped), 'cpu') > 1e-6
