#!/usr/bin/env bash
# Shared by dist_train.sh and dist_test.sh:
#   _dist_launch.sh TOOL CONFIG NPROC [TOOL arguments]
set -euo pipefail
TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(dirname "$TOOLS_DIR")
TOOL=$1
CONFIG=$2
NPROC=$3
shift 3

if [ -z "${PYTHON:-}" ]; then
    if [ -x "$REPO_DIR/.venv/bin/python" ]; then
        PYTHON="$REPO_DIR/.venv/bin/python"
    else
        PYTHON=python
    fi
fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
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
