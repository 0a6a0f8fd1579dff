#!/usr/bin/env bash
# Sets up .venv/ with the pinned stack (torch, mmengine 0.10.x, mmcv 2.1.0 with
# compiled ops, mmdet 3.3.0, pycocotools, faster-coco-eval) and this package
# in editable mode. On a GPU node the ops are built for CUDA and proven on
# the GPU; docs/gpu.md explains each choice.
# Safe to re-run: every step checks what is already there and skips it, and a
# stamp file makes an up-to-date environment a few-second no-op.
#
# Environment:
#   VENV=path         where to create the environment (default: .venv)
#   PYTHON=python3.x  interpreter for a new environment (default: python3)
#   SYSTEM_SITE_PACKAGES=1  a new environment sees PYTHON's packages (a GPU
#                     image's torch, kept), also when PYTHON runs inside a
#                     virtual environment (its site-packages via a .pth)
#   TORCH_SPEC=...    pip arguments for torch (default: torch==2.13.0; an
#                     installed torch is kept unless this pins another version)
#   TORCH_CUDA_ARCH_LIST  archs of the CUDA build (default: the visible GPUs',
#                     else 7.0 (V100) to 10.0 (B200) + PTX)
#   WHEELHOUSE=dir    install from this folder only (make wheelhouse), no network
#   WHEEL_STORE=dir   mmcv builds, one folder per key (torch, CUDA, archs)
#                     (default: ~/.cache/rethink-mmdet/wheels)
#   SHARED_WHEEL_STORE=dir  a store read, never written (a team's, or the
#                     machine's for a CI run with an empty WHEEL_STORE):
#                     this key's build is copied from it into WHEEL_STORE
#   MAX_JOBS=n        compile jobs for the mmcv build (default: all cores)
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=misc/stack.sh
source install/stack.sh
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
STAMP="$VENV/.rethink-mmdet-setup"
MMCV_RECORD="$VENV/.rethink-mmdet-mmcv-key"
# A copy of the installed build, so that the environment alone says what
# it runs (the tests read it, never the user's wheel store).
MMCV_KEPT="$VENV/.rethink-mmdet-mmcv"
WHEEL_STORE=${WHEEL_STORE:-${XDG_CACHE_HOME:-$HOME/.cache}/rethink-mmdet/wheels}
PLAN=install/setup_plan.py

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
fail() { echo "[setup] error: $*" >&2; exit 1; }

py() { "$VENV/bin/python" "$@"; }
pip_install() { "$VENV/bin/python" -m pip install --disable-pip-version-check "$@"; }
# Runs a planning command and takes its NAME=value lines as variables.
plan() {
    local out
    out=$(py "$PLAN" "$@") || exit 1
    eval "$out"
}

if [ -x "$VENV/bin/python" ] && py "$PLAN" stamp-ok "$STAMP" \
    && py -c 'import rethink_mmdet, mmdet, mmcv.ops' 2>/dev/null; then
    echo "[setup] $VENV is up to date (delete $STAMP to force a re-check)"
    exit 0
fi

if [ -n "${WHEELHOUSE:-}" ]; then
    [ -d "$WHEELHOUSE" ] || fail "WHEELHOUSE=$WHEELHOUSE is not a folder"
    WHEELHOUSE=$(cd "$WHEELHOUSE" && pwd)
    # Every pip call below: this folder only, never an index.
    export PIP_NO_INDEX=1 PIP_FIND_LINKS=$WHEELHOUSE
    echo "[setup] offline: installing from $WHEELHOUSE only"
fi

step "virtual environment in $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" install/make_venv.py "$VENV" "${SYSTEM_SITE_PACKAGES:-0}"
elif ! py -m pip --version >/dev/null 2>&1; then
    # An existing environment without pip (uv makes them so), used in place.
    echo "$VENV has no pip: adding it (ensurepip)"
    py -m ensurepip --upgrade
fi
py --version

step "torch"
plan torch
[ -n "$GPUS" ] && echo "GPUs: $GPUS"
case $TORCH_ACTION in
    keep) echo "keeping the installed torch $(py -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)')" ;;
    replace) py -m pip uninstall -y torch && pip_install $TORCH_SPEC ;;  # word splitting: pip arguments
    install) pip_install $TORCH_SPEC ;;
esac

step "build tools (${BUILD_TOOLS[*]})"
pip_install "${BUILD_TOOLS[@]}"

step "mmengine 0.10.x and OpenCV"
pip_install "${MMENGINE_DEPS[@]}"
# After numpy, which cv2 imports.
choose_opencv "$VENV/bin/python"
[ ${#opencv[@]} = 0 ] || pip_install "${opencv[@]}"
# Without its opencv-python (install/stack.sh), which pip may note missing.
pip_install --no-deps "${MMENGINE[@]}"

step "mmcv $MMCV_VERSION with compiled ops"
plan build
echo "build for: $BUILD_DEVICE${TOOLKIT:+; $TOOLKIT}${TORCH_CUDA_ARCH_LIST:+; archs $TORCH_CUDA_ARCH_LIST}"
echo "key: $MMCV_KEY"
if [ "$(cat "$MMCV_RECORD" 2>/dev/null)" = "$MMCV_KEY" ] \
    && ls "$MMCV_KEPT"/mmcv-*.whl >/dev/null 2>&1 \
    && py -c 'import mmcv.ops' 2>/dev/null; then
    echo "this build is already installed"
else
    shared=${SHARED_WHEEL_STORE:-/nonexistent}/$MMCV_KEY
    if [ ! -d "$WHEEL_STORE/$MMCV_KEY" ] && ls "$shared"/mmcv-*.whl >/dev/null 2>&1; then
        echo "copying this key's build from $shared"
        mkdir -p "$WHEEL_STORE"
        copy_dir=$(mktemp -d "$WHEEL_STORE/.copy-XXXXXX")
        cp "$shared"/mmcv-*.whl "$copy_dir/"
        chmod 755 "$copy_dir"
        mv -T "$copy_dir" "$WHEEL_STORE/$MMCV_KEY" 2>/dev/null || rm -rf "$copy_dir"
    fi
    wheel=$(ls "${WHEELHOUSE:-/nonexistent}/mmcv/$MMCV_KEY"/mmcv-*.whl \
        "$WHEEL_STORE/$MMCV_KEY"/mmcv-*.whl 2>/dev/null | head -n 1 || true)
    if [ -z "$wheel" ]; then
        mkdir -p "$WHEEL_STORE"
        build_dir=$(mktemp -d "$WHEEL_STORE/.build-XXXXXX")
        chmod 755 "$build_dir"
        # The sdist, kept beside the builds (offline: the wheelhouse's),
        # then patched: install/patches/ (docs/gpu.md).
        sdist=${WHEELHOUSE:+$WHEELHOUSE/mmcv-$MMCV_VERSION.tar.gz}
        sdist=${sdist:-$WHEEL_STORE/src/mmcv-$MMCV_VERSION.tar.gz}
        if [ ! -f "$sdist" ]; then
            [ -n "${WHEELHOUSE:-}" ] && fail "$sdist is missing (make wheelhouse puts it there)"
            pip_download_dir=$(mktemp -d "$WHEEL_STORE/.src-XXXXXX")
            py -m pip download --disable-pip-version-check -q --no-deps \
                --no-binary=:all: --no-build-isolation \
                -d "$pip_download_dir" "mmcv==$MMCV_VERSION"
            mkdir -p "$WHEEL_STORE/src"
            mv "$pip_download_dir/mmcv-$MMCV_VERSION.tar.gz" "$sdist"
            rm -rf "$pip_download_dir"
        fi
        out=$(py install/mmcv_source.py prepare "$sdist" "$build_dir/src") || exit 1
        eval "$out"
        echo "source: $sdist, patched (install/patches/) in $SOURCE"
        cache=()
        if [ "$BUILD_DEVICE" = cuda ]; then
            if [ -n "${NVCC_PIP:-}" ]; then
                echo "installing nvcc from PyPI: $NVCC_PIP"
                pip_install $NVCC_PIP  # word splitting: several requirements
                site=$(py -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
                out=$(py install/cuda_home.py "$site" "$VENV/cuda") || exit 1
                eval "$out"
            fi
            export CUDA_HOME FORCE_CUDA TORCH_CUDA_ARCH_LIST
            # pip's wheel cache is keyed by the source only: it would hand a
            # CPU build (or one for other archs) back.
            cache=(--no-cache-dir)
            echo "CUDA_HOME=$CUDA_HOME FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST=$TORCH_CUDA_ARCH_LIST"
        fi
        echo "no build stored for this key: pip wheel (about 20 minutes on 2 cores)"
        env PATH="${CUDA_HOME:+$CUDA_HOME/bin:}$(cd "$VENV/bin" && pwd):$PATH" \
            MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
            "$VENV/bin/python" -m pip wheel --disable-pip-version-check \
            --no-deps --no-build-isolation "${cache[@]}" -w "$build_dir" "$SOURCE"
        rm -rf "$build_dir/src"
        # A finished build appears under its key in one rename.
        mv -T "$build_dir" "$WHEEL_STORE/$MMCV_KEY" 2>/dev/null || rm -rf "$build_dir"
        wheel=$(ls "$WHEEL_STORE/$MMCV_KEY"/mmcv-*.whl | head -n 1)
    fi
    echo "installing $wheel"
    pip_install "${MMCV_DEPS[@]}"
    pip_install --force-reinstall --no-deps "$wheel"
    rm -rf "$MMCV_KEPT"
    mkdir -p "$MMCV_KEPT"
    cp "$wheel" "$MMCV_KEPT/"
    echo "$MMCV_KEY" > "$MMCV_RECORD"
fi

step "mmdet 3.3.0, pycocotools, faster-coco-eval, tensorboard, wandb and test tools (pytest, import-linter, ruff, uv)"
pip_install "${STACK[@]}"

step "rethink_mmdet (editable)"
pip_install --no-build-isolation --no-deps -e .

step "openmim 0.3.9 (mim list / mim search show this package's models)"
# (pip then notes the missing opendatalab: mim list/search never import it).
pip_install --no-deps "${MIM[@]}"
pip_install "${MIM_DEPS[@]}"
# mim looks for <site-packages>/<dist name>/.mim/model-index.yml; an editable
# install keeps the package in the repository, so point that name at it (a
# hyphenated name that Python never imports, so it shadows nothing).
site_dir=$(py -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
ln -sfn "$PWD/rethink_mmdet" "$site_dir/rethink-mmdet"

ops_device=cpu
[ -n "$GPUS" ] && ops_device=cuda
step "check: mmcv ops on $ops_device, imports, mim"
check_json="$VENV/.rethink-mmdet-ops.json"
py install/check_ops.py --device "$ops_device" --json "$check_json" || exit 1
py - <<'EOF'
import mmcv, mmdet, mmengine, torch
import rethink_mmdet
print(f'torch {torch.__version__}, mmengine {mmengine.__version__}, '
      f'mmcv {mmcv.__version__}, mmdet {mmdet.__version__}, '
      f'rethink_mmdet {rethink_mmdet.__version__}')
EOF
# python -m: where the parent environment already has openmim (an
# image's), pip installs no mim script into $VENV/bin.
py -m mim list 2>/dev/null | grep rethink-mmdet \
    || fail "'python -m mim list' does not show rethink-mmdet"

py "$PLAN" stamp-write "$STAMP" "$MMCV_KEY" "$check_json"
now=$(date +%s)
printf '[setup] done: %s (%ds)\n' "$step_name" "$((now - step_start))"
printf '[setup] environment ready in %ds\n' "$((now - setup_start))"
