"""tools/misc/fetch_imagenet_weights.py: downloads under the names the
imagenet:// policy opens, verifies sha256 (never touching the network:
a file:// address or an injected opener stands in for the server)."""
import glob
import hashlib
import io
import json
import os
import os.path as osp
import re
import sys

import mmengine
import pytest

from rethink_mmdet.cli import fetch_imagenet_weights as fetch_tool
from rethink_mmdet.models import imagenet_weights
from rethink_mmdet.testing import REPO_ROOT, run_tool


@pytest.fixture
def served(tmp_path, monkeypatch):
    """Two table rows whose addresses are local files (file:// URLs)."""
    rows = {}
    for name in ('net_a', 'net_b'):
        payload = name.encode() * 1000
        prefix = hashlib.sha256(payload).hexdigest()[:8]
        path = tmp_path / 'server' / f'{name}-{prefix}.pth'
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(payload)
        rows[name] = imagenet_weights.ImageNetWeights(
            name, path.as_uri(), 'test', 'test', 'GN',
            **imagenet_weights.CAFFE_BGR)
    rows['local_only'] = imagenet_weights.ImageNetWeights(
        'local_only', None, 'test', 'test', 'GN',
        **imagenet_weights.CAFFE_BGR)
    monkeypatch.setattr(fetch_tool, 'IMAGENET_WEIGHTS', rows)
    return rows


def test_fetch_then_check_offline(served, tmp_path):
    out = tmp_path / 'weights'
    assert fetch_tool.fetch(str(out)) == []
    assert sorted(p.name for p in out.iterdir()) == [
        'SHA256SUMS', 'net_a.pth', 'net_b.pth']
    sums = (out / 'SHA256SUMS').read_text().splitlines()
    assert sums[0] == (hashlib.sha256(b'net_a' * 1000).hexdigest()
                       + '  net_a.pth')
    assert fetch_tool.check(str(out)) == []
    # A damaged file is found offline.
    (out / 'net_b.pth').write_bytes(b'truncated')
    [problem] = fetch_tool.check(str(out))
    assert 'net_b.pth: sha256' in problem and 'SHA256SUMS lists' in problem
    (out / 'net_a.pth').unlink()
    assert any('net_a.pth is missing' in p for p in fetch_tool.check(str(out)))


def test_a_download_with_the_wrong_bytes_is_reported(served, tmp_path):
    def opener(url):
        return io.BytesIO(b'not the checkpoint')
    problems = fetch_tool.fetch(str(tmp_path / 'w'), ['net_a'],
                                opener=opener)
    [problem] = problems
    assert 'does not start with' in problem
    assert not (tmp_path / 'w' / 'net_a.pth.part').exists()


def test_files_already_there_are_not_downloaded_again(served, tmp_path):
    out = tmp_path / 'w'
    fetch_tool.fetch(str(out), ['net_a'])

    def opener(url):
        raise AssertionError(f'downloaded {url} again')
    assert fetch_tool.fetch(str(out), ['net_a'], opener=opener) == []


def test_the_tool_exits_1_on_an_incomplete_folder(tmp_path):
    result = run_tool([sys.executable, 'tools/misc/fetch_imagenet_weights.py',
                       str(tmp_path), '--check'], returncode=1)
    assert 'SHA256SUMS does not exist' in result.stdout
    result = run_tool([sys.executable, 'tools/misc/fetch_imagenet_weights.py',
                       str(tmp_path), '--names', 'resnet7'], returncode=2)
    assert result.stderr.startswith("error: no download address for "
                                    "['resnet7']")


def test_the_tool_fetches_every_checkpoint_the_configs_load(tmp_path):
    used = set()
    for path in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                          recursive=True):
        with open(path) as f:
            used |= set(re.findall(r'imagenet://([\w.-]+)', f.read()))
    # Made by the study from the classifier shipped in the package.
    expected = used - {'toy-resnet18_gn_synthetic-shapes'}
    assert {'resnet50_gn', 'resnet101_gn', 'resnet50', 'vgg16'} <= expected
    hub = osp.join(osp.dirname(mmengine.__file__), 'hub')
    published = set()
    for table in ('openmmlab.json', 'torchvision_0.12.json'):
        with open(osp.join(hub, table)) as f:
            published |= set(json.load(f).values())
    requested = []

    def opener(url):
        requested.append(url)
        return io.BytesIO(b'')

    problems = fetch_tool.fetch(str(tmp_path), opener=opener)
    # Under the names the imagenet:// policy opens, from addresses
    # mmengine's own model-zoo tables list; the empty stand-ins fail the
    # check, one problem each.
    files = set(os.listdir(tmp_path)) - {'SHA256SUMS'}
    assert {f'{n}.pth' for n in expected} <= files
    assert len(requested) == len(files) == len(problems)
    assert set(requested) <= published, set(requested) - published
    assert all('does not start with' in p for p in problems)
