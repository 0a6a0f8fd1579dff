"""The decisions of install/setup_env.sh, where they can be tested.

It runs with the new environment's Python before mmcv and mmdet are
installed (often before torch), so it uses the standard library only and
imports torch when it is there. install/setup_env.sh evaluates its output
(``NAME=value`` lines, shell-quoted)::

    setup_plan.py torch            # keep torch, or what to install
    setup_plan.py build            # CPU or CUDA build of mmcv, and its key
    setup_plan.py stamp-ok STAMP   # exit 0 when the venv is ready here
    setup_plan.py stamp-write STAMP KEY CHECK_JSON

GPUs are what ``nvidia-smi`` lists; docs/gpu.md explains each choice.
When nvcc comes from PyPI, install/cuda_home.py makes the CUDA_HOME.
"""
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmcv_source  # noqa: E402  (beside this file, standard library only)

MMCV_VERSION = '2.1.0'
# The torch release this project is tested with. From PyPI, its Linux x86_64
# wheel is the CUDA 13.0 build (this machine's pip finds the +cpu build in a
# local folder first). TORCH_SPEC (pip arguments) chooses another, e.g.
# "torch==2.9.1 --index-url https://download.pytorch.org/whl/cu126".
DEFAULT_TORCH_SPEC = 'torch==2.13.0'
# Default arch list where no GPU is visible (a login node), V100 (7.0) to
# B200 (10.0), with PTX of the newest for later GPUs. CUDA 13 dropped
# Volta, CUDA < 12.8 cannot compile for Blackwell.
DEFAULT_ARCHS = ('7.0', '7.5', '8.0', '8.6', '8.9', '9.0', '10.0')
# Lowest driver for each CUDA major (NVIDIA's minor-version compatibility).
MIN_DRIVER = {12: (525, 60), 13: (580, 65)}
# The files whose change makes a set-up stale.
SETUP_FILES = ('install/setup_env.sh', 'install/setup_plan.py',
               'install/cuda_home.py',
               'install/check_ops.py', 'install/stack.sh',
               'install/mmcv_source.py',
               'install/make_venv.py', 'pyproject.toml')
# Where torch (and NVIDIA's installers) look last for a toolkit.
DEFAULT_CUDA_HOME = '/usr/local/cuda'
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class PlanError(Exception):
    """The set-up cannot go on; the message says why and what to do."""


def visible_gpus() -> List[Tuple[str, str, str]]:
    """(name, compute capability, driver version) of each GPU nvidia-smi
    lists; empty without nvidia-smi or when it fails (no driver)."""
    if shutil.which('nvidia-smi') is None:
        return []
    try:
        out = subprocess.run(
            ['nvidia-smi', '--query-gpu=name,compute_cap,driver_version',
             '--format=csv,noheader'], capture_output=True, text=True,
            timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    gpus = []
    for line in out.stdout.splitlines():
        fields = [f.strip() for f in line.split(',')]
        if len(fields) == 3 and re.fullmatch(r'\d+\.\d+', fields[1]):
            gpus.append(tuple(fields))
    return gpus


def installed_torch() -> Optional[Dict[str, Optional[str]]]:
    """The installed torch's version and CUDA version (None for a CPU
    build), or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    except OSError as error:  # e.g. a CUDA library it was built with
        raise PlanError(f'torch is installed but does not load: {error}')
    return {'version': torch.__version__, 'cuda': torch.version.cuda}


def torch_action(torch_info, gpus, spec: Optional[str]) -> Tuple[str, str]:
    """(``keep`` | ``install`` | ``replace``, pip arguments) for torch.

    Args:
        torch_info: :func:`installed_torch`'s result.
        gpus: :func:`visible_gpus`'s result.
        spec: TORCH_SPEC, when the user set it.
    """
    wanted = spec or DEFAULT_TORCH_SPEC
    if torch_info is None:
        return 'install', wanted
    if gpus and torch_info['cuda'] is None:
        # A CPU torch on a GPU node: never build CPU ops there.
        return 'replace', wanted
    pin = re.match(r'torch==([^\s;+]+)', wanted)
    installed = torch_info['version'].split('+')[0]
    if spec and pin and pin.group(1) != installed:
        return 'replace', wanted
    return 'keep', wanted


def cuda_major_minor(version: str) -> Tuple[int, int]:
    major, minor = version.split('.')[:2]
    return int(major), int(minor)


def check_driver(gpus, cuda: str) -> None:
    """Raises when the driver is too old for torch's CUDA."""
    major = cuda_major_minor(cuda)[0]
    need = MIN_DRIVER.get(major)
    for name, _, driver in gpus:
        have = tuple(int(x) for x in driver.split('.')[:2])
        if need and have < need:
            raise PlanError(
                f'driver {driver} ({name}) is older than CUDA {cuda} needs '
                f'(>= {need[0]}.{need[1]}): update the driver, or set '
                'TORCH_SPEC to a torch built for an older CUDA (docs/gpu.md)')


def arch_list(gpus, cuda: str, env_value: Optional[str] = None) -> str:
    """TORCH_CUDA_ARCH_LIST for the mmcv build: the user's, else the
    visible GPUs' compute capabilities, else the default list + PTX."""
    if env_value:
        return env_value
    major, minor = cuda_major_minor(cuda)
    supported = [a for a in DEFAULT_ARCHS
                 if not (major >= 13 and a == '7.0')
                 and not ((major, minor) < (12, 8) and a == '10.0')]
    if not gpus:
        return ';'.join(supported[:-1] + [supported[-1] + '+PTX'])
    caps = sorted({cap for _, cap, _ in gpus}, key=cuda_major_minor)
    if major >= 13 and '7.0' in caps:
        raise PlanError(
            f'CUDA {cuda} cannot build for compute capability 7.0 (V100): '
            'set TORCH_SPEC to a CUDA 12 torch (docs/gpu.md)')
    return ';'.join(caps)


def wheel_key(torch_version: str, cuda: Optional[str],
              archs: Optional[str], python_tag: str) -> str:
    """Name of the mmcv build: a build is reused only by the same Python,
    torch, CUDA, arch list and source patches (install/patches/)."""
    key = f'mmcv{MMCV_VERSION}-{python_tag}-torch{torch_version}'
    if cuda is None:
        key += '-cpu'
    else:
        key += f'-cuda{cuda}-sm' + archs.replace(';', '_')
    return f'{key}-{mmcv_source.patch_id()}'


def nvcc_version(cuda_home: str) -> Optional[str]:
    """``X.Y`` of CUDA_HOME/bin/nvcc, or None when it is not a toolkit."""
    nvcc = os.path.join(cuda_home, 'bin', 'nvcc')
    if not (os.path.isfile(nvcc) and os.path.isfile(
            os.path.join(cuda_home, 'include', 'cuda_runtime.h'))):
        return None
    try:
        out = subprocess.run([nvcc, '--version'], capture_output=True,
                             text=True, timeout=60).stdout
    except OSError:
        return None
    match = re.search(r'release (\d+\.\d+)', out)
    return match.group(1) if match else None


def system_toolkits() -> List[str]:
    """Candidate CUDA_HOMEs, in torch's order of preference; ``which nvcc``
    is resolved, since wrappers and symlinks in /usr/bin are common."""
    candidates = [os.environ.get('CUDA_HOME'), os.environ.get('CUDA_PATH')]
    nvcc = shutil.which('nvcc')
    if nvcc:
        candidates.append(os.path.dirname(os.path.dirname(
            os.path.realpath(nvcc))))
    candidates.append(DEFAULT_CUDA_HOME)
    return list(dict.fromkeys(c for c in candidates if c))


def pypi_nvcc(cuda: str) -> str:
    """pip requirements of nvcc and the headers mmcv's kernels include,
    for torch's CUDA major.minor."""
    major, minor = cuda_major_minor(cuda)
    if major >= 13:
        return f'cuda-toolkit[nvcc,cudart,cccl,crt]=={major}.{minor}.*'
    return ' '.join(f'nvidia-{name}-cu{major}=={major}.{minor}.*'
                    for name in ('cuda-nvcc', 'cuda-runtime', 'cuda-cccl'))


def choose_toolkit(cuda: str) -> Tuple[Optional[str], str]:
    """(CUDA_HOME, why) of a system toolkit whose major is torch's, or
    (None, why) when nvcc must come from PyPI."""
    seen = []
    for home in system_toolkits():
        version = nvcc_version(home)
        if version is None:
            continue
        if cuda_major_minor(version)[0] == cuda_major_minor(cuda)[0]:
            return home, f'system nvcc {version} in {home}'
        seen.append(f'{home} has {version}')
    found = '; '.join(seen) or 'no system nvcc'
    return None, f'{found}; torch needs CUDA {cuda}: nvcc from PyPI'


def build_plan(torch_info, gpus, env) -> Dict[str, str]:
    """What the mmcv build needs, as shell variables."""
    tag = f'cp{sys.version_info[0]}{sys.version_info[1]}'
    cuda = torch_info['cuda']
    if cuda is None:
        if gpus:
            raise PlanError(
                f'torch {torch_info["version"]} is a CPU build but this node '
                f'has GPUs ({gpus[0][0]}): set TORCH_SPEC to a CUDA build or '
                'remove torch from the environment')
        return {'BUILD_DEVICE': 'cpu',
                'MMCV_KEY': wheel_key(torch_info['version'], None, None, tag)}
    check_driver(gpus, cuda)
    archs = arch_list(gpus, cuda, env.get('TORCH_CUDA_ARCH_LIST'))
    home, why = choose_toolkit(cuda)
    plan = {'BUILD_DEVICE': 'cuda', 'FORCE_CUDA': '1',
            'TORCH_CUDA_ARCH_LIST': archs, 'TOOLKIT': why,
            'MMCV_KEY': wheel_key(torch_info['version'], cuda, archs, tag)}
    if home:
        plan['CUDA_HOME'] = home
    else:
        plan['NVCC_PIP'] = pypi_nvcc(cuda)
    return plan


def setup_hash() -> str:
    digest = hashlib.sha256()
    for name in SETUP_FILES:
        with open(os.path.join(REPO_ROOT, name), 'rb') as f:
            digest.update(f.read())
    return digest.hexdigest()


def torch_distribution_version() -> Optional[str]:
    """The installed torch's version without importing torch (fast)."""
    from importlib import metadata
    try:
        return metadata.version('torch')
    except metadata.PackageNotFoundError:
        return None


def stamp_problem(stamp: dict, gpus) -> Optional[str]:
    """Why a set-up stamp does not make the environment ready on this
    node, or None when it does."""
    if stamp.get('setup') != setup_hash():
        return 'the set-up scripts or pyproject.toml changed'
    if stamp.get('torch') != torch_distribution_version():
        return f'torch changed since the set-up ({stamp.get("torch")})'
    if gpus and stamp.get('ops_checked_on') != 'cuda':
        return (f'set up where the ops ran on {stamp.get("ops_checked_on")}; '
                f'this node has GPUs ({gpus[0][0]})')
    return None


def make_stamp(key: str, check: dict) -> dict:
    return {'setup': setup_hash(), 'torch': torch_distribution_version(),
            'cuda': check.get('cuda'), 'mmcv_key': key,
            'ops_device': check['ops_device'],
            'ops_checked_on': check['checked_on']}


def shell(values: Dict[str, str]) -> str:
    return ''.join(f'{k}={shlex.quote(v)}\n' for k, v in values.items())


def main(argv: List[str]) -> int:
    command, args = argv[0], argv[1:]
    gpus = visible_gpus()
    if command == 'torch':
        action, spec = torch_action(installed_torch(), gpus,
                                    os.environ.get('TORCH_SPEC'))
        print(shell({'TORCH_ACTION': action, 'TORCH_SPEC': spec,
                     'GPUS': '; '.join(f'{n} (sm {c}, driver {d})'
                                       for n, c, d in gpus)}), end='')
    elif command == 'build':
        print(shell(build_plan(installed_torch(), gpus, os.environ)), end='')
    elif command == 'stamp-ok':
        try:
            with open(args[0]) as f:
                problem = stamp_problem(json.load(f), gpus)
        except (OSError, ValueError):
            problem = 'no set-up stamp'
        if problem:
            print(f'[setup] {problem}: setting up', file=sys.stderr)
            return 1
    elif command == 'stamp-write':
        with open(args[2]) as f:
            stamp = make_stamp(args[1], json.load(f))
        with open(args[0], 'w') as f:
            json.dump(stamp, f, indent=1)
    else:
        raise PlanError(f'unknown command {command!r}')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except PlanError as error:
        print(f'[setup] error: {error}', file=sys.stderr)
        sys.exit(1)
