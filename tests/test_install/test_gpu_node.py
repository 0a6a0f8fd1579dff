"""What an H200 image taught the set-up (issue 23), shown on the CPU:

- mmcv 2.1.0's version printers crashed there (SIGSEGV in
  ``std::ostream::_M_insert<long>``): the set-up patches ``info.cpp``
  before every build, and install/check_ops.py no longer calls them;
- the image's torch lives in a virtual environment: a new environment made
  by its interpreter sees that environment's packages.

The real parts where this machine has them: the CUDA toolkit's nvcc builds
a shared object with sm_90 device code (no GPU is needed to build it or to
read its ELF sections) and its ``cuda_runtime_api.h`` compiles the patched
``info.cpp``; without a toolkit those tests skip, saying so. The one fake:
the crash (the printers replaced by functions that segfault).
"""
import glob
import json
import os.path as osp
import shutil
import subprocess
import sys
import textwrap

import pytest

from rethink_mmdet.testing import REPO_ROOT

sys.path.insert(0, osp.join(REPO_ROOT, 'install'))
import check_ops  # noqa: E402
import mmcv_source  # noqa: E402
import setup_plan  # noqa: E402

SDIST = f'mmcv-{setup_plan.MMCV_VERSION}.tar.gz'


@pytest.fixture(scope='module')
def mmcv_sdist(wheelhouse):
    """The sdist make_wheelhouse.sh downloaded for this session."""
    return str(wheelhouse / SDIST)


@pytest.fixture(scope='module')
def cuda_toolkit():
    """CUDA_HOME of this machine's toolkit (nvcc and its headers), found
    as the set-up finds one."""
    for home in setup_plan.system_toolkits():
        if setup_plan.nvcc_version(home):
            return home
    pytest.skip('no CUDA toolkit on this machine (nvcc and '
                'include/cuda_runtime.h under CUDA_HOME, PATH or '
                f'{setup_plan.DEFAULT_CUDA_HOME})')


def _compile_info(source, tmp_path, defines, cuda_home):
    """Compiles the patched info.cpp alone against torch's headers and the
    toolkit's, links it with a driver that prints both versions, and runs
    it."""
    from torch.utils.cpp_extension import include_paths, library_paths
    driver = tmp_path / 'driver.cpp'
    driver.write_text(textwrap.dedent('''\
        #include <cstdio>
        #include <string>
        std::string get_compiling_cuda_version();
        std::string get_compiler_version();
        int main() {
          std::printf("%s|%s\\n", get_compiling_cuda_version().c_str(),
                      get_compiler_version().c_str());
        }
        '''))
    binary = tmp_path / 'info'
    includes = [f'-I{p}' for p in include_paths()]
    libraries = [f'-L{library_paths()[0]}',
                 f'-Wl,-rpath,{library_paths()[0]}', '-lc10', '-ltorch_cpu']
    subprocess.run(
        ['g++', '-std=c++17', '-w', *defines,
         f'-I{osp.join(cuda_home, "include")}',
         f'-I{source}/mmcv/ops/csrc/common', *includes,
         f'{source}/mmcv/ops/csrc/pytorch/info.cpp', str(driver), '-o',
         str(binary), *libraries], check=True, timeout=300)
    return subprocess.run([str(binary)], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.slow
def test_the_patch_applies_to_the_sdist_and_info_cpp_compiles(
        mmcv_sdist, cuda_toolkit, tmp_path):
    source = mmcv_source.prepare(mmcv_sdist, str(tmp_path / 'src'))
    with open(osp.join(source, 'mmcv/ops/csrc/pytorch/info.cpp')) as f:
        patched = f.read()
    # No stream insertion left; the versions come from std::to_string.
    assert '<<' not in patched and 'std::to_string' in patched
    cuda, compiler = _compile_info(source, tmp_path, ['-DMMCV_WITH_CUDA'],
                                   cuda_toolkit).split('|')
    # CUDART_VERSION of the toolkit's header, printed without streams.
    assert cuda == setup_plan.nvcc_version(cuda_toolkit)
    assert compiler.startswith('GCC ')


def test_a_patch_that_does_not_match_stops_with_the_file_and_hunk(tmp_path):
    target = tmp_path / 'mmcv/ops/csrc/pytorch'
    target.mkdir(parents=True)
    (target / 'info.cpp').write_text('// another mmcv\nint main() {}\n')
    patch = glob.glob(osp.join(mmcv_source.PATCH_DIR, '*.patch'))[0]
    with open(patch) as f, pytest.raises(mmcv_source.PatchError,
                                         match='hunk 1 does not match '
                                         'mmcv/ops/csrc/pytorch/info.cpp'):
        mmcv_source.apply(str(tmp_path), f.read(), 'info.patch')


def test_the_build_key_names_the_patches(tmp_path, monkeypatch):
    key = setup_plan.wheel_key('2.13.0+cpu', None, None, 'cp311')
    # The patches' bytes name the build, not where they lie.
    copy = tmp_path / 'copy'
    shutil.copytree(mmcv_source.PATCH_DIR, copy)
    monkeypatch.setattr(mmcv_source, 'PATCH_DIR', str(copy))
    assert setup_plan.wheel_key('2.13.0+cpu', None, None, 'cp311') == key
    # Other patches (one changed line, or none): another key, so a stored
    # build from another or an unpatched source is never reused.
    [patch] = copy.glob('*.patch')
    patch.write_text(patch.read_text().replace('std::to_string',
                                               'std::to_string ', 1))
    assert setup_plan.wheel_key('2.13.0+cpu', None, None, 'cp311') != key
    for path in copy.glob('*.patch'):
        path.unlink()
    assert setup_plan.wheel_key('2.13.0+cpu', None, None, 'cp311') != key


CUDA_SOURCE = """
__global__ void scale(float *x, float a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= a;
}
extern "C" void launch_scale(float *x, float a, int n) {
  scale<<<(n + 255) / 256, 256>>>(x, a, n);
}
"""


@pytest.fixture(scope='module')
def cuda_extension(cuda_toolkit, tmp_path_factory):
    """A shared object nvcc builds with sm_90 device code (an H100's or
    H200's), as it builds mmcv's CUDA ops."""
    folder = tmp_path_factory.mktemp('cuda_ext')
    (folder / 'scale.cu').write_text(CUDA_SOURCE)
    library = folder / 'scale.so'
    subprocess.run([osp.join(cuda_toolkit, 'bin', 'nvcc'), '-shared',
                    '-Xcompiler', '-fPIC', '-gencode',
                    'arch=compute_90,code=sm_90', str(folder / 'scale.cu'),
                    '-o', str(library)], check=True, capture_output=True,
                   timeout=300)
    return str(library)


# check_ops.py as the set-up runs it, with mmcv's version printers made to
# crash the process as they did on the H200 and, optionally, mmcv._ext
# found at another file.
CHECK_WITH_CRASHING_PRINTERS = '''
import ctypes, importlib.util, sys
sys.path.insert(0, {misc!r})
import mmcv._ext, mmcv.ops, mmcv.ops.info
def crash():
    ctypes.string_at(0)  # SIGSEGV
for module in (mmcv._ext, mmcv.ops, mmcv.ops.info):
    module.get_compiling_cuda_version = crash
    module.get_compiler_version = crash
import check_ops
if {extension!r}:
    find_spec = importlib.util.find_spec
    def spec_at(name):
        spec = find_spec(name)
        if name == 'mmcv._ext':
            spec.origin = {extension!r}
        return spec
    check_ops.importlib.util.find_spec = spec_at
sys.exit(check_ops.main(['--device', 'cpu', '--json', {out!r}]))
'''


def _check_ops(tmp_path, extension=None):
    out = str(tmp_path / 'ops.json')
    code = CHECK_WITH_CRASHING_PRINTERS.format(
        misc=osp.join(REPO_ROOT, 'install'), extension=extension,
        out=out)
    result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    with open(out) as f:
        return result.stdout, json.load(f)


def test_the_fake_crash_is_a_crash():
    result = subprocess.run(
        [sys.executable, '-c', 'import ctypes; ctypes.string_at(0)'])
    assert result.returncode == -11  # SIGSEGV


@pytest.mark.slow
def test_check_ops_tells_cpu_from_cuda_builds_without_the_printers(
        tmp_path, cuda_extension):
    # This machine's build: CPU ops only.
    output, record = _check_ops(tmp_path)
    assert record['ops_device'] == 'cpu' and record['cuda'] is None
    assert 'built for CPU only' in output
    # The same ops, the extension file read as a CUDA build's.
    output, record = _check_ops(tmp_path, cuda_extension)
    assert record['ops_device'] == 'cuda'
    assert 'built for CUDA' in output


def test_elf_sections_of_a_real_build_and_of_a_non_elf_file(
        tmp_path, cuda_extension):
    real = check_ops.elf_sections(
        check_ops.importlib.util.find_spec('mmcv._ext').origin)
    assert '.text' in real and '.nv_fatbin' not in real
    assert '.nv_fatbin' in check_ops.elf_sections(cuda_extension)
    (tmp_path / 'script.so').write_text('#!/bin/sh\n')
    assert check_ops.elf_sections(str(tmp_path / 'script.so')) == []


@pytest.mark.slow
def test_an_environment_made_inside_a_venv_sees_that_venvs_torch(tmp_path):
    # This test's interpreter runs in a venv that holds torch (as the
    # image's uv venv does); its base interpreter has no torch.
    assert sys.prefix != sys.base_prefix
    base = osp.join(sys.base_prefix, 'bin', 'python3')
    assert subprocess.run([base, '-c', 'import torch'],
                          capture_output=True).returncode != 0
    # The trap: venv --system-site-packages sees the base's packages only.
    plain = tmp_path / 'plain'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip',
                    '--system-site-packages', str(plain)], check=True)
    assert subprocess.run([str(plain / 'bin/python'), '-c', 'import torch'],
                          capture_output=True).returncode != 0
    new = tmp_path / 'new'
    made = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'install/make_venv.py'),
         str(new), '1'], capture_output=True, text=True, check=True)
    assert f'sees the virtual environment {sys.prefix}' in made.stdout
    probe = subprocess.run(
        [str(new / 'bin/python'), '-c', 'import sys, torch, sysconfig; '
         'print(torch.__file__); print(sysconfig.get_paths()["purelib"]); '
         'print("\\n".join(sys.path))'],
        capture_output=True, text=True, check=True).stdout.splitlines()
    torch_file, own_site, path = probe[0], probe[1], probe[2:]
    assert torch_file.startswith(sys.prefix)
    parent_site = osp.dirname(osp.dirname(torch_file))
    # Its own packages first: what the set-up installs wins over the
    # image's (setuptools < 81 over the image's 81).
    assert path.index(own_site) < path.index(parent_site)
    assert subprocess.run([str(new / 'bin/python'), '-m', 'pip',
                           '--version'], capture_output=True).returncode == 0
