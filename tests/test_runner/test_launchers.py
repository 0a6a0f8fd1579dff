"""The launchers stop with one line instead of hanging or falling back to
CPU processes on a GPU node; the Slurm scripts and the sbatch template."""
import os
import signal
import subprocess
import time

from rethink_mmdet.testing import REPO_ROOT, TOY_CONFIG, tool_env


def _fake_commands(folder, **scripts):
    """An environment whose PATH starts with ``folder``, holding a shell
    script per keyword (name: body)."""
    folder.mkdir(exist_ok=True)
    for name, body in scripts.items():
        path = folder / name.replace('_', '-')
        path.write_text('#!/usr/bin/env bash\n' + body)
        path.chmod(0o755)
    env = tool_env()
    env['PATH'] = f'{folder}{os.pathsep}{env["PATH"]}'
    return env


def _launch(command, env, timeout=60):
    return subprocess.run(['bash', *command], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_several_nodes_without_master_addr_stop_at_once(tmp_path):
    env = tool_env()
    env.pop('MASTER_ADDR', None)
    env['NNODES'] = '2'
    start = time.monotonic()
    result = _launch(['tools/dist_train.sh', TOY_CONFIG, '1'], env)
    assert time.monotonic() - start < 10  # before torch is even imported
    assert result.returncode == 2
    assert result.stderr == ('error: NNODES=2 needs MASTER_ADDR (the address '
                             'of the node with NODE_RANK=0) on every node\n')


def test_a_gpu_node_where_torch_sees_no_gpu_stops(tmp_path):
    # torch sees no GPU (the suite's pin); a fake nvidia-smi makes this a
    # GPU node, where CPU processes are not asked for.
    env = _fake_commands(tmp_path / 'bin', nvidia_smi='echo "GPU 0: H200"\n')
    env.pop('CPU_ONLY')
    for tool in (['tools/dist_train.sh', TOY_CONFIG, '2'],
                 ['tools/dist_test.sh', TOY_CONFIG, 'x.pth', '2']):
        result = _launch(tool, env)
        assert result.returncode == 2
        lines = result.stderr.splitlines()
        assert len(lines) == 1
        assert lines[0].startswith('error: nvidia-smi is here but torch ')
        assert 'sees no GPU' in lines[0] and '--gres' in lines[0]
    # On request, CPU processes: the launch goes on to train.py (which
    # then stops on the missing config).
    env['CPU_ONLY'] = '1'
    result = _launch(['tools/dist_train.sh', 'missing.py', '1'], env,
                     timeout=300)
    assert 'nvidia-smi is here' not in result.stderr
    assert 'missing.py' in result.stderr


def test_slurm_scripts_use_the_venv_and_a_port_from_the_job_id(tmp_path):
    record = tmp_path / 'srun.args'
    env = _fake_commands(tmp_path / 'bin',
                         srun=f'printf "%s\\n" "$@" > {record}\n')
    env.pop('PYTHON')
    result = _launch(['tools/slurm_train.sh', 'part', 'job', TOY_CONFIG,
                      'work'], env)
    assert result.returncode == 0, result.stderr
    args = record.read_text().splitlines()
    venv = os.path.join(REPO_ROOT, '.venv', 'bin', 'python')
    task = args.index(os.path.join(REPO_ROOT, 'tools', 'slurm', 'task.sh'))
    assert args[task + 1] == (venv if os.path.exists(venv) else 'python')
    assert args[-1] == '--launcher=slurm'

    def port(job_id, **extra):
        return subprocess.run(
            ['tools/slurm/task.sh', 'sh', '-c', 'echo $MASTER_PORT'],
            cwd=REPO_ROOT, capture_output=True, text=True,
            env=dict(os.environ, SLURM_JOB_ID=job_id, **extra)).stdout
    assert port('123456') == '23456\n'
    assert port('123457') == '23457\n'
    assert port('123456', MASTER_PORT='29999') == '29999\n'


def test_sbatch_template_forwards_the_signal_and_requeues(tmp_path):
    log = tmp_path / 'log'
    # A training that stops cleanly on SIGUSR1, as PreemptionHook does.
    env = _fake_commands(
        tmp_path / 'bin',
        srun=f'trap "echo training got USR1 >> {log}; exit 0" USR1\n'
             f'echo started >> {log}\n'
             'while true; do sleep 0.05; done\n',
        scontrol=f'echo "scontrol $*" >> {log}\n')
    env['SLURM_JOB_ID'] = '77'
    process = subprocess.Popen(
        ['bash', 'tools/slurm/train.sbatch', TOY_CONFIG, str(tmp_path / 'w')],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    start = time.monotonic()
    while not (log.exists() and 'started' in log.read_text()):
        assert time.monotonic() - start < 30 and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGUSR1)  # what --signal=B:USR1@300 sends
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    assert log.read_text().splitlines() == [
        'started', 'training got USR1', 'scontrol requeue 77']
    assert 'time limit near: checkpoint, then requeue' in output
    with open(os.path.join(REPO_ROOT, 'tools', 'slurm',
                           'train.sbatch')) as f:
        header = f.read()
    assert '#SBATCH --requeue' in header
    assert '#SBATCH --signal=B:USR1@300' in header
