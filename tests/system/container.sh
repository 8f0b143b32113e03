# shellcheck shell=bash
# Boot a throw-away copy of the cached root with systemd-nspawn and run commands inside it.
# Sourced by run.sh. Everything started here is tracked by pid and torn down by teardown_ct.

CT_ROOT=""
CT_NSPAWN_PID=""
CT_PID1=""

# Run a command inside the container (all namespaces of its PID 1), with a clean environment.
# Usage: in_ct SECONDS CMD...
in_ct() {
  local secs=$1
  shift
  timeout "$secs" nsenter -t "$CT_PID1" -a /usr/bin/env -i \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# Run a shell snippet inside the container.
sh_ct() {
  local secs=$1
  shift
  in_ct "$secs" /bin/sh -ec "$*"
}

boot_ct() {
  local pristine=$1
  CT_ROOT=$2
  cp -a --reflink=auto "$pristine" "$CT_ROOT"
  start_ct
}

# Power the container off and boot the same root again, as a host reboot does: what is
# enabled comes back, what lives in /run (runtime drop-ins) does not.
reboot_ct() {
  teardown_ct
  start_ct
}

# Boot $CT_ROOT and wait until its systemd reports running (or degraded).
start_ct() {
  CT_PID1=""
  systemd-nspawn --register=no --keep-unit --console=passive -D "$CT_ROOT" --boot \
    >>"$WORK/nspawn.log" 2>&1 &
  CT_NSPAWN_PID=$!
  # nspawn forks helpers before the container's init: wait for a child that is systemd.
  local i pid
  for i in $(seq 1 200); do
    for pid in $(ps --ppid "$CT_NSPAWN_PID" -o pid=); do
      [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == systemd ]] && CT_PID1=$pid
    done
    [[ -n "$CT_PID1" ]] && break
    kill -0 "$CT_NSPAWN_PID" 2>/dev/null || { cat "$WORK/nspawn.log" >&2; die "nspawn exited"; }
    sleep 0.1
  done
  [[ -n "$CT_PID1" ]] || die "container PID 1 (systemd) not found"
  # The manager's bus socket appears a moment after PID 1 starts: retry until it answers.
  local state="" end=$((SECONDS + 120))
  while ((SECONDS < end)); do
    state=$(in_ct 90 systemctl is-system-running --wait 2>/dev/null || true)
    [[ $state == running || $state == degraded ]] && break
    sleep 0.5
  done
  case "$state" in
    running | degraded) log "container booted (PID 1 = $CT_PID1, state $state)" ;;
    *) die "container did not boot: state '$state'" ;;
  esac
}

teardown_ct() {
  [[ -n "$CT_NSPAWN_PID" ]] || return 0
  if kill -0 "$CT_NSPAWN_PID" 2>/dev/null; then
    [[ -n "$CT_PID1" ]] && timeout 20 nsenter -t "$CT_PID1" -a systemctl poweroff >/dev/null 2>&1 || true
    local i
    for i in $(seq 1 150); do
      kill -0 "$CT_NSPAWN_PID" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$CT_NSPAWN_PID" 2>/dev/null && [[ -n "$CT_PID1" ]]; then
      log "poweroff did not finish: killing container PID 1 ($CT_PID1)"
      kill -KILL "$CT_PID1" 2>/dev/null || true
    fi
    for i in $(seq 1 50); do
      kill -0 "$CT_NSPAWN_PID" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$CT_NSPAWN_PID" 2>/dev/null; then
      log "container still up: killing systemd-nspawn ($CT_NSPAWN_PID)"
      kill -KILL "$CT_NSPAWN_PID" 2>/dev/null || true
    fi
  fi
  wait "$CT_NSPAWN_PID" 2>/dev/null || true
  CT_NSPAWN_PID=""
}

# Properties of a unit, e.g. unit_prop flotod-worker@x.service MainPID
unit_prop() { in_ct 20 systemctl show -P "$2" "$1"; }

# Wait until CMD (a shell snippet run inside the container) succeeds, or fail with MESSAGE.
wait_ct() {
  local secs=$1 what=$2 snippet=$3 end
  end=$((SECONDS + secs))
  until sh_ct 20 "$snippet" >/dev/null 2>&1; do
    ((SECONDS < end)) || die "timed out after ${secs}s waiting for: $what"
    sleep 1
  done
}
