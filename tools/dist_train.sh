#!/usr/bin/env bash
# Distributed training with torchrun, MMDetection's interface:
#   tools/dist_train.sh CONFIG GPUS [train.py options]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without GPUs, GPUS CPU processes train with the gloo backend.
# PYTHON (default: the repository's .venv, else python) runs torchrun.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS [train.py options]" >&2
    exit 2
fi
exec "$(dirname "$0")/_dist_launch.sh" train.py "$@"
