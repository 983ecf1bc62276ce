#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for expt's Slurm tests and CI:
#   scripts/slurm-localhost.sh start    install (Debian packages) and start munge, slurmctld, slurmd;
#                                       idempotent; exits 0 once sinfo shows the node idle
#   scripts/slurm-localhost.sh stop     stop the daemons this script started (by their PID files)
#   scripts/slurm-localhost.sh status   print sinfo / squeue, exit 0 when the node is up
# Needs root (apt-get, daemons). There is no systemd here: the daemons are started directly.
# Everything it writes lives under $EXPT_SLURM_DIR (default /var/lib/expt-slurm) and
# /etc/slurm/slurm.conf (written only when absent or when it is this script's own).
set -euo pipefail

state="${EXPT_SLURM_DIR:-/var/lib/expt-slurm}"
conf=/etc/slurm/slurm.conf
marker="# written by expt scripts/slurm-localhost.sh"
host="$(hostname -s)"

say() { printf 'slurm-localhost: %s\n' "$*"; }
die() { printf 'slurm-localhost: %s\n' "$*" >&2; exit 2; }

node_state() { sinfo -h -n "$host" -o '%T' 2>/dev/null | head -n 1; }

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then return; fi
  [ "$(id -u)" = 0 ] || die "installing Slurm needs root (apt-get install slurmctld slurmd slurm-client munge)"
  command -v apt-get >/dev/null || die "no apt-get: install slurmctld, slurmd, slurm-client and munge by hand"
  say "installing slurmctld slurmd slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
}

write_conf() {
  if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
    say "keeping the existing $conf (not written by this script)"
    return
  fi
  local cpus mem
  cpus="$(nproc)"
  # slurmd refuses a node whose configured memory exceeds what it sees: stay below it.
  mem="$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)"
  mkdir -p /etc/slurm "$state/ctld" "$state/d" "$state/log"
  cat > "$conf.tmp" <<CONF
$marker
ClusterName=expt-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
# No cgroups or accounting daemon in a container: plain process tracking, no slurmdbd.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
# Jobs share the node core by core.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# A job that asks for no memory gets 1 GiB a core, so several fit on the node.
DefMemPerCPU=1024
ReturnToService=2
# Keep finished jobs visible to scontrol for an hour (no accounting database here).
MinJobAge=3600
MaxArraySize=1001
SchedulerType=sched/backfill
SchedulerParameters=defer_batch
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  mv "$conf.tmp" "$conf"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  install
  write_conf
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  [ -s /etc/munge/munge.key ] || { mungekey --create >/dev/null 2>&1 || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
  if ! munge -n >/dev/null 2>&1; then
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged
  fi
  alive "$state/slurmctld.pid" || { say "starting slurmctld"; slurmctld; }
  alive "$state/slurmd.pid" || { say "starting slurmd"; slurmd; }
  for _ in $(seq 1 60); do
    case "$(node_state)" in
      idle*|mixed*|allocated*) say "node $host is $(node_state)"; return 0 ;;
      down*|drain*) scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 1
  done
  die "the node did not come up within 60 s; see $state/log/slurmctld.log and slurmd.log"
}

stop() {
  for d in slurmd slurmctld; do
    if alive "$state/$d.pid"; then
      say "stopping $d"
      kill "$(cat "$state/$d.pid")"
      for _ in $(seq 1 20); do alive "$state/$d.pid" || break; sleep 0.5; done
    fi
  done
}

status() {
  command -v sinfo >/dev/null || die "Slurm is not installed (scripts/slurm-localhost.sh start installs it)"
  sinfo && squeue
  case "$(node_state)" in idle*|mixed*|allocated*) return 0 ;; *) return 1 ;; esac
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
