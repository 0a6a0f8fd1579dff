#!/usr/bin/env bash
# Shared by dist_train.sh and dist_test.sh:
#   _dist_launch.sh TOOL CONFIG NPROC [TOOL arguments]
# On a GPU node the processes use the GPUs or the job stops: never a silent
# fall-back to CPU processes. CPU_ONLY=1 runs CPU processes (gloo) on purpose.
set -euo pipefail
TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(dirname "$TOOLS_DIR")
TOOL=$1
CONFIG=$2
NPROC=$3
shift 3
fail() { echo "error: $*" >&2; exit 2; }

NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
if [ "$NNODES" -gt 1 ] && [ -z "${MASTER_ADDR:-}" ]; then
    # Without it every node but rank 0 would wait at the rendezvous forever.
    fail "NNODES=$NNODES needs MASTER_ADDR (the address of the node with NODE_RANK=0) on every node"
fi
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}

if [ -z "${PYTHON:-}" ]; then
    if [ -x "$REPO_DIR/.venv/bin/python" ]; then
        PYTHON="$REPO_DIR/.venv/bin/python"
    else
        PYTHON=python
    fi
fi

if [ "${CPU_ONLY:-0}" = 1 ]; then
    export CUDA_VISIBLE_DEVICES=""
elif command -v nvidia-smi >/dev/null 2>&1; then
    gpus=$("$PYTHON" -c 'import torch; print(torch.cuda.device_count())' 2>/dev/null || echo 0)
    if [ "$gpus" = 0 ]; then
        fail "nvidia-smi is here but torch ($PYTHON) sees no GPU: check the driver (nvidia-smi), CUDA_VISIBLE_DEVICES='${CUDA_VISIBLE_DEVICES-<unset>}', the job's GPU request (--gres=gpu:N) and that torch is a CUDA build; CPU_ONLY=1 runs CPU processes on purpose"
    elif [ "$NPROC" -gt "$gpus" ]; then
        fail "$NPROC processes asked for, torch sees $gpus GPU(s) on this node"
    fi
fi

if [ -z "${PORT:-}" ]; then
    if [ "$NNODES" -gt 1 ]; then
        # Every node must agree on the port: no guessing across nodes.
        PORT=29500
    else
        # A free port, so two jobs on one node do not collide.
        PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')
    fi
fi

PYTHONPATH="$REPO_DIR:${PYTHONPATH:-}" \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$TOOLS_DIR/$TOOL" "$CONFIG" "$@" --launcher pytorch
