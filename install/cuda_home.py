"""A CUDA_HOME for torch's extension builder from PyPI's nvcc wheels.

install/setup_env.sh runs it when the system has no toolkit of torch's CUDA
major (install/setup_plan.py decides); it prints ``CUDA_HOME=...``::

    python install/cuda_home.py SITE_PACKAGES OUT_DIR

Standard library only: it runs before mmcv is built.
"""
import glob
import os
import shlex
import shutil
import sys
from typing import List


class CudaHomeError(Exception):
    """The wheels do not make a toolkit; the message says which part."""


def link_tree(sources: List[str], target: str) -> None:
    """Makes ``target`` a folder of symlinks to every entry of the
    ``sources`` folders (the first source wins a name)."""
    os.makedirs(target, exist_ok=True)
    for source in sources:
        for name in sorted(os.listdir(source)):
            link = os.path.join(target, name)
            if not os.path.lexists(link):
                os.symlink(os.path.join(source, name), link)


def assemble_cuda_home(site: str, target: str) -> str:
    """A CUDA_HOME for torch's extension builder from PyPI's wheels.

    CUDA 13 wheels share ``nvidia/cu13/``; CUDA 12's are one folder per
    component (``nvidia/cuda_nvcc``, ``cuda_runtime``, ``cuda_cccl``).
    torch expects ``bin/nvcc``, ``include/`` and ``lib64/`` (or ``lib/``)
    with the link name ``libcudart.so``, which the wheels do not ship
    (only ``libcudart.so.N``).
    """
    roots = [p for p in (glob.glob(os.path.join(site, 'nvidia', 'cu1[3-9]'))
                         + [os.path.join(site, 'nvidia', n) for n in (
                             'cuda_nvcc', 'cuda_runtime', 'cuda_cccl')])
             if os.path.isdir(p)]
    nvcc_roots = [r for r in roots
                  if os.path.isfile(os.path.join(r, 'bin', 'nvcc'))]
    if not nvcc_roots:
        raise CudaHomeError(f'no nvcc under {site}/nvidia: the PyPI nvcc '
                            'wheels are not installed')
    if os.path.lexists(target):
        shutil.rmtree(target)
    os.makedirs(target)
    nvcc_root = nvcc_roots[0]
    for name in ('bin', 'nvvm'):
        if os.path.isdir(os.path.join(nvcc_root, name)):
            os.symlink(os.path.join(nvcc_root, name),
                       os.path.join(target, name))
    link_tree([os.path.join(r, 'include') for r in roots
               if os.path.isdir(os.path.join(r, 'include'))],
              os.path.join(target, 'include'))
    lib64 = os.path.join(target, 'lib64')
    link_tree([os.path.join(r, 'lib') for r in roots
               if os.path.isdir(os.path.join(r, 'lib'))], lib64)
    versioned = sorted(glob.glob(os.path.join(lib64, 'libcudart.so.*')))
    if not versioned:
        raise CudaHomeError(f'no libcudart.so.N under {site}/nvidia: '
                            'install the CUDA runtime wheel')
    if not os.path.lexists(os.path.join(lib64, 'libcudart.so')):
        os.symlink(os.path.basename(versioned[0]),
                   os.path.join(lib64, 'libcudart.so'))
    return target


if __name__ == '__main__':
    try:
        home = assemble_cuda_home(sys.argv[1], sys.argv[2])
        print(f'CUDA_HOME={shlex.quote(home)}')
    except CudaHomeError as error:
        print(f'[setup] error: {error}', file=sys.stderr)
        sys.exit(1)
