"""``tools/misc/fetch_imagenet_weights.py``: the ImageNet checkpoints of the
pre-trained rows, for GPU nodes without internet access.

Run ``fetch_imagenet_weights.py DIR`` where the internet is reachable: it
downloads every checkpoint of :data:`IMAGENET_WEIGHTS` that has an address,
as ``DIR/NAME.pth`` (the file the ``imagenet://NAME`` policy opens when
``RETHINK_IMAGENET_DIR=DIR``), verifies each against the sha256 prefix its
file name carries, and writes ``DIR/SHA256SUMS`` (``sha256sum -c`` reads
it). On the offline node, ``--check DIR`` verifies the folder without the
network; training then runs with ``RETHINK_IMAGENET_DIR=DIR``.
"""
import argparse
import os
import os.path as osp
import urllib.request
from typing import Callable, Dict, List, Optional, Sequence

from rethink_mmdet.engine.checkpointing import file_sha256
from rethink_mmdet.models.imagenet_weights import (
    IMAGENET_DIR_ENV,
    IMAGENET_WEIGHTS,
)

SUMS_FILE = 'SHA256SUMS'
_CHUNK = 1 << 20


def _download(url: str, path: str, opener: Callable) -> None:
    """``url`` to ``path`` through a ``.part`` file: an interrupted
    download never leaves a file the policy would load."""
    part = path + '.part'
    with opener(url) as response, open(part, 'wb') as out:
        for chunk in iter(lambda: response.read(_CHUNK), b''):
            out.write(chunk)
    os.replace(part, path)


def _fetchable(names: Optional[Sequence[str]]) -> Dict[str, object]:
    rows = {n: w for n, w in IMAGENET_WEIGHTS.items() if w.url}
    unknown = sorted(set(names or ()) - set(rows))
    if unknown:
        raise ValueError(f'no download address for {unknown}; known: '
                         f'{sorted(rows)}')
    return {n: rows[n] for n in (names or rows)}


def fetch(out_dir: str, names: Optional[Sequence[str]] = None,
          opener: Callable = urllib.request.urlopen) -> List[str]:
    """Downloads the checkpoints (all, or ``names``) into ``out_dir``;
    files already there with the right sha256 are kept. Returns problems
    (a checksum that disagrees); writes ``SHA256SUMS`` for every file."""
    os.makedirs(out_dir, exist_ok=True)
    problems, sums = [], {}
    for name, weights in _fetchable(names).items():
        path = osp.join(out_dir, f'{name}.pth')
        prefix = weights.sha256_prefix
        if not (osp.isfile(path) and prefix
                and file_sha256(path).startswith(prefix)):
            print(f'downloading {weights.url} -> {path}', flush=True)
            _download(weights.url, path, opener)
        digest = file_sha256(path)
        if prefix and not digest.startswith(prefix):
            problems.append(f'{path}: sha256 {digest} does not start with '
                            f'{prefix} (from {weights.url}); delete it and '
                            'download again')
        sums[f'{name}.pth'] = digest
    _write_sums(out_dir, sums)
    return problems


def _write_sums(out_dir: str, sums: Dict[str, str]) -> None:
    path = osp.join(out_dir, SUMS_FILE)
    old = _read_sums(out_dir) if osp.isfile(path) else {}
    old.update(sums)
    with open(path, 'w') as f:
        for file_name in sorted(old):
            f.write(f'{old[file_name]}  {file_name}\n')


def _read_sums(out_dir: str) -> Dict[str, str]:
    sums = {}
    with open(osp.join(out_dir, SUMS_FILE)) as f:
        for line in f:
            if line.strip():
                digest, file_name = line.split(maxsplit=1)
                sums[file_name.strip().lstrip('*')] = digest
    return sums


def check(out_dir: str, names: Optional[Sequence[str]] = None
          ) -> List[str]:
    """Problems of a fetched folder, offline: a missing file, or one whose
    sha256 differs from ``SHA256SUMS`` or from its address's prefix."""
    if not osp.isfile(osp.join(out_dir, SUMS_FILE)):
        return [f'{osp.join(out_dir, SUMS_FILE)} does not exist; run '
                f'tools/misc/fetch_imagenet_weights.py {out_dir} first']
    sums, problems = _read_sums(out_dir), []
    for name, weights in _fetchable(names).items():
        path = osp.join(out_dir, f'{name}.pth')
        if not osp.isfile(path):
            problems.append(f'{path} is missing')
            continue
        digest = file_sha256(path)
        listed = sums.get(f'{name}.pth')
        if listed != digest:
            problems.append(f'{path}: sha256 {digest}, but {SUMS_FILE} '
                            f'lists {listed}')
        elif weights.sha256_prefix and not digest.startswith(
                weights.sha256_prefix):
            problems.append(f'{path}: sha256 {digest} does not start with '
                            f'{weights.sha256_prefix} (from {weights.url})')
    return problems


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    known = sorted(n for n, w in IMAGENET_WEIGHTS.items() if w.url)
    parser = argparse.ArgumentParser(
        description='Download (or, with --check, verify offline) the '
        f'ImageNet checkpoints the pre-trained rows load; then set '
        f'{IMAGENET_DIR_ENV}=DIR')
    parser.add_argument('dir', help='folder for NAME.pth and SHA256SUMS')
    parser.add_argument('--check', action='store_true',
                        help='verify DIR without the network')
    parser.add_argument('--names', nargs='+', metavar='NAME',
                        help=f'only these (default: all of {known})')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Exit 0 when every file is there and verified, 1 otherwise."""
    from rethink_mmdet.runner import UsageError
    args = parse_args(argv)
    try:
        problems = (check(args.dir, args.names) if args.check
                    else fetch(args.dir, args.names))
    except ValueError as e:
        raise UsageError(str(e)) from e
    except OSError as e:
        raise UsageError(f'download failed: {e}') from e
    for problem in problems:
        print(f'error: {problem}')
    if not problems:
        print(f'ok: {args.dir} has every checkpoint; train with '
              f'{IMAGENET_DIR_ENV}={osp.abspath(args.dir)}')
    return 1 if problems else 0
