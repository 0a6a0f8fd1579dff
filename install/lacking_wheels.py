"""Downloads the wheels a node lacks: make_wheelhouse.sh with HAVE=FILE.

FILE is the node's ``pip list --format=freeze``. pip download cannot be
told what the target has installed, so this resolves by hand: each
requirement that FILE does not satisfy is downloaded with ``--no-deps``
for the target (the pip arguments after ``--``), its wheel's
Requires-Dist is read, the markers are evaluated for the target (Linux
x86_64, CPython PY_VERSION), and what FILE or a wheel already in the
folder satisfies is skipped; repeated until nothing is missing. On the
node, install/setup_env.sh then installs from the folder with pip, which
keeps an installed package that satisfies a requirement::

    lacking_wheels.py --have FILE --dest DIR --python-version 3.12 \\
        [--opencv REQ --opencv-dists NAME ...] [--no-deps REQ ...] \\
        --deps REQ ... -- PIP_DOWNLOAD_ARGS

``--opencv`` is needed unless FILE lists one of ``--opencv-dists`` (any
OpenCV: install/setup_env.sh installs none beside it).

Unlike pip it does not backtrack: a wheel is the newest that satisfies the
requirements met so far, and a later requirement that it does not satisfy
downloads a second version, so pip on the node chooses.
"""
import argparse
import email.parser
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from typing import Dict, List, Optional, Tuple

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


class WheelhouseError(Exception):
    """The wheelhouse cannot be made; the message says why."""


def read_have(path: str) -> Dict[str, Version]:
    """{canonical name: version} of a ``pip list --format=freeze``;
    blank lines and ``#`` comments are skipped."""
    have = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            name, sep, version = line.partition('==')
            try:
                if not sep or not name.strip():
                    raise InvalidVersion(line)
                have[canonicalize_name(name.strip())] = Version(version)
            except InvalidVersion:
                raise WheelhouseError(
                    f'HAVE={path} line {number} is not NAME==VERSION '
                    f'(pip list --format=freeze): {line!r}') from None
    return have


def target_environment(python_version: str) -> Dict[str, str]:
    """Marker variables of CPython ``python_version`` on Linux x86_64
    (the patch level is unknown: .0)."""
    env = default_environment()
    env.update(python_version=python_version,
               python_full_version=python_version + '.0',
               implementation_name='cpython',
               platform_python_implementation='CPython', os_name='posix',
               sys_platform='linux', platform_system='Linux',
               platform_machine='x86_64')
    return env


def wheel_metadata(path: str) -> Tuple[str, Version, List[str]]:
    """(canonical name, version, Requires-Dist lines) of a wheel."""
    with zipfile.ZipFile(path) as wheel:
        names = [n for n in wheel.namelist()
                 if n.count('/') == 1
                 and n.endswith('.dist-info/METADATA')]
        if len(names) != 1:
            raise WheelhouseError(f'{path}: not one .dist-info/METADATA')
        message = email.parser.BytesParser().parsebytes(
            wheel.read(names[0]), headersonly=True)
    return (canonicalize_name(message['Name']), Version(message['Version']),
            message.get_all('Requires-Dist') or [])


class Resolver:
    """What the node lacks, downloaded into ``dest``.

    Args:
        have: :func:`read_have`'s result.
        dest: the wheelhouse; wheels already there are reused.
        env: :func:`target_environment`'s result.
        download: ``download(requirements, folder)`` fetches the newest
            wheel of each requirement (no dependencies) into ``folder``.
    """

    def __init__(self, have: Dict[str, Version], dest: str,
                 env: Dict[str, str], download):
        self.have, self.dest, self.env = have, dest, env
        self.download = download
        self.wheels: Dict[str, List[Tuple[Version, str, List[str]]]] = {}
        for name in sorted(os.listdir(dest)):
            if name.endswith('.whl'):
                self._add(os.path.join(dest, name))
        self.kept: Dict[str, Version] = {}
        self.fetched: List[str] = []
        self._expanded = set()

    def _add(self, path: str) -> None:
        name, version, requires = wheel_metadata(path)
        self.wheels.setdefault(name, []).append((version, path, requires))

    def _local(self, requirement: Requirement):
        """The newest wheel in ``dest`` that satisfies the requirement."""
        found = [w for w in self.wheels.get(
            canonicalize_name(requirement.name), [])
            if requirement.specifier.contains(w[0], prereleases=True)]
        return max(found, key=lambda w: w[0]) if found else None

    def _dependencies(self, wheel, extras) -> List[Requirement]:
        """The wheel's requirements whose markers hold on the target, with
        the extras it was asked for."""
        _, path, requires = wheel
        key = (path, frozenset(extras))
        if key in self._expanded:
            return []
        self._expanded.add(key)
        wanted = []
        for line in requires:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(
                    marker.evaluate(dict(self.env, extra=extra))
                    for extra in ('', *sorted(extras))):
                requirement.marker = None
                wanted.append(requirement)
        return wanted

    def resolve(self, requirements: List[Requirement],
                no_deps: List[Requirement],
                opencv: Optional[Requirement] = None,
                opencv_dists: Tuple[str, ...] = ()) -> None:
        """Downloads what the node lacks of ``requirements`` (with their
        dependencies), of ``no_deps`` (without), and ``opencv`` unless the
        node has one of ``opencv_dists``."""
        todo = [(r, True) for r in requirements]
        todo += [(r, False) for r in no_deps]
        if opencv is not None:
            node_has = [n for n in map(canonicalize_name, opencv_dists)
                        if n in self.have]
            if node_has:
                self.kept[node_has[0]] = self.have[node_has[0]]
            else:
                todo.append((opencv, True))
        tried = set()
        while todo:
            batch: Dict[str, List[Tuple[Requirement, bool]]] = {}
            for requirement, follow in todo:
                if requirement.marker is not None and \
                        not requirement.marker.evaluate(self.env):
                    continue
                name = canonicalize_name(requirement.name)
                if name in self.have and requirement.specifier.contains(
                        self.have[name], prereleases=True):
                    self.kept[name] = self.have[name]
                    continue
                batch.setdefault(name, []).append((requirement, follow))
            todo = []
            lacking = {}
            for name, asked in batch.items():
                for requirement, follow in asked:
                    wheel = self._local(requirement)
                    if wheel is None:
                        lacking.setdefault(name, SpecifierSet())
                        lacking[name] &= requirement.specifier
                    elif follow:
                        todo += [(r, True) for r in self._dependencies(
                            wheel, requirement.extras)]
            if lacking:
                wanted = [f'{name}{spec}' for name, spec in
                          sorted(lacking.items())]
                again = [w for w in wanted if w in tried]
                if again:
                    raise WheelhouseError(
                        f'pip downloaded no wheel that satisfies {again}')
                tried.update(wanted)
                self._fetch(wanted)
                # Asked again: now from the folder, with their dependencies.
                todo += [item for name in lacking for item in batch[name]]

    def _fetch(self, wanted: List[str]) -> None:
        print('[wheelhouse] lacking: ' + ' '.join(wanted), flush=True)
        with tempfile.TemporaryDirectory(dir=self.dest) as folder:
            self.download(wanted, folder)
            for name in sorted(os.listdir(folder)):
                if not name.endswith('.whl'):
                    raise WheelhouseError(
                        f'pip downloaded {name}, not a wheel')
                path = os.path.join(self.dest, name)
                shutil.move(os.path.join(folder, name), path)
                self._add(path)
                self.fetched.append(name)


def pip_download(pip_args: List[str]):
    """A ``download`` for :class:`Resolver`: this Python's pip, with the
    target's pip arguments."""
    def download(wanted: List[str], folder: str) -> None:
        result = subprocess.run(
            [sys.executable, '-m', 'pip', 'download',
             '--disable-pip-version-check', '-q', '--no-deps', '-d', folder,
             *pip_args, *wanted])
        if result.returncode != 0:
            raise WheelhouseError('pip download failed for ' +
                                  ' '.join(wanted))
    return download


def parse_args(argv: List[str]):
    pip_args = []
    if '--' in argv:
        argv, pip_args = argv[:argv.index('--')], argv[argv.index('--') + 1:]
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--have', required=True,
                        help="the node's pip list --format=freeze")
    parser.add_argument('--dest', required=True, help='the wheelhouse')
    parser.add_argument('--python-version', required=True)
    parser.add_argument('--opencv', help='installed unless the node has '
                        'one of --opencv-dists')
    parser.add_argument('--opencv-dists', nargs='*', default=[])
    parser.add_argument('--no-deps', nargs='*', default=[],
                        help='installed without their dependencies')
    parser.add_argument('--deps', nargs='*', default=[],
                        help='installed with their dependencies')
    args = parser.parse_args(argv)
    return args, pip_args


def main(argv: List[str]) -> int:
    args, pip_args = parse_args(argv)
    if not os.path.isfile(args.have):
        raise WheelhouseError(f'HAVE={args.have} is not a file')

    def requirement(text):
        try:
            return Requirement(text)
        except InvalidRequirement:
            raise WheelhouseError(f'not a requirement: {text!r}') from None

    resolver = Resolver(read_have(args.have), args.dest,
                        target_environment(args.python_version),
                        pip_download(pip_args))
    resolver.resolve([requirement(r) for r in args.deps],
                     [requirement(r) for r in args.no_deps],
                     requirement(args.opencv) if args.opencv else None,
                     tuple(args.opencv_dists))
    print(f'[wheelhouse] HAVE={args.have} satisfies: ' + ' '.join(
        f'{n}=={v}' for n, v in sorted(resolver.kept.items())))
    print(f'[wheelhouse] downloaded {len(resolver.fetched)} wheels')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except WheelhouseError as error:
        print(f'[wheelhouse] error: {error}', file=sys.stderr)
        sys.exit(1)
