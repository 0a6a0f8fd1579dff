#!/usr/bin/env bash
# GPU figures for docs/benchmarks.md: the training step of our R50-FPN GN
# Mask R-CNN scratch config against stock MMDetection's at batch 2 and 16,
# fp32, amp-bf16, amp-fp16 and channels-last, with a loss check: the set-up
# and benchmark stages of `make gpu-accept` (install/gpu_accept.py).
#
#   bash install/gpu_bench.sh download [FREEZE]
#       where PyPI is reachable: a wheelhouse for Python 3.12 in .whl/;
#       FREEZE is the GPU image's `pip list --format=freeze` (HAVE=FREEZE:
#       only what the image lacks), else torch alone is left out
#   bash install/gpu_bench.sh
#       on the GPU machine, offline: the set-up from .whl/ into $VENV
#       (default /tmp/gpu-venv), which sees the image's torch also when the
#       image's python3 runs in a virtual environment, then the benchmarks
#
# Output: $OUT (default work_dirs/gpu_bench)/gpu_accept.json and .log.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = download ]; then
    if [ -n "${2:-}" ]; then
        WHEELHOUSE=.whl PY_VERSION=${PY_VERSION:-3.12} HAVE=$2 \
            bash install/make_wheelhouse.sh
    else
        WHEELHOUSE=.whl PY_VERSION=${PY_VERSION:-3.12} LEAVE_OUT=torch \
            bash install/make_wheelhouse.sh
    fi
    exit 0
fi

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
WHEELHOUSE=.whl MAX_JOBS=${MAX_JOBS:-$(nproc)} exec python3 \
    install/gpu_accept.py --out "${OUT:-work_dirs/gpu_bench}" \
    --venv "${VENV:-/tmp/gpu-venv}" --stages bench-b2 bench-b16
