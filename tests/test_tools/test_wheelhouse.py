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
installs a second OpenCV. With HAVE=FILE (a GPU image's pip list, shipped
in fixtures/) the wheelhouse holds only what that image lacks. Not proven
here: a CUDA torch in a wheelhouse (gigabytes) and an mmcv build from the
wheelhouse's source (20 minutes); docs/gpu.md says where they were run.
"""
import os
import os.path as osp
import subprocess
import sys
import zipfile
from email.parser import BytesParser
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from rethink_mmdet.testing import REPO_ROOT

pytestmark = pytest.mark.slow

GPU_IMAGE_FREEZE = osp.join(osp.dirname(__file__), 'fixtures',
                            'gpu_image_freeze.txt')
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


def _read_freeze(path):
    have = {}
    for line in open(path):
        if line.strip() and not line.startswith('#'):
            name, version = line.strip().split('==')
            have[canonicalize_name(name)] = Version(version)
    return have


def _wheel_requirements(path):
    """(name, version, requirements for CPython 3.12 on Linux) of a wheel
    (no extras asked)."""
    with zipfile.ZipFile(path) as wheel:
        [name] = [n for n in wheel.namelist() if n.count('/') == 1
                  and n.endswith('.dist-info/METADATA')]
        message = BytesParser().parsebytes(wheel.read(name))
    env = {'python_version': '3.12', 'python_full_version': '3.12.3',
           'sys_platform': 'linux', 'platform_system': 'Linux',
           'platform_machine': 'x86_64', 'os_name': 'posix',
           'implementation_name': 'cpython',
           'platform_python_implementation': 'CPython', 'extra': ''}
    requirements = [Requirement(r) for r in
                    message.get_all('Requires-Dist') or []]
    return (canonicalize_name(message['Name']), Version(message['Version']),
            [r for r in requirements
             if r.marker is None or r.marker.evaluate(env)])


def test_have_leaves_out_what_the_gpu_image_has(tmp_path):
    """HAVE=FILE on the GPU image's list: only what it lacks, and with
    what it holds, every requirement of every wheel is met."""
    wheelhouse = tmp_path / 'wheelhouse'
    made = subprocess.run(
        ['bash', 'tools/misc/make_wheelhouse.sh'], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, WHEELHOUSE=str(wheelhouse), PY_VERSION='3.12',
                 HAVE=GPU_IMAGE_FREEZE, PYTHON=sys.executable,
                 WHEEL_STORE=str(tmp_path / 'empty-store')))
    assert made.returncode == 0, made.stderr[-3000:]
    files = sorted(os.listdir(wheelhouse))
    wheels = {}
    for f in files:
        if f.endswith('.whl'):
            name, version, requires = _wheel_requirements(wheelhouse / f)
            wheels.setdefault(name, []).append((version, requires))
    have = _read_freeze(GPU_IMAGE_FREEZE)
    for name in ('torch', 'numpy', 'scipy', 'matplotlib', 'pandas',
                 *OPENCV_DISTS):
        assert name not in wheels, files
    for name in ('mmengine', 'mmdet', 'pycocotools', 'faster-coco-eval',
                 'openmim', 'ruff', 'import-linter'):
        assert name in wheels, files
    assert 'mmcv-2.1.0.tar.gz' in files
    # The image's setuptools 81 cannot build mmcv (no pkg_resources).
    assert [v for v, _ in wheels['setuptools']] < [Version('81')]

    # What the set-up asks for (tools/misc/stack.sh) and what each wheel
    # asks for but mmengine and openmim (installed with --no-deps) is met
    # by the image or the folder; an image's package is in the folder only
    # where something asks for a version the image does not have.
    stack = subprocess.run(
        ['bash', '-c', 'source tools/misc/stack.sh; printf "%s\\n" '
         '"${BUILD_TOOLS[@]}" "${MMENGINE[@]}" "${MMENGINE_DEPS[@]}" '
         '"${MMCV_DEPS[@]}" "${STACK[@]}" "${MIM[@]}" "${MIM_DEPS[@]}"'],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    asked = [Requirement(line) for line in stack.splitlines()]
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
    size = sum(osp.getsize(wheelhouse / f) for f in files)
    assert size <= 25 * 2**20, (size, files)
    with open(wheelhouse / 'WHEELHOUSE.txt') as f:
        text = f.read()
    assert 'torch: left out (the target has it)' in text
    assert f'only what the target lacks: HAVE={GPU_IMAGE_FREEZE}' in text
