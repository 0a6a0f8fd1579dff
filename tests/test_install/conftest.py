"""One wheelhouse per test session, from the registry, shared by the
set-up's tests on every worker: the stack for this Python with torch left
out and, as its mmcv build, only this environment's."""
import os
import subprocess
import sys

import pytest
from filelock import FileLock

from rethink_mmdet.testing import REPO_ROOT
from rethink_mmdet.testing.environments import (
    NotSetUp,
    hermetic_env,
    wheel_store_with_this_build,
)


def _session_folder(tmp_path_factory):
    """A folder every xdist worker of this session shares (and no other
    session: without xdist, the base temp folder itself)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get('PYTEST_XDIST_WORKER') else base


@pytest.fixture(scope='session')
def this_build_store(tmp_path_factory):
    """(store, key): a wheel store holding only this environment's mmcv
    build."""
    try:
        return wheel_store_with_this_build(
            str(tmp_path_factory.mktemp('store') / 'wheels'))
    except NotSetUp as error:
        pytest.skip(str(error))


@pytest.fixture(scope='session')
def wheelhouse(tmp_path_factory, this_build_store):
    """``make wheelhouse`` for this Python with LEAVE_OUT=torch, from the
    registry with empty caches, made once per session."""
    shared = _session_folder(tmp_path_factory)
    folder = shared / 'wheelhouse'
    with FileLock(str(shared / 'wheelhouse.lock')):
        if not (folder / 'WHEELHOUSE.txt').exists():
            store, _ = this_build_store
            made = subprocess.run(
                ['bash', 'install/make_wheelhouse.sh'], cwd=REPO_ROOT,
                capture_output=True, text=True, timeout=900,
                env=hermetic_env(str(shared / 'wheelhouse-caches'),
                                 WHEELHOUSE=str(folder), LEAVE_OUT='torch',
                                 PYTHON=sys.executable, WHEEL_STORE=store))
            assert made.returncode == 0, made.stderr[-3000:]
    return folder
