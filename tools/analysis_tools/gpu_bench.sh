#!/usr/bin/env bash
# GPU figures for docs/benchmarks.md: training-step time and peak memory of
# our R50-FPN GN Mask R-CNN scratch config against stock MMDetection's, at 2
# images per GPU, full size (Resize 1333x800), fp32 then AMP.
#
#   bash tools/analysis_tools/gpu_bench.sh download   # where PyPI is reachable:
#                                                     # a wheelhouse for Python 3.12 in .whl/
#   bash tools/analysis_tools/gpu_bench.sh            # on the GPU machine (offline)
#
# Both go through the project's set-up: `download` is make_wheelhouse.sh
# without torch (the GPU image has a CUDA torch; PY_VERSION overrides 3.12);
# the second form is tools/setup_env.sh from .whl/ into $VENV (default
# /tmp/gpu-venv) seeing the image's packages (the CUDA build of mmcv for the
# visible GPUs, proven on the GPU), then benchmark_train.py.
# Output also goes to $OUT/gpu_bench.log when OUT is set.
set -euo pipefail
cd "$(dirname "$0")/../.."
CONFIG=configs/schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py

if [ "${1:-}" = download ]; then
    WHEELHOUSE=.whl PY_VERSION=${PY_VERSION:-3.12} LEAVE_OUT=torch \
        bash tools/misc/make_wheelhouse.sh
    exit 0
fi

[ -n "${OUT:-}" ] && exec > >(tee "$OUT/gpu_bench.log") 2>&1
start=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
export VENV=${VENV:-/tmp/gpu-venv}
WHEELHOUSE=.whl SYSTEM_SITE_PACKAGES=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
    bash tools/setup_env.sh
echo "[gpu_bench] set up ($(($(date +%s) - start))s)"
for amp in "" --amp; do
    PYTHONUNBUFFERED=1 "$VENV/bin/python" tools/analysis_tools/benchmark_train.py \
        "$CONFIG" --vs --batch-size 2 $amp
    echo "[gpu_bench] ${amp:-fp32} done ($(($(date +%s) - start))s)"
done
