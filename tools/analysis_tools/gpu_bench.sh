#!/usr/bin/env bash
# GPU figures for docs/benchmarks.md: training-step time and peak memory of
# our R50-FPN GN Mask R-CNN scratch config against stock MMDetection's, at 2
# images per GPU, full size (Resize 1333x800), fp32 then AMP.
#
#   bash tools/analysis_tools/gpu_bench.sh download   # where PyPI is reachable:
#                                                     # wheels + mmcv source -> .whl/
#   bash tools/analysis_tools/gpu_bench.sh            # on the GPU machine (offline:
#                                                     # python3 3.12 with CUDA torch, nvcc)
#
# The second form installs .whl/ into /tmp/site, builds mmcv 2.1.0's CUDA ops
# for Hopper (TORCH_CUDA_ARCH_LIST, default 9.0) and runs benchmark_train.py.
# Output also goes to $OUT/gpu_bench.log when OUT is set.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
WHL=.whl
SITE=/tmp/site
CONFIG=configs/schedule-study/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py
# The versions of tools/setup_env.sh's stack; the rest is in the GPU image.
# setuptools < 81 keeps pkg_resources, which mmcv's setup.py imports.
PACKAGES=(mmengine==0.10.7 mmdet==3.3.0 pycocotools==2.0.11
          faster-coco-eval==1.8.0 terminaltables==3.1.10 shapely==2.2.0
          addict==2.4.0 termcolor==3.3.0 yapf==0.43.0 platformdirs==4.14.8
          setuptools==80.10.2)

if [ "${1:-}" = download ]; then
    mkdir -p "$WHL"
    "$PYTHON" -m pip download --no-deps --only-binary=:all: \
        --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform manylinux1_x86_64 -d "$WHL" "${PACKAGES[@]}"
    "$PYTHON" -m pip download --no-deps --no-binary=:all: --no-build-isolation \
        -d "$WHL" mmcv==2.1.0
    ls -l "$WHL"
    exit 0
fi

[ -n "${OUT:-}" ] && exec > >(tee "$OUT/gpu_bench.log") 2>&1
start=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target "$SITE" "$WHL"/*.whl
export PYTHONPATH=$SITE
echo "[gpu_bench] building mmcv 2.1.0 ops ($(($(date +%s) - start))s)"
MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0} \
    MAX_JOBS=${MAX_JOBS:-16} "$PYTHON" -m pip install -q --no-index --no-deps \
    --no-build-isolation --no-cache-dir --target "$SITE" "$WHL"/mmcv-2.1.0.tar.gz
export PYTHONPATH=$SITE:$PWD PYTHONUNBUFFERED=1
"$PYTHON" -c 'import torch, mmcv, mmdet; from mmcv.ops import RoIAlign
print("torch", torch.__version__, "mmcv", mmcv.__version__, "(CUDA ops)",
      "mmdet", mmdet.__version__, torch.cuda.get_device_name())'
echo "[gpu_bench] mmcv built ($(($(date +%s) - start))s)"
for amp in "" --amp; do
    "$PYTHON" tools/analysis_tools/benchmark_train.py "$CONFIG" --vs \
        --batch-size 2 $amp
    echo "[gpu_bench] ${amp:-fp32} done ($(($(date +%s) - start))s)"
done
