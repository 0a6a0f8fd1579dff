#!/usr/bin/env bash
# Shared by slurm_train.sh and slurm_test.sh:
#   _slurm_launch.sh PARTITION JOB_NAME TOOL [TOOL arguments]
set -euo pipefail
TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(dirname "$TOOLS_DIR")
PARTITION=$1
JOB_NAME=$2
TOOL=$3
shift 3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$REPO_DIR/.venv/bin/python" ]; then
        PYTHON="$REPO_DIR/.venv/bin/python"
    else
        PYTHON=python
    fi
fi

# shellcheck disable=SC2086  # SRUN_ARGS is a list of options
PYTHONPATH="$REPO_DIR:${PYTHONPATH:-}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$TOOLS_DIR/slurm/task.sh" "$PYTHON" -u "$TOOLS_DIR/$TOOL" "$@" --launcher="slurm"
