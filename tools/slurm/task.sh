#!/usr/bin/env bash
# One Slurm task, started by srun on each node of the job:
#   [CPU_ONLY=1] task.sh PYTHON [arguments]
# The rendezvous port comes from the job id (known only inside the job), so
# two jobs sharing a node do not collide; MASTER_PORT, when set, wins.
# --launcher slurm reads it (mmengine's, or rethink_mmdet.compat's on gloo).
# On a GPU node the task uses a GPU or stops: never a silent fall-back to a
# CPU process; CPU_ONLY=1 runs a CPU process (gloo) on purpose.
set -euo pipefail
export MASTER_PORT=${MASTER_PORT:-$((20000 + ${SLURM_JOB_ID:?not inside a Slurm job} % 20000))}
PYTHON=$1
LOCAL_ID=${SLURM_LOCALID:-0}
fail() {  # one line per node: from its first task that fails
    [ "$1" = "$LOCAL_ID" ] && echo "error: $(hostname -s): $2" >&2
    exit 2
}

if [ "${CPU_ONLY:-0}" = 1 ]; then
    export CUDA_VISIBLE_DEVICES=""
elif command -v nvidia-smi >/dev/null 2>&1; then
    gpus=$("$PYTHON" -c 'import torch; print(torch.cuda.device_count())' 2>/dev/null || echo 0)
    if [ "$gpus" = 0 ]; then
        fail 0 "nvidia-smi is here but torch ($PYTHON) sees no GPU: check the driver (nvidia-smi), CUDA_VISIBLE_DEVICES='${CUDA_VISIBLE_DEVICES-<unset>}', the job's GPU request (--gres=gpu:N) and that torch is a CUDA build; CPU_ONLY=1 runs CPU processes on purpose"
    elif [ "$LOCAL_ID" -ge "$gpus" ]; then
        fail "$gpus" "more tasks on this node than the $gpus GPU(s) torch sees: ask for one task per GPU (--ntasks-per-node equal to the GPUs in --gres=gpu:N)"
    fi
fi

# A SIGUSR1 before the training has installed its handler (PreemptionHook)
# would kill it, nothing saved (train.sbatch forwards it from --signal, and
# Slurm checks the time limit only every 30 s, so it can come early).
# Ignored here, it is dropped; the time limit's SIGTERM stops the training
# later, and the training's handler replaces this once it is in place.
trap '' USR1
exec "$@"
