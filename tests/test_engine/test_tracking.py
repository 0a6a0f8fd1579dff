"""Tracking as one run per work_dir (engine/tracking.py): the backends on
their own, ``--track``, and a toy training SIGKILLed past its checkpoint,
resumed, then read back with TensorBoard's own readers and W&B's files."""
import glob
import json
import os
import signal
import struct
import subprocess
import sys
from collections import Counter

import pytest
from mmengine.config import Config

from rethink_mmdet.cli.train import configure, parse_args
from rethink_mmdet.engine.tracking import (
    WANDB_ID_FILE,
    ResumableTensorboardVisBackend,
    run_folder,
    wandb_run_id,
)
from rethink_mmdet.runner import UsageError, train_job
from rethink_mmdet.runner.train_job import add_trackers
from rethink_mmdet.testing import (
    REPO_ROOT,
    TOY_CONFIG,
    run_tool,
    tool_env,
    toy_train_command,
)
from rethink_mmdet.testing.runs import tensorboard_steps


def _backend(work_dir, stamp):
    """The backend as mmengine's Visualizer makes it in one process."""
    return ResumableTensorboardVisBackend(
        save_dir=str(work_dir / stamp / 'vis_data'))


def test_a_resumed_process_replaces_the_steps_it_logs_again(tmp_path):
    killed = _backend(tmp_path, '20250101_000000')
    killed.add_config(Config(dict(a=1)))
    for step in range(1, 6):  # killed after step 5, checkpoint 3
        killed.add_scalars({'loss': 1.0 * step}, step=step)
    killed.add_scalars({'coco/bbox_mAP': 0.1}, step=3)
    resumed = _backend(tmp_path, '20250101_010000')
    resumed.add_config(Config(dict(a=1)))
    for step in range(4, 7):
        resumed.add_scalars({'loss': 10.0 * step}, step=step)
    killed.close()
    resumed.close()
    assert len(os.listdir(tmp_path / 'tensorboard')) == 2
    assert tensorboard_steps(tmp_path / 'tensorboard', 'loss') == [
        (1, 1.0), (2, 2.0), (3, 3.0), (4, 40.0), (5, 50.0), (6, 60.0)]
    assert tensorboard_steps(tmp_path / 'tensorboard', 'coco/bbox_mAP') == [
        (3, pytest.approx(0.1))]


def test_a_process_that_only_evaluates_erases_nothing(tmp_path):
    training = _backend(tmp_path, '20250101_000000')
    for step in range(1, 4):
        training.add_scalars({'loss': 1.0 * step}, step=step)
    training.close()
    # tools/test.py or a validation without training: step 0.
    evaluation = _backend(tmp_path, '20250101_010000')
    evaluation.add_scalars({'loss': 9.0}, step=0)
    evaluation.close()
    steps = tensorboard_steps(tmp_path / 'tensorboard', 'loss')
    assert [s for s, _ in steps] == [1, 2, 3, 0]


def test_the_run_folder_is_the_work_dir_of_mmengine_s_save_dir(tmp_path):
    assert run_folder(str(tmp_path / '20250101_000000' / 'vis_data')) == \
        str(tmp_path)
    # A save_dir set in the config is taken as it is.
    assert run_folder(str(tmp_path / 'tb')) == str(tmp_path / 'tb')


def test_the_wandb_id_is_kept_in_the_work_dir(tmp_path):
    first = wandb_run_id(str(tmp_path / 'a'))
    assert wandb_run_id(str(tmp_path / 'a')) == first
    assert (tmp_path / 'a' / WANDB_ID_FILE).read_text().strip() == first
    assert wandb_run_id(str(tmp_path / 'b')) != first
    again = wandb_run_id(str(tmp_path / 'a'), new=True)
    assert again != first
    assert wandb_run_id(str(tmp_path / 'a')) == again


def test_the_documented_config_line_names_the_backend(tmp_path):
    with open(os.path.join(REPO_ROOT, 'docs', 'tracking.md')) as f:
        line, = [x for x in f if x.startswith('visualizer = ')]
    config = tmp_path / 'row.py'
    config.write_text(f'_base_ = {TOY_CONFIG!r}\n{line}')
    cfg = configure(parse_args([str(config), '--work-dir', str(tmp_path)]))
    assert cfg.visualizer.type == 'DetLocalVisualizer'
    assert [b['type'] for b in cfg.visualizer.vis_backends] == [
        'LocalVisBackend', 'ResumableTensorboardVisBackend']


# Three processes' W&B logging through the backend in one: a training,
# its resume, a training started over; every host name looked up goes to
# a file (also at exit, when wandb exports its telemetry).
OFFLINE_RUNS = """
import socket, sys
looked_up = open(sys.argv[2], 'a')
lookup = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    if host in ('localhost', '127.0.0.1', '::1'):
        return lookup(host, *args, **kwargs)
    looked_up.write(host + '\\n')
    looked_up.flush()
    raise OSError(host + ': no network here')
socket.getaddrinfo = getaddrinfo
from mmengine.config import Config
from rethink_mmdet.engine.tracking import ResumableWandbVisBackend
for stamp, first_step, resume in (('0', 1, dict(resume=False)),
                                  ('1', 4, dict(resume=True,
                                                load_from='iter_3.pth')),
                                  ('2', 1, dict(resume=False))):
    backend = ResumableWandbVisBackend(sys.argv[1] + f'/{stamp}/vis_data')
    backend.add_config(Config(resume))
    backend.add_scalars({'loss': 1.0}, step=first_step)
    backend.close()
"""


def test_wandb_keeps_the_id_on_resume_offline_looking_up_no_host(
        tmp_path):
    env = tool_env()
    env.pop('WANDB_MODE', None)
    looked_up = tmp_path / 'looked_up.txt'
    looked_up.write_text('')
    run_tool([sys.executable, '-c', OFFLINE_RUNS, str(tmp_path),
              str(looked_up)], env=env)
    # Folders are named by the second a run starts, then its id: in any
    # order, the resume's id is the first one's, the id file the last's.
    ids = Counter(p.rsplit('-', 1)[1] for p in
                  glob.glob(str(tmp_path / 'wandb' / 'offline-run-*')))
    last = (tmp_path / WANDB_ID_FILE).read_text().strip()
    assert sorted(ids.values()) == [1, 2] and ids[last] == 1, ids
    # wandb 0.31 given mode='offline' in wandb.init alone looks up
    # api.forge.coreweave.com.
    assert looked_up.read_text() == ''


def test_track_appends_the_backends_and_keeps_the_local_one(tmp_path):
    cfg = configure(parse_args([TOY_CONFIG, '--work-dir', str(tmp_path),
                                '--track', 'tensorboard', '--track',
                                'wandb']))
    types = [b['type'] for b in cfg.visualizer.vis_backends]
    assert types == ['LocalVisBackend', 'ResumableTensorboardVisBackend',
                     'ResumableWandbVisBackend']
    # A config that names the backend already keeps one of it.
    add_trackers(cfg, ['tensorboard'])
    assert len(cfg.visualizer.vis_backends) == 3
    with pytest.raises(UsageError, match='--track mlflow: not one of'):
        add_trackers(cfg, ['mlflow'])
    with pytest.raises(SystemExit):
        parse_args([TOY_CONFIG, '--track', 'mlflow'])


def test_track_without_its_package_is_one_line(monkeypatch):
    monkeypatch.setattr(train_job, 'find_spec',
                        lambda name: None if name == 'wandb' else name)
    cfg = Config(dict(visualizer=dict(vis_backends=[])))
    with pytest.raises(UsageError,
                       match=r'^--track wandb needs the wandb package: '
                       r'\S+ -m pip install wandb$'):
        add_trackers(cfg, ['tensorboard', 'wandb'])


# Run in the first training only: SIGKILL right after step STEP is logged
# (checkpoint 3 is the newest), as a node lost mid-run.
KILL_AFTER_LOGGING = '''
import os, signal
from mmengine.hooks import logger_hook
_after = logger_hook.LoggerHook.after_train_iter
def after_train_iter(self, runner, *args, **kwargs):
    _after(self, runner, *args, **kwargs)
    if runner.iter + 1 == {step}:
        os.kill(os.getpid(), signal.SIGKILL)
logger_hook.LoggerHook.after_train_iter = after_train_iter
'''


def _wandb_history(path):
    """``(run id, [step])`` of an offline W&B file (a LevelDB-style log of
    ``Record`` protos after a 7-byte header; wandb has no reader)."""
    from wandb.proto import wandb_internal_pb2
    data = open(path, 'rb').read()
    assert data[:4] == b':W&B', path
    pos, run_id, steps, parts = 7, None, [], b''
    while pos + 7 <= len(data):
        if 32768 - pos % 32768 < 7:  # a block's padding
            pos += 32768 - pos % 32768
            continue
        _, length, kind = struct.unpack('<IHB', data[pos:pos + 7])
        parts += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a whole record, or its last part
            record = wandb_internal_pb2.Record()
            record.ParseFromString(parts)
            parts = b''
            if record.HasField('run'):
                run_id = record.run.run_id
            elif record.HasField('history'):
                steps.append(record.history.step.num)
    return run_id, steps


def _scalars(work_dir, stamp):
    with open(work_dir / stamp / 'vis_data' / 'scalars.json') as f:
        return {r['step']: r['loss'] for r in map(json.loads, f)
                if 'loss' in r}


@pytest.mark.slow
def test_a_killed_and_resumed_training_is_one_run(tmp_path, tiny_coco):
    work_dir = tmp_path / 'row'
    track = ['--track', 'tensorboard', '--track', 'wandb']
    inject = tmp_path / 'inject'
    inject.mkdir()
    (inject / 'sitecustomize.py').write_text(KILL_AFTER_LOGGING.format(
        step=5))
    env = tool_env(first_on_path=str(inject))
    env.pop('WANDB_MODE', None)  # the default: offline
    # wandb writes its file every 15 s: a short run killed sooner would
    # leave only the header, and nothing to read the run id from.
    env['WANDB__TRANSACTION_LOG_FLUSH_INTERVAL'] = '0.2'
    process = subprocess.run(
        toy_train_command(work_dir, tiny_coco, 6, 3, extra=track),
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert process.returncode == -signal.SIGKILL, process.stderr[-3000:]
    assert sorted(p.name for p in work_dir.glob('iter_*.pth')) == [
        'iter_3.pth']
    # The killed process logged past its checkpoint: the purge has work.
    killed_steps = [s for s, _ in tensorboard_steps(
        work_dir / 'tensorboard', 'loss')]
    assert killed_steps == [1, 2, 3, 4, 5]

    env = tool_env()
    env.pop('WANDB_MODE', None)
    run_tool(toy_train_command(work_dir, tiny_coco, 6, 3,
                               extra=['--resume', *track]), env=env)
    events = glob.glob(str(work_dir / '**' / 'events.out.tfevents.*'),
                       recursive=True)
    assert {os.path.dirname(p) for p in events} == {
        str(work_dir / 'tensorboard')} and len(events) == 2
    loss = tensorboard_steps(work_dir / 'tensorboard', 'loss')
    assert [s for s, _ in loss] == [1, 2, 3, 4, 5, 6]
    first, second = sorted(p.parent.parent.name for p in
                           work_dir.glob('*/vis_data/scalars.json'))
    # Steps 4 and 5 are the resumed process's, 1 to 3 the killed one's.
    expected = {**_scalars(work_dir, first), **_scalars(work_dir, second)}
    assert loss == [(s, pytest.approx(expected[s], rel=1e-5))
                    for s in range(1, 7)]
    assert [s for s, _ in tensorboard_steps(work_dir / 'tensorboard',
                                 'coco/bbox_mAP')] == [3, 6]

    # W&B: two offline files of one run id, the iteration as the step.
    run_id = (work_dir / WANDB_ID_FILE).read_text().strip()
    runs = sorted(glob.glob(str(work_dir / 'wandb' / 'offline-run-*' /
                                'run-*.wandb')))
    assert len(runs) == 2
    killed, resumed = (_wandb_history(p) for p in runs)
    assert killed[0] == resumed[0] == run_id
    # A SIGKILL loses what came after the last write, whole records only.
    assert killed[1] == list(range(1, len(killed[1]) + 1))
    assert len(killed[1]) <= 5
    assert resumed[1] == [4, 5, 6]
