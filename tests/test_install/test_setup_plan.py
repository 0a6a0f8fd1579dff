"""install/setup_plan.py: the set-up's CUDA decisions, with a faked
``nvidia-smi``, faked nvcc toolkits and a faked torch CUDA version."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from rethink_mmdet.testing import REPO_ROOT
from rethink_mmdet.testing.environments import NotSetUp, installed_mmcv_build

PLAN_PATH = osp.join(REPO_ROOT, 'install', 'setup_plan.py')
# The suite's no-GPU pin (tests/conftest.py).
NO_GPU_BIN = osp.join(REPO_ROOT, 'tests', 'fixtures', 'no_gpu_bin')


def _load(name):
    """A stand-alone script of tools/misc as a module."""
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO_ROOT, 'install', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plan = _load('setup_plan')
cuda_home = _load('cuda_home')

H200 = ('NVIDIA H200', '9.0', '580.95.05')
A100 = ('NVIDIA A100-SXM4-80GB', '8.0', '570.86.10')
V100 = ('Tesla V100-SXM2-32GB', '7.0', '580.65.06')


def _script(path, body):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('#!/bin/sh\n' + body)
    os.chmod(path, 0o755)


def _fake_nvidia_smi(bin_dir, gpus, returncode=0):
    lines = ''.join(f'echo "{n}, {c}, {d}"\n' for n, c, d in gpus)
    _script(osp.join(bin_dir, 'nvidia-smi'),
            lines + f'exit {returncode}\n')


def _fake_toolkit(home, version):
    _script(osp.join(home, 'bin', 'nvcc'), 'echo "Cuda compilation tools, '
            f'release {version}, V{version}.1"\n')
    os.makedirs(osp.join(home, 'include'), exist_ok=True)
    open(osp.join(home, 'include', 'cuda_runtime.h'), 'w').close()
    return home


def _fake_torch(folder, version, cuda):
    os.makedirs(osp.join(folder, 'torch'))
    with open(osp.join(folder, 'torch', '__init__.py'), 'w') as f:
        f.write(f'__version__ = {version!r}\n'
                f'class version:\n    cuda = {cuda!r}\n')
    return folder


@pytest.fixture
def no_system_toolkit(monkeypatch, tmp_path):
    """Hide the machine's CUDA toolkits (these machines have CUDA 13 in
    /usr/local/cuda and an nvcc in /usr/local/bin)."""
    monkeypatch.setattr(plan, 'DEFAULT_CUDA_HOME', str(tmp_path / 'none'))
    monkeypatch.delenv('CUDA_HOME', raising=False)
    monkeypatch.delenv('CUDA_PATH', raising=False)
    monkeypatch.setenv('PATH', '/usr/bin:/bin')


def test_gpus_come_from_nvidia_smi(tmp_path, monkeypatch):
    _fake_nvidia_smi(str(tmp_path), [H200, H200])
    monkeypatch.setenv('PATH', f'{tmp_path}:/usr/bin:/bin')
    assert plan.visible_gpus() == [H200, H200]
    # nvidia-smi without a working driver lists nothing.
    _fake_nvidia_smi(str(tmp_path), [], returncode=9)
    assert plan.visible_gpus() == []
    # No nvidia-smi at all (a PATH without the system's folders, where a
    # GPU node's driver puts it).
    empty = tmp_path / 'empty'
    empty.mkdir()
    monkeypatch.setenv('PATH', str(empty))
    assert plan.visible_gpus() == []


def test_torch_is_kept_unless_it_cannot_use_the_gpus():
    cpu = {'version': '2.13.0+cpu', 'cuda': None}
    cu130 = {'version': '2.13.0+cu130', 'cuda': '13.0'}
    assert plan.torch_action(None, [], None) == ('install', 'torch==2.13.0')
    assert plan.torch_action(cpu, [], None) == ('keep', 'torch==2.13.0')
    assert plan.torch_action(cpu, [H200], None) == ('replace',
                                                   'torch==2.13.0')
    assert plan.torch_action(cu130, [H200], None)[0] == 'keep'
    other = 'torch==2.9.1 --index-url https://download.pytorch.org/whl/cu126'
    assert plan.torch_action(cu130, [H200], other) == ('replace', other)
    assert plan.torch_action(cu130, [H200], 'torch==2.13.0')[0] == 'keep'


def test_arch_list_from_the_gpus_else_the_default_for_the_toolkit():
    assert plan.arch_list([H200, A100, H200], '13.0') == '8.0;9.0'
    assert plan.arch_list([], '13.0') == '7.5;8.0;8.6;8.9;9.0;10.0+PTX'
    assert plan.arch_list([], '12.8') == \
        '7.0;7.5;8.0;8.6;8.9;9.0;10.0+PTX'
    assert plan.arch_list([], '12.4') == '7.0;7.5;8.0;8.6;8.9;9.0+PTX'
    assert plan.arch_list([H200], '13.0', '9.0a') == '9.0a'
    assert plan.arch_list([V100], '12.8') == '7.0'
    with pytest.raises(plan.PlanError, match='7.0 .V100.'):
        plan.arch_list([V100], '13.0')


def test_driver_too_old_for_torchs_cuda():
    plan.check_driver([H200], '13.0')
    with pytest.raises(plan.PlanError, match='570.86.10 .* CUDA 13.0'):
        plan.check_driver([A100], '13.0')
    plan.check_driver([A100], '12.8')


def test_toolkit_with_torchs_major_else_nvcc_from_pypi(
        tmp_path, monkeypatch, no_system_toolkit):
    cuda12 = _fake_toolkit(str(tmp_path / 'cuda-12.4'), '12.4')
    monkeypatch.setenv('CUDA_HOME', cuda12)
    assert plan.choose_toolkit('12.8') == (cuda12,
                                           f'system nvcc 12.4 in {cuda12}')
    home, why = plan.choose_toolkit('13.0')
    assert home is None
    assert why == f'{cuda12} has 12.4; torch needs CUDA 13.0: nvcc from PyPI'
    # nvcc on PATH through a symlink: CUDA_HOME is the real toolkit.
    cuda13 = _fake_toolkit(str(tmp_path / 'cuda-13.0'), '13.0')
    os.makedirs(tmp_path / 'bin')
    os.symlink(osp.join(cuda13, 'bin', 'nvcc'), tmp_path / 'bin' / 'nvcc')
    monkeypatch.setenv('PATH', f'{tmp_path / "bin"}:/usr/bin:/bin')
    assert plan.choose_toolkit('13.0')[0] == cuda13
    assert plan.pypi_nvcc('13.0') == \
        'cuda-toolkit[nvcc,cudart,cccl,crt]==13.0.*'
    assert plan.pypi_nvcc('12.8') == (
        'nvidia-cuda-nvcc-cu12==12.8.* nvidia-cuda-runtime-cu12==12.8.* '
        'nvidia-cuda-cccl-cu12==12.8.*')


def test_wheel_key_separates_every_build(no_system_toolkit):
    cpu = {'version': '2.13.0+cpu', 'cuda': None}
    cu130 = {'version': '2.13.0+cu130', 'cuda': '13.0'}
    keys = {
        plan.build_plan(cpu, [], {})['MMCV_KEY'],
        plan.build_plan(cu130, [H200], {})['MMCV_KEY'],
        plan.build_plan(cu130, [], {})['MMCV_KEY'],
        plan.build_plan({'version': '2.9.1+cu128', 'cuda': '12.8'}, [H200],
                        {})['MMCV_KEY'],
        plan.build_plan(cu130, [H200], {'TORCH_CUDA_ARCH_LIST': '9.0+PTX'}
                        )['MMCV_KEY']}
    assert len(keys) == 5
    assert plan.build_plan(cpu, [], {})['BUILD_DEVICE'] == 'cpu'
    gpu = plan.build_plan(cu130, [H200], {})
    assert (gpu['BUILD_DEVICE'], gpu['FORCE_CUDA'],
            gpu['TORCH_CUDA_ARCH_LIST']) == ('cuda', '1', '9.0')
    assert gpu['NVCC_PIP'].startswith('cuda-toolkit[')
    with pytest.raises(plan.PlanError, match='CPU build .* has GPUs'):
        plan.build_plan(cpu, [H200], {})


def test_the_plan_gives_the_key_the_set_up_installed_here(monkeypatch):
    """Run now, the plan names the build install/setup_env.sh recorded and
    installed in this environment (its key, and the wheel it kept)."""
    try:
        key, wheel = installed_mmcv_build()
    except NotSetUp as error:
        pytest.skip(str(error))
    torch_info = plan.installed_torch()
    gpus = []
    if torch_info['cuda'] is not None:
        # A CUDA build's archs are the node's GPUs, as the set-up saw them
        # (past the suite's no-GPU pin).
        monkeypatch.setenv('PATH', os.environ['PATH'].replace(
            NO_GPU_BIN + os.pathsep, ''))
        gpus = plan.visible_gpus()
    assert plan.build_plan(torch_info, gpus, {})['MMCV_KEY'] == key
    import mmcv
    assert osp.basename(wheel).startswith(f'mmcv-{mmcv.__version__}-')


def test_cuda_home_from_pypi_wheels_has_the_cudart_link_name(tmp_path):
    # CUDA 13: one folder; CUDA 12: one folder per component.
    site13 = tmp_path / 'site13'
    _fake_toolkit(str(site13 / 'nvidia' / 'cu13'), '13.0')
    os.makedirs(site13 / 'nvidia' / 'cu13' / 'lib')
    (site13 / 'nvidia' / 'cu13' / 'lib' / 'libcudart.so.13').touch()
    # As install/setup_env.sh runs it.
    printed = subprocess.run(
        [sys.executable, cuda_home.__file__, str(site13),
         str(tmp_path / 'home13')], capture_output=True, text=True).stdout
    assert printed == f'CUDA_HOME={tmp_path / "home13"}\n'
    home = str(tmp_path / 'home13')
    assert os.path.realpath(osp.join(home, 'lib64', 'libcudart.so')) == \
        str(site13 / 'nvidia' / 'cu13' / 'lib' / 'libcudart.so.13')
    assert plan.nvcc_version(home) == '13.0'

    site12 = tmp_path / 'site12' / 'nvidia'
    _script(str(site12 / 'cuda_nvcc' / 'bin' / 'nvcc'),
            'echo "Cuda compilation tools, release 12.8, V12.8.93"\n')
    os.makedirs(site12 / 'cuda_nvcc' / 'nvvm' / 'bin')
    os.makedirs(site12 / 'cuda_runtime' / 'include')
    os.makedirs(site12 / 'cuda_runtime' / 'lib')
    os.makedirs(site12 / 'cuda_cccl' / 'include' / 'thrust')
    (site12 / 'cuda_runtime' / 'include' / 'cuda_runtime.h').touch()
    (site12 / 'cuda_runtime' / 'lib' / 'libcudart.so.12').touch()
    home = cuda_home.assemble_cuda_home(str(site12.parent),
                                   str(tmp_path / 'home12'))
    for path in ('include/cuda_runtime.h', 'include/thrust', 'nvvm/bin',
                 'lib64/libcudart.so.12'):
        assert osp.exists(osp.join(home, path)), path
    assert os.readlink(osp.join(home, 'lib64', 'libcudart.so')) == \
        'libcudart.so.12'
    assert plan.nvcc_version(home) == '12.8'
    with pytest.raises(cuda_home.CudaHomeError, match='no nvcc'):
        cuda_home.assemble_cuda_home(str(tmp_path / 'empty'),
                                     str(tmp_path / 'x'))


def test_a_cpu_set_up_is_not_ready_on_a_gpu_node(tmp_path):
    stamp = plan.make_stamp('KEY', {'ops_device': 'cpu', 'checked_on': 'cpu'})
    assert plan.stamp_problem(stamp, []) is None
    assert 'this node has GPUs (NVIDIA H200)' in plan.stamp_problem(
        stamp, [H200])
    on_gpu = dict(stamp, ops_device='cuda', ops_checked_on='cuda')
    assert plan.stamp_problem(on_gpu, [H200]) is None
    assert 'torch changed' in plan.stamp_problem(
        dict(stamp, torch='2.0.0'), [])
    assert 'set-up scripts' in plan.stamp_problem(
        dict(stamp, setup='0' * 64), [])


def _run_plan(tmp_path, command, gpus, torch_version, cuda, toolkit=None,
              args=()):
    bin_dir = str(tmp_path / 'bin')
    _fake_nvidia_smi(bin_dir, gpus)
    fake = _fake_torch(str(tmp_path / 'faketorch'), torch_version, cuda)
    env = dict(os.environ, PATH=f'{bin_dir}:/usr/bin:/bin', PYTHONPATH=fake)
    env.pop('TORCH_CUDA_ARCH_LIST', None)
    env.pop('TORCH_SPEC', None)
    env['CUDA_HOME'] = toolkit or str(tmp_path / 'no-toolkit')
    return subprocess.run([sys.executable, PLAN_PATH, command, *args],
                          capture_output=True, text=True, env=env)


def test_command_line_with_faked_gpus_and_torch(tmp_path):
    toolkit = _fake_toolkit(str(tmp_path / 'cuda'), '13.0')
    result = _run_plan(tmp_path, 'build', [H200], '2.13.0+cu130', '13.0',
                       toolkit)
    assert result.returncode == 0, result.stderr
    assert f"CUDA_HOME={toolkit}\n" in result.stdout
    assert "FORCE_CUDA=1\n" in result.stdout
    assert "TORCH_CUDA_ARCH_LIST=9.0\n" in result.stdout
    assert '-torch2.13.0+cu130-cuda13.0-sm9.0-patched-' in result.stdout

    result = _run_plan(tmp_path / 'b', 'torch', [H200], '2.13.0+cpu', None)
    assert 'TORCH_ACTION=replace\n' in result.stdout
    result = _run_plan(tmp_path / 'c', 'build', [H200], '2.13.0+cpu', None)
    assert result.returncode == 1
    assert result.stderr.count('\n') == 1
    assert result.stderr.startswith('[setup] error: torch 2.13.0+cpu is a '
                                    'CPU build but this node has GPUs')


def test_stamp_written_on_a_cpu_node_is_refused_on_a_gpu_node(tmp_path):
    check = tmp_path / 'check.json'
    check.write_text(json.dumps({'ops_device': 'cpu', 'checked_on': 'cpu'}))
    stamp = str(tmp_path / 'stamp')
    assert _run_plan(tmp_path / 'a', 'stamp-write', [], '2.13.0+cpu', None,
                     args=(stamp, 'KEY', str(check))).returncode == 0
    assert _run_plan(tmp_path / 'b', 'stamp-ok', [], '2.13.0+cpu', None,
                     args=(stamp, )).returncode == 0
    result = _run_plan(tmp_path / 'c', 'stamp-ok', [H200], '2.13.0+cpu',
                       None, args=(stamp, ))
    assert result.returncode == 1
    assert 'ran on cpu; this node has GPUs' in result.stderr
