"""A checkpoint whose pickle runs code (it creates a marker file), given to
the tools as a user would: refused with exit 2 on every path, loaded with
the explicit opt-in (issue 19)."""
import sys

import pytest

from rethink_mmdet.engine.checkpointing import TRUST_ENV
from rethink_mmdet.runner.configs import config_path
from rethink_mmdet.testing import (
    TOY_CONFIG,
    as_cli_options,
    read_run_checkpoint,
    run_tool,
    tool_env,
    toy_overrides,
    toy_train_command,
    write_code_running_checkpoint,
)

pytestmark = pytest.mark.slow

PRETRAINED_CONFIG = config_path(
    'toy/mask-rcnn_r18-tiny-pretrained_fpn_gn-all_toy-1200i_synthetic-coco.py')
#: The name the pre-trained toy config loads (imagenet://NAME).
BACKBONE = 'toy-resnet18_gn_synthetic-shapes'


@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny_coco):
    """A real checkpoint of the toy detector after 2 iterations."""
    work_dir = tmp_path_factory.mktemp('trained')
    run_tool(toy_train_command(work_dir, tiny_coco, 2), env=_env())
    return read_run_checkpoint(str(work_dir / 'iter_2.pth'))


def _env(**extra):
    env = tool_env()
    env.pop(TRUST_ENV, None)
    env.pop('RETHINK_IMAGENET_DIR', None)
    env.update(extra)
    return env


def _malicious(tmp_path, checkpoint, name='malicious.pth'):
    marker, path = tmp_path / 'marker', tmp_path / name
    write_code_running_checkpoint(str(path), str(marker), checkpoint)
    return path, marker


def _assert_refused(command, path, marker, env=None):
    result = run_tool(command, returncode=2, env=env or _env())
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: checkpoint {path} ')
    assert 'builtins.exec' in last and '--trust-checkpoint' in last
    assert 'Traceback' not in result.stderr
    assert not marker.exists()


def _pretrained_command(work_dir, data_root, **overrides):
    options = {**toy_overrides(data_root, 2, config=PRETRAINED_CONFIG),
               **overrides}
    return [sys.executable, 'tools/train.py', PRETRAINED_CONFIG,
            '--work-dir', str(work_dir), *as_cli_options(options)]


def test_resume_and_load_from(tmp_path, tiny_coco, trained):
    path, marker = _malicious(tmp_path, trained)
    resume = toy_train_command(tmp_path / 'resumed', tiny_coco, 3,
                               extra=['--resume', str(path)])
    _assert_refused(resume, path, marker)
    _assert_refused(toy_train_command(tmp_path / 'loaded', tiny_coco, 2,
                                      load_from=str(path)), path, marker)
    # Opted in, the file is loaded (and its code runs): the run continues.
    run_tool(resume + ['--trust-checkpoint'], env=_env())
    assert marker.exists()
    resumed = read_run_checkpoint(str(tmp_path / 'resumed' / 'iter_3.pth'))
    assert resumed['meta']['iter'] == 3


def test_pretrained_and_imagenet_dir(tmp_path, tiny_coco, trained):
    backbone = {key[len('backbone.'):]: value
                for key, value in trained['state_dict'].items()
                if key.startswith('backbone.')}
    path, marker = _malicious(tmp_path, dict(state_dict=backbone),
                              f'{BACKBONE}.pth')
    _assert_refused(
        _pretrained_command(tmp_path / 'pretrained', tiny_coco, **{
            'model.backbone.init_cfg.checkpoint': str(path)}), path, marker)
    imagenet = _pretrained_command(tmp_path / 'imagenet', tiny_coco)
    _assert_refused(imagenet, path, marker,
                    env=_env(RETHINK_IMAGENET_DIR=str(tmp_path)))
    run_tool(imagenet, env=_env(RETHINK_IMAGENET_DIR=str(tmp_path),
                                **{TRUST_ENV: '1'}))
    assert marker.exists()


def test_test_tool(tmp_path, tiny_coco, trained):
    path, marker = _malicious(tmp_path, trained)
    command = [sys.executable, 'tools/test.py', TOY_CONFIG, str(path),
               '--work-dir', str(tmp_path / 'test'),
               *as_cli_options(toy_overrides(tiny_coco, 2))]
    _assert_refused(command, path, marker)
    result = run_tool(command + ['--trust-checkpoint'], env=_env())
    assert 'coco/bbox_mAP' in result.stdout + result.stderr
    assert marker.exists()
