"""MMDetection's own tools and OpenMMLab's ``mim`` on our configs.

A model of this package is evaluated by MMDetection's ``tools/test.py`` (the
one its wheel ships under ``mmdet/.mim/tools/``) with the same numbers as by
ours: the config's ``custom_imports`` is all mmdet needs. ``mim train`` and
``mim test`` find our tools where mim looks for them
(``<package>/.mim/tools/``).
"""
import glob
import importlib.util
import json
import os.path as osp
import pickle
import re
import subprocess
import sys

import mmdet
import pytest
import torch

from rethink_mmdet.testing import (
    REPO_ROOT,
    TOY_CONFIG,
    as_cli_options,
    run_tool,
    tool_env,
    toy_overrides,
    toy_train_command,
)

pytestmark = pytest.mark.slow

MMDET_TEST = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools',
                      'test.py')
needs_mim = pytest.mark.skipif(
    importlib.util.find_spec('mim') is None,
    reason='openmim is not installed (install/setup_env.sh installs it)')


def _metrics(output: str) -> dict:
    """The ``coco/...`` numbers of the last test-loop line of a log."""
    lines = [line for line in output.splitlines()
             if 'Iter(test)' in line and 'coco/' in line]
    assert lines, output[-3000:]
    return {key: float(value) for key, value in
            re.findall(r'coco/(\w+): (-?[\d.]+)', lines[-1])}


@pytest.fixture(scope='module')
def toy_checkpoint(tmp_path_factory, tiny_coco):
    work_dir = tmp_path_factory.mktemp('toy_run')
    run_tool(toy_train_command(work_dir, tiny_coco, max_iters=2))
    return str(work_dir / 'iter_2.pth')


def test_mmdet_test_tool_gives_our_numbers(toy_checkpoint, tiny_coco,
                                           tmp_path):
    options = as_cli_options(toy_overrides(tiny_coco, 2))
    runs = {}
    for name, tool in (('ours', 'tools/test.py'), ('mmdet', MMDET_TEST)):
        result = run_tool([sys.executable, tool, TOY_CONFIG, toy_checkpoint,
                           '--work-dir', str(tmp_path / name), '--out',
                           str(tmp_path / f'{name}.pkl'), *options])
        with open(tmp_path / f'{name}.pkl', 'rb') as f:
            runs[name] = (_metrics(result.stdout + result.stderr),
                          pickle.load(f))
    metrics, predictions = runs['ours']
    assert {'bbox_mAP', 'segm_mAP', 'bbox_mAP_50'} <= set(metrics)
    assert runs['mmdet'][0] == metrics
    # A model trained 2 iterations scores about 0: the detections
    # themselves (score_thr 0) are the sensitive comparison.
    assert len(predictions) == 8 and all(
        len(p['pred_instances']['scores']) for p in predictions)
    for mine, theirs in zip(predictions, runs['mmdet'][1]):
        assert mine['img_id'] == theirs['img_id']
        for key in ('bboxes', 'scores', 'labels'):
            assert torch.equal(mine['pred_instances'][key],
                               theirs['pred_instances'][key]), key


@pytest.fixture(scope='module')
def wheel_venv(built_wheel, tmp_path_factory):
    """A new environment with this checkout's wheel installed, seeing this
    environment's torch, mmdet and openmim (install/make_venv.py, as
    the set-up makes one under an image): what ``mim`` runs there is the
    wheel's, never this checkout's."""
    venv = tmp_path_factory.mktemp('wheel_venv') / 'venv'
    subprocess.run([sys.executable, osp.join(REPO_ROOT, 'install',
                                             'make_venv.py'), str(venv),
                    '1'], check=True, capture_output=True)
    python = str(venv / 'bin' / 'python')
    subprocess.run([python, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--no-index', '--disable-pip-version-check',
                    str(built_wheel)], check=True, capture_output=True)
    return python


@needs_mim
def test_mim_train_and_test_from_the_installed_wheel(
        wheel_venv, toy_checkpoint, tiny_coco, tmp_path):
    """``mim train/test rethink-mmdet CONFIG``: mim runs
    ``<package>/.mim/tools/{train,test}.py`` with ``--launcher none``; a
    config name alone is looked up in ``<package>/.mim/configs``."""
    options = as_cli_options(toy_overrides(tiny_coco, 2))
    env = tool_env()
    env.pop('PYTHONPATH', None)
    package = subprocess.run(
        [wheel_venv, '-c', 'import rethink_mmdet; '
         'print(rethink_mmdet.__file__)'], cwd=tmp_path, env=env,
        capture_output=True, text=True, check=True).stdout.strip()
    assert package.startswith(osp.dirname(osp.dirname(wheel_venv))), package
    config = osp.basename(TOY_CONFIG)

    def mim(*args):
        # cwd away from the checkout: nothing of it is on the path.
        result = subprocess.run([wheel_venv, '-m', 'mim', *args],
                                cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    work_dir = tmp_path / 'mim_train'
    train = mim('train', 'rethink-mmdet', config, '--work-dir',
                str(work_dir), *options)
    assert 'Training finished successfully' in train.stdout, train.stdout
    assert (work_dir / 'iter_2.pth').is_file()
    assert osp.join(osp.dirname(package), '.mim', 'tools', 'train.py') \
        in train.stdout + train.stderr

    test = mim('test', 'rethink-mmdet', config, '--checkpoint',
               toy_checkpoint, '--work-dir', str(tmp_path / 'mim_test'),
               *options)
    direct = run_tool([sys.executable, 'tools/test.py', TOY_CONFIG,
                       toy_checkpoint, '--work-dir',
                       str(tmp_path / 'direct'), *options])
    assert _metrics(test.stdout + test.stderr) == _metrics(
        direct.stdout + direct.stderr)


def test_mmdet_train_tool_trains_our_config_as_ours_does(tiny_coco,
                                                         tmp_path):
    """MMDetection's tools/train.py on our config (custom_imports brings our
    modules): with the same seed, the same losses as our tools/train.py."""
    mmdet_train = osp.join(osp.dirname(MMDET_TEST), 'train.py')
    losses = {}
    for name, tool in (('ours', 'tools/train.py'), ('mmdet', mmdet_train)):
        work_dir = tmp_path / name
        command = toy_train_command(
            work_dir, tiny_coco, max_iters=2,
            **{'randomness.seed': 0, 'randomness.deterministic': True})
        command[1] = tool
        run_tool(command)
        [scalars] = glob.glob(osp.join(str(work_dir), '*', 'vis_data',
                                       'scalars.json'))
        with open(scalars) as f:
            losses[name] = [json.loads(line)['loss'] for line in f
                            if '"loss"' in line]
    assert len(losses['ours']) == 2
    assert losses['mmdet'] == losses['ours']
