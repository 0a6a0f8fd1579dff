#!/usr/bin/env bash
# Training on Slurm, MMDetection's interface:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#     tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
shift 4
exec "$(dirname "$0")/_slurm_launch.sh" "$PARTITION" "$JOB_NAME" \
    train.py "$CONFIG" --work-dir="$WORK_DIR" "$@"
