#!/usr/bin/env bash
# Shared by slurm_train.sh and slurm_test.sh:
#   _slurm_launch.sh PARTITION JOB_NAME TOOL [TOOL arguments]
# One task per GPU: GPUS tasks in all, GPUS_PER_NODE per node, each node
# asking for GPUS_PER_NODE GPUs (--gres=gpu:N). CPU_ONLY=1: CPU processes on
# gloo instead, the same counts, no GPU asked for (tools/slurm/task.sh).
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
fail() { echo "error: $*" >&2; exit 2; }
for name in GPUS GPUS_PER_NODE CPUS_PER_TASK; do
    case ${!name} in
        '' | *[!0-9]* | 0*) fail "$name=${!name} is not a positive whole number" ;;
    esac
done
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$REPO_DIR/.venv/bin/python" ]; then
        PYTHON="$REPO_DIR/.venv/bin/python"
    else
        PYTHON=python
    fi
fi
if [ "${CPU_ONLY:-0}" = 1 ]; then
    # srun hands CPU_ONLY on to task.sh, which hides the GPUs.
    GRES=()
else
    GRES=(--gres=gpu:"$GPUS_PER_NODE")
fi

# shellcheck disable=SC2086  # SRUN_ARGS is a list of options
PYTHONPATH="$REPO_DIR:${PYTHONPATH:-}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    ${GRES[@]+"${GRES[@]}"} \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$TOOLS_DIR/slurm/task.sh" "$PYTHON" -u "$TOOLS_DIR/$TOOL" "$@" --launcher="slurm"
