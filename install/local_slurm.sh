#!/usr/bin/env bash
# A real one-node Slurm on this machine (Debian's slurm-wlm 22.05), for the
# Slurm scripts' tests and for campaigns on a machine without a cluster:
#   install/local_slurm.sh start DIR    install slurm-wlm if it is missing
#       (root, apt-get), write DIR/slurm.conf from local_slurm.conf.in, start
#       slurmctld and slurmd, wait until the node is idle, and print the line
#       clients need on stdout: eval "$(install/local_slurm.sh start DIR)"
#   install/local_slurm.sh stop DIR     cancel its jobs, stop both daemons
#   install/local_slurm.sh status DIR   its node as sinfo sees it
# Everything (configuration, state, spool, logs, pid files) stays in DIR;
# the ports are picked free at start, so instances in two folders coexist.
# Exit status: 0 done; 1 failed (the daemon logs' tails, then one error
# line); 2 bad usage; 77 Slurm is missing and cannot be installed here (one line
# saying why, for tests to skip with).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# slurmctld and slurmd live in /usr/sbin, which a user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
USAGE="usage: $0 start|stop|status DIR"
fail() { echo "error: $*" >&2; exit 1; }

[ $# -eq 2 ] || { echo "$USAGE" >&2; exit 2; }
ACTION=$1
case $ACTION in start|stop|status) ;; *) echo "$USAGE" >&2; exit 2 ;; esac
[ "$ACTION" = start ] && mkdir -p "$2"
if ! DIR=$(cd "$2" 2>/dev/null && pwd); then
    [ "$ACTION" = stop ] && exit 0
    echo "not running in $2" >&2
    exit 1
fi
CONF=$DIR/slurm.conf

alive() {  # alive NAME: the daemon whose pid DIR/NAME.pid holds runs
    # (by name: a leftover pid file may hold a pid now another process's)
    local pid
    pid=$(cat "$DIR/$1.pid" 2>/dev/null) || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]
}

running() { alive slurmctld && alive slurmd; }

logs_tail() {
    local log
    for log in "$DIR"/log/slurmctld.log "$DIR"/log/slurmd.log; do
        [ -f "$log" ] && { echo "--- $log (end)"; tail -n 15 "$log"; }
    done >&2
}

install_slurm() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sbatch >/dev/null && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "Slurm (slurmctld) is not installed and installing it needs root: apt-get install slurm-wlm" >&2
        exit 77
    fi
    if ! command -v apt-get >/dev/null; then
        echo "Slurm (slurmctld) is not installed and this machine has no apt-get to install slurm-wlm" >&2
        exit 77
    fi
    echo "installing slurm-wlm (apt-get; log: $DIR/log/install.log)" >&2
    # Package lists may be missing or stale: update once, then retry.
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
          --no-install-recommends slurm-wlm \
      || { apt-get update -q \
           && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                  --no-install-recommends slurm-wlm; }
    } >>"$DIR/log/install.log" 2>&1 \
        || fail "apt-get install slurm-wlm failed: see $DIR/log/install.log"
}

free_ports() {  # two distinct ports nothing listens on now
    python3 -c 'import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))'
}

first_job_id() {
    # Drawn, so two instances rarely share ids; the rendezvous port of job
    # ID is 20000 + ID % 20000 (tools/slurm/task.sh), kept here in
    # 21000-31000 for the first 1000 jobs: below Linux's ephemeral ports
    # (32768 up), where the daemons' own free ports are picked.
    echo $((20000 * (1 + RANDOM % 40) + 1000 + RANDOM % 9000))
}

write_conf() {
    local node host ports user
    # NodeName=<short hostname> CPUs=... topology ... RealMemory=...: what
    # slurmd will register, so the node is not drained as smaller than
    # configured.
    node=$(slurmd -C | head -n 1)
    case $node in NodeName=*) ;; *) fail "slurmd -C printed no node line: $node" ;; esac
    host=${node%% *}
    host=${host#NodeName=}
    ports=$(free_ports) || fail "python3 is needed to pick free ports"
    user=$(id -un)
    sed -e "s|@DIR@|$DIR|g" -e "s|@HOST@|$host|g" -e "s|@USER@|$user|g" \
        -e "s|@NODE@|$node|" -e "s|@CTLD_PORT@|${ports% *}|" \
        -e "s|@SLURMD_PORT@|${ports#* }|" \
        -e "s|@FIRST_JOB_ID@|$(first_job_id)|" \
        "$HERE/local_slurm.conf.in" >"$CONF"
}

node_state() {
    SLURM_CONF=$CONF timeout 5 sinfo -h -N -o %T 2>/dev/null | head -n 1
}

stop_daemons() {
    local name pid waited
    if alive slurmctld; then
        # Jobs' processes (slurmstepd, the training) outlive slurmd: end
        # them first, at once (no KillWait), so nothing keeps the CPUs busy.
        SLURM_CONF=$CONF timeout 10 scancel --full --signal=KILL \
            --user="$(id -un)" 2>/dev/null || true
        for waited in $(seq 20); do
            [ -z "$(SLURM_CONF=$CONF timeout 5 squeue -h -t R,CG -o %i \
                    2>/dev/null)" ] && break
            sleep 0.5
        done
    fi
    for name in slurmd slurmctld; do
        alive "$name" || continue
        pid=$(cat "$DIR/$name.pid")
        kill -TERM "$pid"
        for waited in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            [ "$waited" = 100 ] && kill -KILL "$pid"
            sleep 0.1
        done
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
        rm -f "$DIR/$name.pid"
    done
}

start() {
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
    install_slurm
    if running; then
        echo "already running in $DIR" >&2
        echo "export SLURM_CONF=$CONF"
        return 0
    fi
    stop_daemons  # a half-started leftover
    write_conf
    slurmctld -f "$CONF" \
        || { logs_tail; fail "slurmctld did not start (log: $DIR/log/slurmctld.log)"; }
    slurmd -f "$CONF" \
        || { logs_tail; stop_daemons; fail "slurmd did not start (log: $DIR/log/slurmd.log)"; }
    local state='' waited
    for waited in $(seq 60); do
        state=$(node_state)
        [ "$state" = idle ] && break
        sleep 0.5
    done
    if [ "$state" != idle ]; then
        logs_tail
        stop_daemons
        fail "the node is '${state:-not listed}' after 30 s, not idle (logs: $DIR/log/)"
    fi
    echo "export SLURM_CONF=$CONF"
}

case $ACTION in
    start) start ;;
    stop) stop_daemons ;;
    status)
        running || { echo "not running in $DIR" >&2; exit 1; }
        SLURM_CONF=$CONF sinfo -N -l ;;
esac
