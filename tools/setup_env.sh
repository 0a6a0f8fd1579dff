#!/usr/bin/env bash
# Sets up .venv/ with the pinned stack (torch, mmengine 0.10.x, mmcv 2.1.0 with
# compiled ops, mmdet 3.3.0, pycocotools, faster-coco-eval) and this package
# in editable mode.
# Safe to re-run: every step checks what is already there and skips it, and a
# stamp file makes an up-to-date environment a one-second no-op.
#
# Environment:
#   VENV=path         where to create the environment (default: .venv)
#   PYTHON=python3.x  interpreter for a new environment (default: python3)
#   MAX_JOBS=n        compile jobs for the mmcv build (default: all cores)
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
STAMP="$VENV/.rethink-mmdet-setup"
MMCV_VERSION=2.1.0
# mmcv's setup.py imports pkg_resources, which setuptools 81 removed.
BUILD_TOOLS=("setuptools>=64,<81" "wheel" "ninja")

setup_start=$(date +%s)
step_start=$setup_start
step() {
    local now
    now=$(date +%s)
    if [ -n "${step_name:-}" ]; then
        printf '[setup] done: %s (%ds)\n' "$step_name" "$((now - step_start))"
    fi
    step_name=$1
    step_start=$now
    printf '[setup] %s ...\n' "$step_name"
}

stamp_key() {
    # The environment is current when this script and the package metadata
    # are unchanged since the last successful set-up.
    cat "$0" pyproject.toml | sha256sum | cut -d' ' -f1
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_key)" ] \
    && "$VENV/bin/python" -c 'import rethink_mmdet, mmdet, mmcv.ops' 2>/dev/null; then
    echo "[setup] $VENV is up to date (delete $STAMP to force a re-check)"
    exit 0
fi

py() { "$VENV/bin/python" "$@"; }
pip_install() { "$VENV/bin/python" -m pip install --disable-pip-version-check "$@"; }
has_module() { "$VENV/bin/python" -c "import $1" 2>/dev/null; }

step "virtual environment in $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
py --version

step "torch"
if has_module torch; then
    echo "keeping the installed torch $(py -c 'import torch; print(torch.__version__)')"
elif command -v nvidia-smi >/dev/null 2>&1; then
    # A GPU node: take PyPI's default (CUDA) build of torch.
    pip_install torch
else
    # CPU-only machine: 2.13.0 is the release this project is tested with.
    pip_install "torch==2.13.0"
fi

step "build tools (${BUILD_TOOLS[*]})"
pip_install "${BUILD_TOOLS[@]}"

step "mmengine 0.10.x"
pip_install "mmengine>=0.10.0,<0.11"

step "mmcv $MMCV_VERSION with compiled ops"
if py -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
    echo "mmcv $MMCV_VERSION with ops is already installed"
else
    # No prebuilt mmcv 2.1.0 wheel exists for recent torch releases, so pip
    # builds it from the PyPI source; pip's wheel cache keeps the result and
    # the next set-up on this machine installs it in seconds.
    echo "building from source if pip's wheel cache has no build yet (about 25 minutes on 2 cores)"
    env PATH="$(cd "$VENV/bin" && pwd):$PATH" \
        MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        "$VENV/bin/python" -m pip install --disable-pip-version-check \
        --no-build-isolation "mmcv==$MMCV_VERSION"
fi

step "mmdet 3.3.0, pycocotools, faster-coco-eval and test tools (pytest, import-linter, ruff)"
# faster-coco-eval backs FasterCocoMetric, our configs' COCO metric.
pip_install "mmdet==3.3.0" pycocotools "faster-coco-eval==1.8.0" \
    "pytest>=7" "pytest-xdist>=3" "import-linter>=2.1" "ruff>=0.6"

step "rethink_mmdet (editable)"
pip_install --no-build-isolation --no-deps -e .

step "openmim 0.3.9 (mim list / mim search show this package's models)"
# openmim's declared dependencies pull openxlab, which pins setuptools~=60.2
# and so conflicts with torch; these are the modules mim's commands import
# (pip then notes the missing opendatalab: mim list/search never import it).
pip_install --no-deps "openmim==0.3.9"
pip_install "model-index==0.1.11" click colorama pandas requests rich tabulate
# mim looks for <site-packages>/<dist name>/.mim/model-index.yml; an editable
# install keeps the package in the repository, so point that name at it (a
# hyphenated name that Python never imports, so it shadows nothing).
site_dir=$(py -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
ln -sfn "$PWD/rethink_mmdet" "$site_dir/rethink-mmdet"

step "check"
py - <<'EOF'
import mmcv, mmdet, mmengine, torch
from mmcv.ops import RoIAlign, nms  # noqa: F401  (fails if the ops were not compiled)
import rethink_mmdet
print(f'torch {torch.__version__}, mmengine {mmengine.__version__}, '
      f'mmcv {mmcv.__version__} (ops compiled), mmdet {mmdet.__version__}, '
      f'rethink_mmdet {rethink_mmdet.__version__}')
EOF
"$VENV/bin/mim" list 2>/dev/null | grep rethink-mmdet \
    || { echo "[setup] error: 'mim list' does not show rethink-mmdet" >&2; exit 1; }

stamp_key > "$STAMP"
now=$(date +%s)
printf '[setup] done: %s (%ds)\n' "$step_name" "$((now - step_start))"
printf '[setup] environment ready in %ds\n' "$((now - setup_start))"
