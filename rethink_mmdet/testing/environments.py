"""The environments the set-up's tests make, from what this environment
holds and never from the user's caches: its own mmcv build (the copy
install/setup_env.sh keeps in it), a wheel store holding only that build, and
an image's virtual environment made by uv with torch in it."""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys
from importlib import metadata
from typing import Dict, Set, Tuple

from packaging.requirements import Requirement

#: Where install/setup_env.sh records the mmcv build it installed.
MMCV_KEY_FILE = '.rethink-mmdet-mmcv-key'
MMCV_KEPT_DIR = '.rethink-mmdet-mmcv'


class NotSetUp(RuntimeError):
    """This environment was not made by install/setup_env.sh."""


def installed_mmcv_build(venv: str = sys.prefix) -> Tuple[str, str]:
    """(key, wheel) of the mmcv build install/setup_env.sh installed in
    ``venv``: the key it recorded and the copy of the wheel it kept."""
    try:
        with open(osp.join(venv, MMCV_KEY_FILE)) as f:
            key = f.read().strip()
    except OSError:
        raise NotSetUp(f'{venv} has no {MMCV_KEY_FILE}: not made by '
                       'install/setup_env.sh (make setup)')
    wheels = glob.glob(osp.join(venv, MMCV_KEPT_DIR, 'mmcv-*.whl'))
    if len(wheels) != 1:
        raise NotSetUp(f'{venv}/{MMCV_KEPT_DIR} holds {len(wheels)} mmcv '
                       'wheels, not 1: re-run make setup')
    return key, wheels[0]


def wheel_store_with_this_build(folder: str) -> Tuple[str, str]:
    """A wheel store at ``folder`` holding only this environment's mmcv
    build under its key; returns (store, key)."""
    key, wheel = installed_mmcv_build()
    os.makedirs(osp.join(folder, key))
    shutil.copy(wheel, osp.join(folder, key))
    return folder, key


def hermetic_env(tmp: str, **extra: str) -> Dict[str, str]:
    """This process's environment with pip's and uv's caches and the
    project's wheel store in ``tmp`` (empty), never the user's."""
    env = dict(os.environ, PIP_CACHE_DIR=osp.join(tmp, 'pip-cache'),
               UV_CACHE_DIR=osp.join(tmp, 'uv-cache'),
               XDG_CACHE_HOME=osp.join(tmp, 'cache'),
               WHEEL_STORE=osp.join(tmp, 'empty-wheel-store'))
    env.pop('SHARED_WHEEL_STORE', None)
    env.pop('PYTHONPATH', None)
    env.update(extra)
    return env


def site_packages(python: str) -> str:
    return subprocess.run(
        [python, '-c', 'import sysconfig; '
         'print(sysconfig.get_paths()["purelib"])'],
        capture_output=True, text=True, check=True).stdout.strip()


def link_distributions(root: str, folder: str) -> Set[str]:
    """Links the files of the distribution ``root`` and of everything it
    requires (this environment's) into ``folder``, their metadata
    included, as uv installs from its cache by linking; returns the
    distributions' names."""
    os.makedirs(folder, exist_ok=True)
    todo, seen = [root], set()
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


def link_cv2_without_metadata(folder: str) -> None:
    """Links this environment's cv2 without its package's metadata: an
    OpenCV that imports but that pip does not see (conda's, the system's).
    """
    dist = metadata.distribution(metadata.packages_distributions()['cv2'][0])
    for top in {str(path).split('/')[0] for path in dist.files}:
        if top != '..' and not top.endswith('.dist-info'):
            os.symlink(dist.locate_file(top), osp.join(folder, top))


def uv() -> str:
    """The uv the set-up installed beside this Python."""
    found = shutil.which('uv', path=osp.dirname(sys.executable))
    if found is None:
        raise NotSetUp(f'no uv beside {sys.executable}: re-run make setup')
    return found


def uv_image(path: str, env: Dict[str, str]) -> str:
    """A GPU image's environment: made by ``uv venv`` (no pip inside) from
    this environment's base interpreter, with this environment's torch
    linked in; returns its Python."""
    subprocess.run([uv(), 'venv', '--python', sys._base_executable, path],
                   check=True, capture_output=True, env=env)
    python = osp.join(path, 'bin', 'python')
    link_distributions('torch', site_packages(python))
    return python


def uv_install(python: str, env: Dict[str, str], wheelhouse: str,
               *arguments: str) -> None:
    """``uv pip install`` into ``python``'s environment from
    ``wheelhouse`` only."""
    subprocess.run(
        [uv(), 'pip', 'install', '--python', python, '--offline',
         '--no-index', '--find-links', wheelhouse, *arguments],
        check=True, capture_output=True, env=env)
