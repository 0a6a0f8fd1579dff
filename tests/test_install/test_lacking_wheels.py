"""install/lacking_wheels.py (make wheelhouse HAVE=FILE): what a node
lacks, from a folder of small wheels through pip (no network), so that
each rule shows: markers for the target, extras, --no-deps, what the
node's list satisfies or not, wheels already in the folder, OpenCV."""
import os
import os.path as osp
import subprocess
import sys
import zipfile

from rethink_mmdet.testing import REPO_ROOT

SCRIPT = osp.join(REPO_ROOT, 'install', 'lacking_wheels.py')
OPENCV_DISTS = ['opencv-python', 'opencv-python-headless',
                'opencv-contrib-python', 'opencv-contrib-python-headless']


def _wheel(folder, name, version, *requires):
    """A pure-Python wheel holding only its metadata."""
    dist = f'{name.replace("-", "_")}-{version}'
    with zipfile.ZipFile(osp.join(folder, f'{dist}-py3-none-any.whl'),
                         'w') as wheel:
        wheel.writestr(f'{dist}.dist-info/METADATA', ''.join(
            [f'Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n'] +
            [f'Requires-Dist: {r}\n' for r in requires]))
        wheel.writestr(f'{dist}.dist-info/WHEEL', 'Wheel-Version: 1.0\n'
                       'Root-Is-Purelib: true\nTag: py3-none-any\n')
        wheel.writestr(f'{dist}.dist-info/RECORD', '')


def _index(folder):
    os.makedirs(folder)
    _wheel(folder, 'app', '1.0', 'lib>=2', 'numpy',
           'backport; python_version < "3.11"',
           'winonly; sys_platform == "win32"',
           'gui; extra == "gui"')
    _wheel(folder, 'plug', '1.0', 'fancy-dep; extra == "fancy"')
    _wheel(folder, 'fancy-dep', '1.0')
    _wheel(folder, 'lib', '1.0')
    _wheel(folder, 'lib', '2.5', 'numpy>=1', 'shared<2')
    _wheel(folder, 'shared', '1.0')
    _wheel(folder, 'shared', '2.0')
    # Installed without its dependencies, as mmengine: it asks for
    # opencv-python.
    _wheel(folder, 'tool', '1.0', 'heavy', 'opencv-python>=3')
    for name in ('numpy', 'backport', 'winonly', 'gui', 'heavy',
                 *OPENCV_DISTS):
        _wheel(folder, name, '9.0')
    return folder


def _run(tmp_path, have_lines, dest='dest'):
    have = tmp_path / f'have-{len(os.listdir(tmp_path))}.txt'
    have.write_text(''.join(line + '\n' for line in have_lines))
    os.makedirs(tmp_path / dest, exist_ok=True)
    index = str(tmp_path / 'index')
    if not osp.isdir(index):
        _index(index)
    return subprocess.run(
        [sys.executable, SCRIPT, '--have', str(have),
         '--dest', str(tmp_path / dest), '--python-version', '3.12',
         '--opencv', 'opencv-python-headless',
         '--opencv-dists', *OPENCV_DISTS, '--no-deps', 'tool',
         '--deps', 'app', 'plug[fancy]', 'shared', '--',
         '--no-index', '--find-links', index, '--only-binary=:all:',
         '--python-version', '3.12'],
        capture_output=True, text=True,
        env=dict(os.environ, PIP_CONFIG_FILE=os.devnull))


def _folder(path):
    return sorted(f for f in os.listdir(path))


def test_only_what_the_node_lacks(tmp_path):
    # The node has numpy, an old lib, and a headless OpenCV.
    have = ['# pip list --format=freeze', 'numpy==2.0', 'lib==1.5',
            'opencv-python-headless==5.0.0', 'unrelated==3']
    result = _run(tmp_path, have)
    assert result.returncode == 0, result.stderr
    assert _folder(tmp_path / 'dest') == [
        'app-1.0-py3-none-any.whl', 'fancy_dep-1.0-py3-none-any.whl',
        'lib-2.5-py3-none-any.whl', 'plug-1.0-py3-none-any.whl',
        # shared: the newest first, then the one lib 2.5 asks for.
        'shared-1.0-py3-none-any.whl', 'shared-2.0-py3-none-any.whl',
        'tool-1.0-py3-none-any.whl']
    assert ('satisfies: numpy==2.0 opencv-python-headless==5.0.0\n'
            in result.stdout)

    # Run again: the folder's wheels are reused, nothing is downloaded.
    again = _run(tmp_path, have)
    assert again.returncode == 0, again.stderr
    assert 'lacking' not in again.stdout
    assert '[wheelhouse] downloaded 0 wheels\n' in again.stdout

    # A node without OpenCV gets the headless one; one with lib 2.6 needs
    # neither lib nor the shared < 2 that lib 2.5 asks for.
    result = _run(tmp_path, ['numpy==2.0', 'lib==2.6'], dest='other')
    assert result.returncode == 0, result.stderr
    assert _folder(tmp_path / 'other') == [
        'app-1.0-py3-none-any.whl', 'fancy_dep-1.0-py3-none-any.whl',
        'opencv_python_headless-9.0-py3-none-any.whl',
        'plug-1.0-py3-none-any.whl', 'shared-2.0-py3-none-any.whl',
        'tool-1.0-py3-none-any.whl']


def test_a_bad_have_line_is_one_error_naming_it(tmp_path):
    result = _run(tmp_path, ['numpy==2.0', 'lib 1.5'])
    assert result.returncode == 1
    assert result.stderr == (
        f'[wheelhouse] error: HAVE={tmp_path / "have-0.txt"} line 2 is not '
        "NAME==VERSION (pip list --format=freeze): 'lib 1.5'\n")
    made = subprocess.run(
        ['bash', 'install/make_wheelhouse.sh'], cwd=REPO_ROOT,
        capture_output=True, text=True,
        env=dict(os.environ, WHEELHOUSE=str(tmp_path / 'wh'),
                 HAVE=str(tmp_path / 'missing.txt'), PYTHON=sys.executable))
    assert made.returncode == 1
    assert made.stderr == (f'[wheelhouse] error: HAVE={tmp_path}/missing.txt '
                           'is not a file\n')
