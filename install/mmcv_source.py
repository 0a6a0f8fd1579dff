"""The mmcv source that install/setup_env.sh builds: the 2.1.0 sdist with
this repository's patches (``install/patches/*.patch``) applied.

Standard library only (it runs before mmcv is installed)::

    mmcv_source.py id                  # names the patch set in build keys
    mmcv_source.py prepare SDIST DIR   # extracts and patches; SOURCE=path

A patch is a unified diff (``diff -u``, paths ``a/...`` and ``b/...``;
lines before the first ``---`` are comments). It applies only where every
context and removed line matches exactly; anything else stops the set-up
with one line naming the file and the hunk.
"""
import glob
import hashlib
import os
import re
import shlex
import sys
import tarfile
from typing import List, Tuple

PATCH_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         'patches')
HUNK = re.compile(r'@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@')


class PatchError(Exception):
    """A patch does not apply; the message names the file and hunk."""


def patch_files() -> List[str]:
    return sorted(glob.glob(os.path.join(PATCH_DIR, '*.patch')))


def patch_id() -> str:
    """``patched-`` and 8 hex digits of the patches' sha256: a build from
    other (or no) patches never has the same key."""
    digest = hashlib.sha256()
    for path in patch_files():
        with open(path, 'rb') as f:
            digest.update(f.read())
    return 'patched-' + digest.hexdigest()[:8]


Hunk = Tuple[int, List[str], List[str]]  # old start, old lines, new lines


def parse(text: str) -> List[Tuple[str, List[Hunk]]]:
    """(relative path, hunks) for each file of a unified diff."""
    files: List[Tuple[str, List[Hunk]]] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith('--- ') and i + 1 < len(lines) \
                and lines[i + 1].startswith('+++ '):
            path = lines[i + 1][4:].strip().split('\t')[0]
            files.append((path.split('/', 1)[1], []))
            i += 2
            continue
        match = HUNK.match(line)
        if match and files:
            old, new = [], []
            i += 1
            while i < len(lines) and lines[i][:1] in (' ', '-', '+', '\\'):
                body = lines[i][1:]
                if lines[i][0] in ' -':
                    old.append(body)
                if lines[i][0] in ' +':
                    new.append(body)
                i += 1
            files[-1][1].append((int(match.group(1)), old, new))
            continue
        i += 1
    return files


def apply(root: str, text: str, name: str = 'patch') -> List[str]:
    """Applies a unified diff under ``root``; returns the changed files."""
    changed = []
    for path, hunks in parse(text):
        target = os.path.join(root, path)
        try:
            with open(target) as f:
                lines = f.readlines()
        except OSError:
            raise PatchError(f'{name}: {path} is not in the source')
        offset = 0
        for number, (start, old, new) in enumerate(hunks, 1):
            at = start - 1 + offset
            if lines[at:at + len(old)] != old:
                raise PatchError(
                    f'{name}: hunk {number} does not match {path} at line '
                    f'{start} (is this mmcv 2.1.0?)')
            lines[at:at + len(old)] = new
            offset += len(new) - len(old)
        with open(target, 'w') as f:
            f.writelines(lines)
        changed.append(path)
    if not changed:
        raise PatchError(f'{name}: no file to patch (not a unified diff)')
    return changed


def prepare(sdist: str, dest: str) -> str:
    """Extracts ``sdist`` into ``dest``, applies every patch; returns the
    source folder."""
    with tarfile.open(sdist) as tar:
        top = {m.name.split('/', 1)[0] for m in tar.getmembers()}
        if len(top) != 1:
            raise PatchError(f'{sdist}: not one top folder ({sorted(top)})')
        kwargs = {'filter': 'data'} if hasattr(tarfile, 'data_filter') \
            else {}
        tar.extractall(dest, **kwargs)
    source = os.path.join(dest, top.pop())
    for path in patch_files():
        with open(path) as f:
            apply(source, f.read(), os.path.basename(path))
    return source


def main(argv: List[str]) -> int:
    if argv[:1] == ['id']:
        print(patch_id())
    elif argv[:1] == ['prepare'] and len(argv) == 3:
        print(f'SOURCE={shlex.quote(prepare(argv[1], argv[2]))}')
    else:
        print('usage: mmcv_source.py id | prepare SDIST DIR', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except (PatchError, tarfile.TarError, OSError) as error:
        print(f'[setup] error: mmcv source: {error}', file=sys.stderr)
        sys.exit(1)
