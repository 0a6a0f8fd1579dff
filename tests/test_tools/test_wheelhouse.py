"""make wheelhouse, then an offline set-up from it (WHEELHOUSE=DIR).

What this proves: tools/misc/make_wheelhouse.sh collects, for this Python,
every package tools/setup_env.sh installs except torch (left out, as a GPU
image that holds torch allows: LEAVE_OUT=torch) plus this machine's mmcv
build for its key; and tools/setup_env.sh then sets up a second environment
from that folder alone (pip --no-index, proxies pointing nowhere, an empty
wheel store), through its whole path: mmcv from the wheelhouse's keyed
build, the ops check, the imports and mim. torch and its dependencies, and
an OpenCV that pip does not see (as a conda or system one), come from a
folder of links to this environment's (the "image"): the wheelhouse holds
no opencv-python, so any step that asked for it would fail, and none
installs a second OpenCV. Not proven here: a CUDA torch in a wheelhouse
(gigabytes) and an mmcv build from the wheelhouse's source (20 minutes);
docs/gpu.md says where they were run.
"""
import os
import os.path as osp
import subprocess
import sys
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from rethink_mmdet.testing import REPO_ROOT

pytestmark = pytest.mark.slow

OPENCV_DISTS = {'opencv-python', 'opencv-python-headless',
                'opencv-contrib-python', 'opencv-contrib-python-headless'}


def _link_cv2(folder):
    """Links to this environment's cv2 without its package's metadata: an
    OpenCV that imports but that pip does not see (conda's, the system's).
    """
    dist = metadata.distribution(metadata.packages_distributions()['cv2'][0])
    for top in {str(path).split('/')[0] for path in dist.files}:
        if top != '..' and not top.endswith('.dist-info'):
            os.symlink(dist.locate_file(top), osp.join(folder, top))


def _image_with_torch(folder):
    """Links to torch and its dependencies' files: a GPU image's torch."""
    os.makedirs(folder)
    todo, seen = ['torch'], set()
    while todo:
        dist = metadata.distribution(todo.pop())
        if dist.metadata['Name'].lower() in seen:
            continue
        seen.add(dist.metadata['Name'].lower())
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(
                    {'extra': ''}):
                todo.append(requirement.name)
        for top in {str(path).split('/')[0] for path in dist.files}:
            source = dist.locate_file(top)
            if top != '..' and osp.exists(source) and not osp.lexists(
                    osp.join(folder, top)):
                os.symlink(source, osp.join(folder, top))
    return seen


def test_offline_set_up_from_a_wheelhouse(tmp_path):
    wheelhouse = tmp_path / 'wheelhouse'
    made = subprocess.run(
        ['bash', 'tools/misc/make_wheelhouse.sh'], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=900,
        env=dict(os.environ, WHEELHOUSE=str(wheelhouse), LEAVE_OUT='torch',
                 PYTHON=sys.executable))
    assert made.returncode == 0, made.stderr[-3000:]
    files = os.listdir(wheelhouse)
    assert 'mmcv-2.1.0.tar.gz' in files
    assert not [f for f in files if f.startswith('torch-')]
    assert any(f.startswith('mmdet-3.3.0-') for f in files)
    # The OpenCV for a node without one, and no opencv-python.
    assert any(f.startswith('opencv_python_headless-') for f in files)
    assert not [f for f in files if f.startswith('opencv_python-')]
    tag = f'cp{sys.version_info[0]}{sys.version_info[1]}'
    keys = os.listdir(wheelhouse / 'mmcv')
    assert any(f'-{tag}-' in key and key.endswith('-cpu') for key in keys)

    venv = tmp_path / 'venv'
    subprocess.run([sys._base_executable, '-m', 'venv', str(venv)],
                   check=True)
    site = subprocess.run(
        [str(venv / 'bin' / 'python'), '-c',
         'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
        capture_output=True, text=True, check=True).stdout.strip()
    image = _image_with_torch(str(tmp_path / 'image'))
    _link_cv2(str(tmp_path / 'image'))
    with open(osp.join(site, 'image.pth'), 'w') as f:
        f.write(str(tmp_path / 'image') + '\n')
    nowhere = 'http://127.0.0.1:9'
    env = dict(os.environ, VENV=str(venv), WHEELHOUSE=str(wheelhouse),
               WHEEL_STORE=str(tmp_path / 'empty-store'), http_proxy=nowhere,
               https_proxy=nowhere, HTTP_PROXY=nowhere, HTTPS_PROXY=nowhere)
    env.pop('PYTHONPATH', None)
    setup = subprocess.run(['bash', 'tools/setup_env.sh'], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=900,
                           env=env)
    log = setup.stdout + setup.stderr
    assert setup.returncode == 0, log[-5000:]
    assert f'offline: installing from {wheelhouse} only' in log
    assert 'keeping the installed torch' in log
    assert 'keeping the OpenCV that imports: cv2 ' in log
    assert f'installing {wheelhouse}/mmcv/' in log
    assert 'ops: nms and RoIAlign forward/backward correct on cpu' in log
    assert '[setup] environment ready' in log
    # Everything but the image's torch is the second environment's own.
    owned = subprocess.run(
        [str(venv / 'bin' / 'python'), '-c',
         'import mmcv, mmdet, mmengine, pycocotools, torch; '
         'print(mmcv.__file__, mmdet.__file__, mmengine.__file__, '
         'pycocotools.__file__, torch.__file__)'],
        capture_output=True, text=True, check=True).stdout.split()
    assert all(path.startswith(site) for path in owned[:4]), owned
    assert owned[4].startswith(str(tmp_path / 'image')), image
    # No OpenCV package beside the image's cv2.
    names = subprocess.run(
        [str(venv / 'bin' / 'python'), '-c',
         'import cv2; from importlib import metadata; '
         'print(cv2.__file__); '
         'print(*(d.metadata["Name"] for d in metadata.distributions()))'],
        capture_output=True, text=True, check=True).stdout.split()
    assert names[0].startswith(str(tmp_path / 'image')), names[0]
    assert not OPENCV_DISTS & {canonicalize_name(n) for n in names[1:]}
