#!/usr/bin/env bash
# A throwaway single-node SLURM cluster on this machine, for the end-to-end test.
#   cluster.sh up    install (if missing), configure and start munged, slurmctld, slurmd
#   cluster.sh down  stop what `up` started, remove pid files
# Both are idempotent. Exit 77 (the conventional "skip" code) where this machine
# cannot host the cluster, so the test can skip with the reason instead of failing.
# Facts behind the settings: shared/notes/environment.md, "A real SLURM cluster on one machine".
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by tests/slurm/cluster.sh"   # never overwrite a site's real slurm.conf
STATE=/run/slurm-test-cluster               # which daemons *we* started (down stops only those)
LOG=/var/log/slurm

skip() { echo "cluster.sh: $*" >&2; exit 77; }
die()  { echo "cluster.sh: $*" >&2; exit 1; }

pidfile() { case $1 in munged) echo /run/munge/munged.pid ;; *) echo "/run/$1.pid" ;; esac; }

running() {  # a pid file alone can be stale: check the process and its name
    local f pid; f=$(pidfile "$1")
    [[ -s $f ]] && pid=$(<"$f") && kill -0 "$pid" 2>/dev/null \
        && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]]
}

write_conf() {
    local cpus mem
    cpus=$(nproc)
    # slurmd marks the node invalid if RealMemory exceeds what it measures; leave a margin.
    mem=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 - 512 ))
    cat <<EOF
$MARK
ClusterName=localtest
SlurmctldHost=localhost
# root: no chown of state/log dirs needed; this cluster lives for one test run only
SlurmUser=root
SlurmctldPidFile=$(pidfile slurmctld)
SlurmdPidFile=$(pidfile slurmd)
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
# no systemd/cgroup v1 here: plain /proc process tracking, no task binding
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/backfill
# cons_tres + CR_Core_Memory: several jobs share the node; without DefMemPerCPU a job
# with no memory request would take the whole node and the others would queue
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
# keep finished jobs visible to squeue (the executor's status command without slurmdbd)
MinJobAge=300
AccountingStorageType=accounting_storage/none
# without slurmdbd sacct is useless; this log lets a test prove which jobs ran under SLURM
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG/jobcomp.log
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {  # start daemon $1 with command "${@:2}" unless it already runs
    local name=$1; shift
    running "$name" && return 0
    rm -f "$(pidfile "$name")"
    "$@" || die "could not start $name (see $LOG/)"
    touch "$STATE/$name"
}

stop() {
    local name=$1 f pid; f=$(pidfile "$name")
    if [[ -e $STATE/$name ]] && running "$name"; then
        pid=$(<"$f"); kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    # a stale /run/slurmctld.pid makes a later `apt-get purge slurmctld` fail
    running "$name" || rm -f "$f"
    rm -f "$STATE/$name"
}

node_state() { sinfo -h -N -n localhost -o %T 2>/dev/null | head -1; }

up() {
    [[ $EUID -eq 0 ]] || skip "needs root to install and run the SLURM daemons"
    if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
        || ! command -v sinfo >/dev/null || ! command -v munged >/dev/null; then
        command -v apt-get >/dev/null || skip "SLURM is not installed and apt-get is missing"
        export DEBIAN_FRONTEND=noninteractive
        local pkgs=(munge slurmctld slurmd slurm-client)
        # a fresh CI image may have no package lists yet: update only when needed
        apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null \
            || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null; } \
            || skip "apt-get could not install ${pkgs[*]}"
    fi
    if [[ -e $CONF ]] && ! grep -qxF "$MARK" "$CONF"; then
        skip "$CONF exists and was not written by this script; refusing to touch a real cluster"
    fi
    mkdir -p "$STATE" "$LOG" /etc/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd

    # munge: Debian's postinst normally makes the key; a minimal image may not have run it
    [[ -s /etc/munge/munge.key ]] || { mungekey -c -f -k /etc/munge/munge.key \
        && chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key; }
    install -d -o munge -g munge -m 755 /run/munge
    start munged runuser -u munge -- /usr/sbin/munged

    # a changed config (other nproc/memory) needs a restart, not a reconfigure
    local new; new=$(write_conf)
    if [[ ! -e $CONF ]] || [[ $new != "$(<"$CONF")" ]]; then
        stop slurmd; stop slurmctld
        printf '%s\n' "$new" > "$CONF"
    fi
    # -c: forget jobs of an earlier test run instead of recovering them
    start slurmctld slurmctld -c
    start slurmd slurmd -N localhost

    local s resumed=
    for _ in $(seq 60); do
        s=$(node_state)
        case $s in
            idle|mixed|allocated|completing) echo "cluster.sh: node localhost is $s"; return 0 ;;
            down*|drain*|fail*)
                # e.g. restarted slurmd after an unclean stop: ReturnToService may not cover it
                [[ -z $resumed ]] && scontrol update nodename=localhost state=resume 2>/dev/null; resumed=1 ;;
        esac
        sleep 0.5
    done
    sinfo -R >&2 || true
    tail -n 20 "$LOG/slurmctld.log" "$LOG/slurmd.log" >&2 || true
    die "node localhost not idle after 30 s (state: '${s:-none}'); logs above"
}

down() {
    [[ $EUID -eq 0 ]] || skip "needs root to stop the SLURM daemons"
    # jobs left by an aborted test run would outlive slurmd as orphaned slurmstepd's
    if [[ -e $STATE/slurmctld ]] && running slurmctld && [[ -n $(squeue -h -o %i 2>/dev/null) ]]; then
        scancel --partition=debug || true
        for _ in $(seq 20); do [[ -z $(squeue -h -o %i 2>/dev/null) ]] && break; sleep 0.5; done
    fi
    stop slurmd; stop slurmctld; stop munged
    echo "cluster.sh: stopped"
}

case ${1:-} in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
