"""What every test shares: the CPU-only pin, the synthetic datasets and
the wheel built from this checkout."""
import atexit
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile

import pytest

# The suite tests the CPU paths, the same ones on every machine: on a GPU
# node torch, the launchers and the set-up's GPU detection must see no GPU,
# or a test would check another branch there, or fail (a CPU torch on a
# node with GPUs is refused). Set before any test touches torch.cuda, and
# inherited by every tool a test starts. Tests of the GPU branches fake
# what they need (an nvidia-smi listing GPUs, torch.cuda) themselves.
NO_GPU_BIN = osp.join(osp.dirname(osp.abspath(__file__)), 'fixtures',
                      'no_gpu_bin')
os.environ['CUDA_VISIBLE_DEVICES'] = ''
# A GPU node's nvidia-smi stays on PATH after this one: the launchers take
# its presence for a GPU node unless CPU processes are asked for.
os.environ['CPU_ONLY'] = '1'
os.environ['PATH'] = NO_GPU_BIN + os.pathsep + os.environ['PATH']
# Nothing the suite runs reads the user's caches (pip's, uv's, torch's,
# the project's wheel store under ~/.cache): each of its processes starts
# with an empty one, as on a machine that never saw the project. Tests
# that need a wheel store fill one themselves (tests/test_install/conftest.py).
_EMPTY_CACHE = tempfile.mkdtemp(prefix='rethink-mmdet-tests-cache-')
atexit.register(shutil.rmtree, _EMPTY_CACHE, ignore_errors=True)
os.environ['XDG_CACHE_HOME'] = _EMPTY_CACHE
for _name in ('WHEEL_STORE', 'SHARED_WHEEL_STORE', 'PIP_CACHE_DIR',
              'UV_CACHE_DIR', 'TORCH_HOME'):
    os.environ.pop(_name, None)

from rethink_mmdet.datasets.synthetic_coco import (  # noqa: E402
    make_synthetic_coco,
)


@pytest.fixture(scope='session')
def tiny_coco(tmp_path_factory):
    """A small synthetic COCO dataset shared by the tests of one worker."""
    root = tmp_path_factory.mktemp('synthetic_coco')
    make_synthetic_coco(str(root), num_train=16, num_val=8, seed=3)
    return str(root)


@pytest.fixture(scope='session')
def tiny_coco_keypoints(tmp_path_factory):
    """A small synthetic keypoint dataset (houses, 5 keypoints)."""
    from rethink_mmdet.datasets.synthetic_coco_keypoints import (
        make_synthetic_coco_keypoints,
    )
    root = tmp_path_factory.mktemp('synthetic_coco_keypoints')
    make_synthetic_coco_keypoints(str(root), num_train=16, num_val=8, seed=3)
    return str(root)


# What the wheel build reads from the source tree.
BUILD_INPUTS = ('pyproject.toml', 'README.md', 'model-index.yml', 'configs',
                'tools', 'rethink_mmdet')


@pytest.fixture(scope='session')
def built_wheel(tmp_path_factory):
    """The wheel pip builds from a copy of this checkout's build inputs."""
    from rethink_mmdet.testing import REPO_ROOT
    tmp_path = tmp_path_factory.mktemp('wheel')
    src = tmp_path / 'src'
    src.mkdir()
    for name in BUILD_INPUTS:
        path = osp.join(REPO_ROOT, name)
        if osp.isdir(path):
            # symlinks=True keeps rethink_mmdet/.mim's relative links as
            # links.
            shutil.copytree(path, src / name, symlinks=True,
                            ignore=shutil.ignore_patterns('__pycache__'))
        else:
            shutil.copy(path, src / name)
    subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps',
         '--no-build-isolation', '--disable-pip-version-check', '-q', '-w',
         str(tmp_path / 'dist'), str(src)],
        check=True, capture_output=True, timeout=300,
        env=dict(os.environ, PIP_NO_CACHE_DIR='1'))
    wheel, = (tmp_path / 'dist').glob('rethink_mmdet-*.whl')
    return wheel


def _shared_setup(item):
    """The name of the costly set-up ``item`` shares with other tests (the
    built wheel, or a fixture of its module), or None."""
    fixtures = getattr(item, '_fixtureinfo', None)
    if fixtures is None:
        return None
    if 'built_wheel' in fixtures.name2fixturedefs:
        return 'built_wheel'
    for definitions in fixtures.name2fixturedefs.values():
        definition = definitions[-1]
        if definition.scope == 'module' and definition.params is None:
            return item.module.__name__
    return None


def pytest_collection_modifyitems(config, items):
    # A module's or a session's fixture is built once per xdist worker: the
    # tests sharing a costly one go to one worker (make test runs with
    # --dist loadgroup), instead of each worker training or building it.
    for item in items:
        if item.get_closest_marker('xdist_group') is not None:
            continue
        shared = _shared_setup(item)
        if shared is not None:
            item.add_marker(pytest.mark.xdist_group(shared))
