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
    # The suite pins CPU_ONLY=1 for its own runs; these tests choose.
    env.pop('CPU_ONLY', None)
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
    # A training that stops cleanly on SIGUSR1 with iterations left, as
    # PreemptionHook does: it leaves the marker in its work_dir.
    env = _fake_commands(
        tmp_path / 'bin',
        srun=f'trap "echo training got USR1 >> {log}; mkdir -p {tmp_path}/w;'
             f' touch {tmp_path}/w/preempted; exit 0" USR1\n'
             f'echo started >> {log}\n'
             'while true; do sleep 0.05; done\n',
        scontrol=f'echo "scontrol $*" >> {log}\n')
    env.update(SLURM_JOB_ID='77', RETHINK_REPO=REPO_ROOT)
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


def test_slurm_tasks_on_a_gpu_node_where_torch_sees_no_gpu_stop(tmp_path):
    env = _fake_commands(tmp_path / 'bin', nvidia_smi='echo "GPU 0: H200"\n')
    env.update(SLURM_JOB_ID='5', SLURM_LOCALID='0')
    task = ['tools/slurm/task.sh', env['PYTHON'], '-c',
            'import os; print(repr(os.environ["CUDA_VISIBLE_DEVICES"]))']
    result = _launch(task, env)
    assert result.returncode == 2 and result.stdout == ''
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and 'nvidia-smi is here but torch' in lines[0]
    # The node's other tasks stop without repeating the line.
    result = _launch(task, dict(env, SLURM_LOCALID='3'))
    assert (result.returncode, result.stderr) == (2, '')
    result = _launch(task, dict(env, CPU_ONLY='1'))
    assert (result.returncode, result.stdout) == (0, "''\n")


def _srun_arguments(tmp_path, **variables):
    record = tmp_path / 'srun.args'
    env = _fake_commands(tmp_path / 'bin',
                         srun=f'printf "%s\\n" "$@" > {record}\n')
    env.update(variables)
    result = _launch(['tools/slurm_train.sh', 'part', 'job', TOY_CONFIG,
                      'work'], env)
    return result, (record.read_text().splitlines()
                    if record.exists() else None)


def test_slurm_scripts_ask_for_gpus_or_cpu_processes(tmp_path):
    result, args = _srun_arguments(tmp_path)
    assert '--gres=gpu:8' in args and '--ntasks-per-node=8' in args
    result, args = _srun_arguments(tmp_path, GPUS_PER_NODE='4', GPUS='8')
    assert '--gres=gpu:4' in args and '--ntasks-per-node=4' in args
    result, args = _srun_arguments(tmp_path, CPU_ONLY='1', GPUS='2',
                                   GPUS_PER_NODE='2')
    assert not [a for a in args if a.startswith('--gres')]
    assert '--ntasks=2' in args and '--ntasks-per-node=2' in args
    (tmp_path / 'srun.args').unlink()
    result, args = _srun_arguments(tmp_path, GPUS_PER_NODE='two')
    assert args is None and result.returncode == 2
    assert result.stderr == ('error: GPUS_PER_NODE=two is not a positive '
                             'whole number\n')


def _sbatch_on_sigterm(tmp_path, job_state, marker='preempted'):
    """The template's log when Slurm sends SIGTERM to a job that
    ``scontrol show job`` then shows in ``job_state``, and the training
    stops leaving ``marker`` in its work_dir."""
    log = tmp_path / 'log'
    log.unlink(missing_ok=True)
    (tmp_path / 'w').mkdir(exist_ok=True)
    env = _fake_commands(
        tmp_path / 'bin',
        srun=f'trap "echo training got TERM >> {log}; '
             f'touch {tmp_path}/w/{marker}; exit 0" TERM\n'
             f'echo started >> {log}\n'
             'while true; do sleep 0.05; done\n',
        scontrol=f'[ "$1" = show ] && echo "JobId=77 {job_state}" '
                 f'"Command={REPO_ROOT}/tools/slurm/train.sbatch" && exit\n'
                 f'echo "scontrol $*" >> {log}\n')
    env['SLURM_JOB_ID'] = '77'
    process = subprocess.Popen(
        ['bash', os.path.join(REPO_ROOT, 'tools/slurm/train.sbatch'),
         TOY_CONFIG, str(tmp_path / 'w')], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    start = time.monotonic()
    while not (log.exists() and 'started' in log.read_text()):
        assert time.monotonic() - start < 30 and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    return log.read_text().splitlines()


def test_sbatch_template_requeues_after_sigterm_only_when_slurm_does_not(
        tmp_path):
    # Submitted from elsewhere (cwd tmp_path): the checkout comes from the
    # submitted script's path. The time limit or a plain signal: requeue.
    for state in ('JobState=COMPLETING Reason=TimeLimit',
                  'JobState=RUNNING Reason=None'):
        assert _sbatch_on_sigterm(tmp_path, state) == [
            'started', 'training got TERM', 'scontrol requeue 77']
    # scancel, scontrol requeue, preemption: a cancel stays cancelled.
    assert _sbatch_on_sigterm(tmp_path, 'JobState=COMPLETING Reason=None') \
        == ['started', 'training got TERM']
    # A training that ended anyway (PreemptionHook left no marker).
    (tmp_path / 'w' / 'preempted').unlink()
    assert _sbatch_on_sigterm(tmp_path, 'JobState=RUNNING Reason=None',
                              marker='other') == ['started',
                                                  'training got TERM']


def test_sbatch_template_without_a_checkout_stops_with_one_line(tmp_path):
    env = _fake_commands(tmp_path / 'bin', srun='exit 0\n',
                         scontrol='echo "JobId=7 Command=/tmp/x.sbatch"\n')
    env.update(SLURM_JOB_ID='7', SLURM_SUBMIT_DIR=str(tmp_path))
    result = subprocess.run(
        ['bash', os.path.join(REPO_ROOT, 'tools/slurm/train.sbatch'),
         TOY_CONFIG, 'w'], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (f'error: no rethink-mmdet checkout at '
                             f'{tmp_path} (no tools/train.py): submit with '
                             'RETHINK_REPO=DIR\n')
