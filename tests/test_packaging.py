"""OpenMMLab's ``mim`` finds this package's models, installed or editable.

mim reads ``<dist location>/<name>/.mim/model-index.yml`` and runs
``.mim/tools/{train,test}.py``: a wheel ships ``rethink_mmdet/.mim/``
(committed symlinks to configs/, tools/ and model-index.yml, resolved by the
build), and install/setup_env.sh links the editable install.
"""
import importlib.util
import os
import os.path as osp
import subprocess
import sys
import zipfile

import pytest
import yaml

from rethink_mmdet.testing import REPO_ROOT
from rethink_mmdet.toy.pretraining import shipped_paths

needs_mim = pytest.mark.skipif(
    importlib.util.find_spec('mim') is None,
    reason='openmim is not installed (install/setup_env.sh installs it)')


def metafile_models():
    with open(osp.join(REPO_ROOT, 'configs', 'metafile.yml')) as f:
        return yaml.safe_load(f)['Models']


def run_mim(args, cwd):
    # cwd away from the repository: `python -m` puts the working directory on
    # sys.path, and a stray rethink_mmdet.egg-info there would be found first.
    result = subprocess.run([sys.executable, '-m', 'mim'] + args, cwd=cwd,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@needs_mim
def test_mim_list_shows_the_package(tmp_path):
    rows = [line.split() for line in run_mim(['list'], tmp_path).splitlines()]
    assert any(row and row[0] == 'rethink-mmdet' for row in rows), (
        'mim list does not show rethink-mmdet; an editable install needs the '
        'link install/setup_env.sh makes (<site-packages>/rethink-mmdet)')


@needs_mim
def test_mim_search_lists_every_metafile_model(tmp_path):
    out = run_mim(['search', 'rethink-mmdet'], tmp_path)
    found = {line.split(':', 1)[1].strip()
             for line in out.splitlines() if line.startswith('config id:')}
    assert found == {model['Name'] for model in metafile_models()}


def _files_under(folder):
    """Every file of a checkout folder, relative to the checkout."""
    for root, dirs, files in os.walk(osp.join(REPO_ROOT, folder)):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        for name in files:
            yield osp.relpath(osp.join(root, name), REPO_ROOT)


def test_wheel_ships_configs_and_model_index(built_wheel):
    wheel = built_wheel
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        shipped_index = zf.read('rethink_mmdet/.mim/model-index.yml')
    with open(osp.join(REPO_ROOT, 'model-index.yml'), 'rb') as f:
        assert shipped_index == f.read()
    for rel in _files_under('configs'):
        assert f'rethink_mmdet/.mim/{rel}' in names, rel
    # mim resolves each model's Config relative to .mim/.
    for model in metafile_models():
        assert f"rethink_mmdet/.mim/{model['Config']}" in names, model['Name']
    # Every user tool (`mim train` / `mim test` run
    # <package>/.mim/tools/{train,test}.py), and no install machinery:
    # install/ stays in the checkout.
    for rel in _files_under('tools'):
        assert f'rethink_mmdet/.mim/{rel}' in names, rel
    for name in os.listdir(osp.join(REPO_ROOT, 'install')):
        assert not [n for n in names if osp.basename(n.rstrip('/')) == name
                    ], name
    # make study fine-tunes the shipped pre-trained toy classifier.
    for path in shipped_paths().values():
        rel = osp.relpath(path, REPO_ROOT)
        assert rel in names, rel
