"""install/stack.sh's choose_opencv, as install/setup_env.sh runs it: the
OpenCV that imports is kept, whatever installed it; where cv2 does not
import the headless package is installed; where an OpenCV package is
installed but cv2 does not import the set-up stops rather than put a
second package over the same cv2. (The offline set-up in
test_wheelhouse.py shows that no step asks for opencv-python.)"""
import os
import subprocess
import sys

from rethink_mmdet.testing import REPO_ROOT


def _choose(python):
    return subprocess.run(
        ['bash', '-c', 'set -euo pipefail; source install/stack.sh; '
         'choose_opencv "$1"; echo "install: ${opencv[*]}"', '_', python],
        cwd=REPO_ROOT, capture_output=True, text=True)


def test_the_opencv_that_imports_is_kept_else_the_headless_one(tmp_path):
    result = _choose(sys.executable)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith('keeping the OpenCV that imports: cv2 ')
    assert lines[1:] == ['install: ']

    bare = tmp_path / 'bare'
    subprocess.run([sys._base_executable, '-m', 'venv', '--without-pip',
                    str(bare)], check=True)
    python = str(bare / 'bin' / 'python')
    result = _choose(python)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ('no cv2: installing opencv-python-headless\n'
                             'install: opencv-python-headless\n')

    # opencv-python installed, its cv2 failing as without libGL.
    site = subprocess.run(
        [python, '-c', 'import sysconfig; '
         'print(sysconfig.get_paths()["purelib"])'],
        capture_output=True, text=True, check=True).stdout.strip()
    os.makedirs(os.path.join(site, 'opencv_python-4.10.0.84.dist-info'))
    with open(os.path.join(site, 'opencv_python-4.10.0.84.dist-info',
                           'METADATA'), 'w') as f:
        f.write('Metadata-Version: 2.1\nName: opencv-python\n'
                'Version: 4.10.0.84\n')
    with open(os.path.join(site, 'cv2.py'), 'w') as f:
        f.write("raise ImportError('libGL.so.1: cannot open shared object "
                "file: No such file or directory')\n")
    result = _choose(python)
    assert result.returncode == 1
    assert result.stdout == ''
    assert result.stderr == (
        '[setup] error: opencv-python installed but cv2 does not import '
        f"(see: {python} -c 'import cv2')\n")
