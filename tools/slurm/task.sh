#!/usr/bin/env bash
# One Slurm task: the rendezvous port comes from the job id (known only
# inside the job), so two jobs sharing a node do not collide; MASTER_PORT,
# when set, wins. mmengine's slurm launcher reads MASTER_PORT.
#   task.sh PYTHON [arguments]
set -euo pipefail
export MASTER_PORT=${MASTER_PORT:-$((20000 + ${SLURM_JOB_ID:?not inside a Slurm job} % 20000))}
exec "$@"
