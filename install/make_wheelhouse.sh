#!/usr/bin/env bash
# Writes a folder with every wheel install/setup_env.sh installs, for a named
# target, so that `WHEELHOUSE=DIR make setup` works on a node without
# network (make wheelhouse). Run it where PyPI is reachable:
#
#   WHEELHOUSE=DIR [PY_VERSION=3.12] [TORCH_SPEC=...] [NVCC=13.0] \
#       [LEAVE_OUT=torch] [HAVE=FILE] [MMCV_KEYS=...] \
#       bash install/make_wheelhouse.sh
#
#   PY_VERSION  the target's Python (default: this one), Linux x86_64
#   TORCH_SPEC  torch for the target (default: setup_plan.py's pin, on PyPI
#               the CUDA 13.0 build)
#   NVCC        also carry PyPI's nvcc and CUDA headers for this CUDA
#               (major.minor of the target torch) when the node has no
#               matching toolkit
#   LEAVE_OUT=torch   the target image already holds torch: leave it out
#   HAVE=FILE   the target's `pip list --format=freeze`: only what it lacks
#               (install/lacking_wheels.py); torch is left out where
#               the set-up would keep FILE's
#   MMCV_KEYS   mmcv builds to carry from the wheel store (default: every
#               build for the target Python); the mmcv source always goes in
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=stack.sh
source install/stack.sh
: "${WHEELHOUSE:?set WHEELHOUSE=DIR}"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] && [ "$PYTHON" = python3 ] && PYTHON=.venv/bin/python
PY_VERSION=${PY_VERSION:-$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')}
tag=cp${PY_VERSION/./}
user_torch_spec=${TORCH_SPEC:-}
TORCH_SPEC=${TORCH_SPEC:-$("$PYTHON" -c 'import sys; sys.path.insert(0, "install"); import setup_plan; print(setup_plan.DEFAULT_TORCH_SPEC)')}
WHEEL_STORE=${WHEEL_STORE:-${XDG_CACHE_HOME:-$HOME/.cache}/rethink-mmdet/wheels}
mkdir -p "$WHEELHOUSE"
leave_out_torch=0
[[ " ${LEAVE_OUT:-} " == *" torch "* ]] && leave_out_torch=1
if [ -n "${HAVE:-}" ]; then
    [ -f "$HAVE" ] || { echo "[wheelhouse] error: HAVE=$HAVE is not a file" >&2; exit 1; }
    # The set-up keeps an installed torch unless TORCH_SPEC pins another.
    have_torch=$(sed -n 's/^torch==//p' "$HAVE")
    if [ -n "$have_torch" ] && [ "$("$PYTHON" -c 'import sys; sys.path.insert(0, "install"); import setup_plan; print(setup_plan.torch_action({"version": sys.argv[1], "cuda": None}, [], sys.argv[2] or None)[0])' "$have_torch" "$user_torch_spec")" = keep ]; then
        leave_out_torch=1
    fi
fi

target=(--only-binary=:all: --python-version "$PY_VERSION" --implementation cp
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
        --platform manylinux1_x86_64 --platform linux_x86_64)
download() {
    "$PYTHON" -m pip download --disable-pip-version-check -q -d "$WHEELHOUSE" "$@"
}

echo "[wheelhouse] Python $PY_VERSION, Linux x86_64 -> $WHEELHOUSE"
if [ -n "${HAVE:-}" ]; then
    "$PYTHON" install/lacking_wheels.py --have "$HAVE" --dest "$WHEELHOUSE" \
        --python-version "$PY_VERSION" --opencv "${OPENCV[@]}" \
        --opencv-dists "${OPENCV_DISTS[@]}" \
        --no-deps "${MMENGINE[@]}" "${MIM[@]}" \
        --deps "${BUILD_TOOLS[@]}" "${MMENGINE_DEPS[@]}" "${MMCV_DEPS[@]}" \
        "${STACK[@]}" "${MIM_DEPS[@]}" -- "${target[@]}"
else
    # OpenCV: the set-up installs it only where cv2 does not import.
    download "${target[@]}" "${BUILD_TOOLS[@]}" "${MMENGINE_DEPS[@]}" \
        "${MMCV_DEPS[@]}" "${OPENCV[@]}" "${STACK[@]}" "${MIM_DEPS[@]}"
    # mmengine and openmim without their declared dependencies, as the
    # set-up installs them (install/stack.sh).
    download "${target[@]}" --no-deps "${MMENGINE[@]}" "${MIM[@]}"
fi
if [ "$leave_out_torch" = 0 ]; then
    echo "[wheelhouse] $TORCH_SPEC"
    download "${target[@]}" $TORCH_SPEC  # word splitting: pip arguments
fi
if [ -n "${NVCC:-}" ]; then
    nvcc=$("$PYTHON" -c 'import sys; sys.path.insert(0, "install"); import setup_plan; print(setup_plan.pypi_nvcc(sys.argv[1]))' "$NVCC")
    echo "[wheelhouse] $nvcc"
    if [ -n "${HAVE:-}" ]; then
        "$PYTHON" install/lacking_wheels.py --have "$HAVE" \
            --dest "$WHEELHOUSE" --python-version "$PY_VERSION" \
            --deps $nvcc -- "${target[@]}"  # word splitting: requirements
    else
        download "${target[@]}" $nvcc  # word splitting: several requirements
    fi
fi
# The source, for a build on the target (setup.py runs for its metadata,
# with this environment's setuptools < 81).
download --no-deps --no-binary=:all: --no-build-isolation "mmcv==$MMCV_VERSION"
for dir in "$WHEEL_STORE"/*; do
    key=$(basename "$dir")
    if [ -n "${MMCV_KEYS:-}" ]; then
        [[ " $MMCV_KEYS " == *" $key "* ]] || continue
    else
        [[ $key == *"-$tag-"* ]] || continue
    fi
    mkdir -p "$WHEELHOUSE/mmcv/$key"
    cp "$dir"/mmcv-*.whl "$WHEELHOUSE/mmcv/$key/"
    echo "[wheelhouse] mmcv build $key"
done
{
    echo "rethink-mmdet wheelhouse, made $(date -u +%FT%TZ) on $(hostname)"
    torch=$TORCH_SPEC
    [ "$leave_out_torch" = 1 ] && torch="left out (the target has it)"
    echo "target: Python $PY_VERSION, Linux x86_64; torch: $torch; nvcc: ${NVCC:-none}"
    if [ -n "${HAVE:-}" ]; then
        echo "only what the target lacks: HAVE=$HAVE"
    fi
    echo "use: WHEELHOUSE=$WHEELHOUSE make setup"
} > "$WHEELHOUSE/WHEELHOUSE.txt"
echo "[wheelhouse] $(ls "$WHEELHOUSE" | wc -l) files, $(du -sh "$WHEELHOUSE" | cut -f1)"
