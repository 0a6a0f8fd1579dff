"""Finding the package's own configs, from a checkout or an installed wheel.

``rethink_mmdet/.mim/configs`` is a symlink to the checkout's ``configs/``
and a real folder in a wheel (where OpenMMLab's ``mim`` looks for them), so
one path serves both (resolved, so a checkout's paths read ``configs/...``).
"""
import os.path as osp

_PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def configs_root() -> str:
    """The folder holding ``_base_/``, the row configs and ``metafile.yml``."""
    return osp.realpath(osp.join(_PACKAGE_DIR, '.mim', 'configs'))


def config_path(relative: str) -> str:
    """Absolute path of a config given relative to :func:`configs_root`.

    Raises:
        FileNotFoundError: if there is no such config.
    """
    path = osp.join(configs_root(), relative)
    if not osp.isfile(path):
        raise FileNotFoundError(f'no config {relative} under {configs_root()}')
    return path
