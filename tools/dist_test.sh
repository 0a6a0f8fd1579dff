#!/usr/bin/env bash
# Distributed evaluation with torchrun, MMDetection's interface:
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [test.py options]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
exec "$(dirname "$0")/_dist_launch.sh" test.py "$CONFIG" "$GPUS" "$CHECKPOINT" "$@"
