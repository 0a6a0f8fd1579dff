"""Creates install/setup_env.sh's environment with the interpreter that runs
it (``$PYTHON``) and prints one line saying which packages it sees::

    make_venv.py DIR SYSTEM_SITE_PACKAGES(0|1)

Standard library only: it runs before the environment exists.
"""
import os
import sys
import sysconfig
from typing import List


def parent_site_packages() -> List[str]:
    """The site-packages of the virtual environment this interpreter runs
    in, or [] outside one. A venv made from it with --system-site-packages
    sees the *base* interpreter's packages, not these (a GPU image whose
    torch lives in a uv venv)."""
    if sys.prefix == sys.base_prefix:
        return []
    paths = sysconfig.get_paths()
    return list(dict.fromkeys((paths['purelib'], paths['platlib'])))


def make_venv(path: str, system_site_packages: bool) -> str:
    """Creates the set-up's environment with this interpreter; returns the
    line that says what it sees.

    With ``system_site_packages`` and this interpreter inside a virtual
    environment, a ``.pth`` file puts that environment's site-packages
    after the new one's own (the image's torch, CUDA libraries and OpenCV
    are kept; what the set-up installs comes first).
    """
    import venv
    venv.create(path, system_site_packages=system_site_packages,
                with_pip=True, symlinks=os.name != 'nt')
    if not system_site_packages:
        return f'{path}: a new environment of its own'
    parents = parent_site_packages()
    if not parents:
        return (f'{path} sees the packages of {sys.executable} '
                '(--system-site-packages)')
    scheme = 'venv' if 'venv' in sysconfig.get_scheme_names() \
        else 'posix_prefix'
    site = sysconfig.get_path('purelib', scheme,
                              vars={'base': path, 'platbase': path})
    pth = os.path.join(site, '_rethink_parent_env.pth')
    with open(pth, 'w') as f:
        f.write(''.join(p + '\n' for p in parents))
    return (f'{path} sees the virtual environment {sys.prefix} that '
            f'{sys.executable} runs in (its torch, CUDA libraries, OpenCV) '
            f'through {pth}, after its own packages')


def main(argv: List[str]) -> int:
    if len(argv) != 2 or argv[1] not in ('0', '1'):
        print('usage: make_venv.py DIR 0|1', file=sys.stderr)
        return 2
    print(make_venv(argv[0], argv[1] == '1'))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
