"""make wheelhouse, then an offline set-up from it (WHEELHOUSE=DIR).

What this proves: install/make_wheelhouse.sh collects, for this Python,
every package install/setup_env.sh installs except torch (left out, as a GPU
image that holds torch allows: LEAVE_OUT=torch) plus the mmcv build of the
current key (the session's wheelhouse, tests/test_install/conftest.py, made
from a wheel store holding only this environment's build); and
install/setup_env.sh then sets up a second environment from that folder
alone (pip --no-index, proxies pointing nowhere, an empty wheel store),
through its whole path: mmcv from the wheelhouse's keyed build, the ops
check, the imports and mim. The parent is an image as a GPU node has it:
an environment made by uv (no pip inside) holding torch and openmim, with
an OpenCV that pip does not see (as a conda or system one); the wheelhouse
holds no opencv-python, so any step that asked for it would fail. With
HAVE=FILE (a GPU image's pip list, shipped in fixtures/) the wheelhouse
holds only what that image lacks, from a local folder of wheels. Not
proven here: a CUDA torch in a wheelhouse (gigabytes) and an mmcv build
from the wheelhouse's source (20 minutes); docs/gpu.md says where they
were run.
"""
import filecmp
import os
import os.path as osp
import subprocess
import sys
import zipfile
from email.parser import BytesParser

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from rethink_mmdet.testing import REPO_ROOT
from rethink_mmdet.testing.environments import (
    hermetic_env,
    installed_mmcv_build,
    link_cv2_without_metadata,
    site_packages,
    uv_image,
    uv_install,
)

pytestmark = pytest.mark.slow

GPU_IMAGE_FREEZE = osp.join(osp.dirname(__file__), 'fixtures',
                            'gpu_image_freeze.txt')
OPENCV_DISTS = {'opencv-python', 'opencv-python-headless',
                'opencv-contrib-python', 'opencv-contrib-python-headless'}
NOWHERE = 'http://127.0.0.1:9'


def _stack(*arrays):
    """Requirements of install/stack.sh's arrays, one per line."""
    names = ' '.join(f'"${{{a}[@]}}"' for a in arrays)
    return subprocess.run(
        ['bash', '-c', f'source install/stack.sh; printf "%s\\n" {names}'],
        cwd=REPO_ROOT, capture_output=True, text=True,
        check=True).stdout.split()


def test_the_wheelhouse_holds_the_stack_and_this_build(wheelhouse):
    """What does not drift with upstream releases: the pins, torch left
    out, one OpenCV, and the mmcv build this environment runs."""
    files = os.listdir(wheelhouse)
    assert 'mmcv-2.1.0.tar.gz' in files
    assert not [f for f in files if f.startswith('torch-')]
    for pinned in ('mmdet-3.3.0-', 'openmim-0.3.9-', 'model_index-0.1.11-',
                   'faster_coco_eval-1.8.0-'):
        assert any(f.startswith(pinned) for f in files), pinned
    # The OpenCV for a node without one, and no opencv-python.
    assert any(f.startswith('opencv_python_headless-') for f in files)
    assert not [f for f in files if f.startswith('opencv_python-')]
    key, wheel = installed_mmcv_build()
    assert os.listdir(wheelhouse / 'mmcv') == [key]
    [carried] = (wheelhouse / 'mmcv' / key).iterdir()
    assert filecmp.cmp(carried, wheel, shallow=False)
    text = (wheelhouse / 'WHEELHOUSE.txt').read_text()
    assert 'torch: left out (the target has it)' in text


def test_offline_set_up_under_an_image_whose_venv_has_openmim(
        wheelhouse, tmp_path):
    env = hermetic_env(str(tmp_path))
    image = uv_image(str(tmp_path / 'image'), env)
    image_site = site_packages(image)
    assert subprocess.run([image, '-m', 'pip', '--version'],
                          capture_output=True).returncode != 0, 'no pip'
    uv_install(image, env, str(wheelhouse), '--no-deps',
               *_stack('MIM'))
    uv_install(image, env, str(wheelhouse), *_stack('MIM_DEPS'))
    link_cv2_without_metadata(image_site)

    venv = tmp_path / 'venv'
    env.update(PYTHON=image, SYSTEM_SITE_PACKAGES='1', VENV=str(venv),
               WHEELHOUSE=str(wheelhouse), http_proxy=NOWHERE,
               https_proxy=NOWHERE, HTTP_PROXY=NOWHERE, HTTPS_PROXY=NOWHERE)
    setup = subprocess.run(['bash', 'install/setup_env.sh'], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=900,
                           env=env)
    log = setup.stdout + setup.stderr
    assert setup.returncode == 0, log[-5000:]
    assert f'sees the virtual environment {tmp_path / "image"}' in log
    assert f'offline: installing from {wheelhouse} only' in log
    assert 'keeping the installed torch' in log
    assert 'keeping the OpenCV that imports: cv2 ' in log
    assert f'installing {wheelhouse}/mmcv/' in log
    assert 'ops: nms and RoIAlign forward/backward correct on cpu' in log
    assert '[setup] environment ready' in log
    # The trap this route holds: the image's openmim satisfies pip, which
    # then installs no mim script here; the check ran mim all the same.
    assert not (venv / 'bin' / 'mim').exists()
    site = site_packages(str(venv / 'bin' / 'python'))
    # Everything but the image's torch and openmim is the new
    # environment's own.
    owned = subprocess.run(
        [str(venv / 'bin' / 'python'), '-c',
         'import mmcv, mmdet, mmengine, pycocotools, torch, mim; '
         'print(mmcv.__file__, mmdet.__file__, mmengine.__file__, '
         'pycocotools.__file__, torch.__file__, mim.__file__)'],
        capture_output=True, text=True, check=True).stdout.split()
    assert all(path.startswith(site) for path in owned[:4]), owned
    assert all(path.startswith(image_site) for path in owned[4:]), owned
    # No OpenCV package beside the image's cv2.
    names = subprocess.run(
        [str(venv / 'bin' / 'python'), '-c',
         'import cv2; from importlib import metadata; '
         'print(cv2.__file__); '
         'print(*(d.metadata["Name"] for d in metadata.distributions()))'],
        capture_output=True, text=True, check=True).stdout.split()
    assert names[0].startswith(image_site), names[0]
    assert not OPENCV_DISTS & {canonicalize_name(n) for n in names[1:]}


def _read_freeze(path):
    have = {}
    for line in open(path):
        if line.strip() and not line.startswith('#'):
            name, version = line.strip().split('==')
            have[canonicalize_name(name)] = Version(version)
    return have


def _wheel_requirements(path):
    """(name, version, requirements for this Python on Linux) of a wheel
    (no extras asked)."""
    with zipfile.ZipFile(path) as wheel:
        [name] = [n for n in wheel.namelist() if n.count('/') == 1
                  and n.endswith('.dist-info/METADATA')]
        message = BytesParser().parsebytes(wheel.read(name))
    requirements = [Requirement(r) for r in
                    message.get_all('Requires-Dist') or []]
    return (canonicalize_name(message['Name']), Version(message['Version']),
            [r for r in requirements
             if r.marker is None or r.marker.evaluate({'extra': ''})])


def test_have_leaves_out_what_the_gpu_image_has(wheelhouse, tmp_path):
    """HAVE=FILE on the GPU image's list, from a local folder of wheels
    (the session's wheelhouse; no index, no pip configuration): only what
    the image lacks, and with what it holds, every requirement of every
    wheel is met."""
    lacking = tmp_path / 'lacking'
    made = subprocess.run(
        ['bash', 'install/make_wheelhouse.sh'], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=600,
        env=hermetic_env(str(tmp_path), WHEELHOUSE=str(lacking),
                         HAVE=GPU_IMAGE_FREEZE, PYTHON=sys.executable,
                         PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX='1',
                         PIP_FIND_LINKS=str(wheelhouse)))
    assert made.returncode == 0, made.stderr[-3000:]
    files = sorted(os.listdir(lacking))
    wheels = {}
    for f in files:
        if f.endswith('.whl'):
            name, version, requires = _wheel_requirements(lacking / f)
            wheels.setdefault(name, []).append((version, requires))
    have = _read_freeze(GPU_IMAGE_FREEZE)
    # The image's torch is kept, and its OpenCV: no second one.
    for name in ('torch', *OPENCV_DISTS):
        assert name not in wheels, files
    for name in ('mmengine', 'mmdet', 'pycocotools', 'faster-coco-eval',
                 'openmim', 'ruff', 'import-linter', 'uv'):
        assert name in wheels, files
    assert 'mmcv-2.1.0.tar.gz' in files
    # The image's setuptools 81 cannot build mmcv (no pkg_resources).
    assert [v for v, _ in wheels['setuptools']] < [Version('81')]

    # What the set-up asks for (install/stack.sh) and what each wheel
    # asks for but mmengine and openmim (installed with --no-deps) is met
    # by the image or the folder; an image's package is in the folder only
    # where something asks for a version the image does not have.
    asked = [Requirement(line) for line in _stack(
        'BUILD_TOOLS', 'MMENGINE', 'MMENGINE_DEPS', 'MMCV_DEPS', 'STACK',
        'MIM', 'MIM_DEPS')]
    for name, versions in wheels.items():
        if name not in ('mmengine', 'openmim'):
            asked += [r for _, requires in versions for r in requires]
    for r in asked:
        dep = canonicalize_name(r.name)
        met = [v for v, _ in wheels.get(dep, [])] + (
            [have[dep]] if dep in have else [])
        assert any(r.specifier.contains(v, prereleases=True)
                   for v in met), f'nothing satisfies {r}'
    for name in wheels.keys() & have.keys():
        assert any(canonicalize_name(r.name) == name
                   and not r.specifier.contains(have[name], prereleases=True)
                   for r in asked), f'the image has {name} {have[name]}'
    text = (lacking / 'WHEELHOUSE.txt').read_text()
    assert 'torch: left out (the target has it)' in text
    assert f'only what the target lacks: HAVE={GPU_IMAGE_FREEZE}' in text
