#!/usr/bin/env bash
# Evaluation on Slurm, MMDetection's interface:
#   [GPUS=8] ... tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
shift 2
exec "$(dirname "$0")/_slurm_launch.sh" "$PARTITION" "$JOB_NAME" test.py "$@"
