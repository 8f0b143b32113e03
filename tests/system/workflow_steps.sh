# shellcheck shell=bash
# Workflows run by the installed services under systemd: through a decider and a worker, through
# the daemon, what systemctl status and journalctl show of them, a reload, and a stop that
# drains a running activity. Sourced by run.sh; called from run_service_steps.

DAEMON_ID=flotod_daemon
DAEMON_SIGNAL=startChildWorkflowExecution

# Signal the daemon to run spec NAME (hello | nap) as child WORKFLOW_ID.
signal_daemon() {
  local name=$1 workflow_id=$2
  "$VENV_PY" "$CHECK" signal-input "$name" "$workflow_id" "$SWF_DOMAIN" \
    >"$CT_ROOT/root/signal-$name.json" ||
    die "cannot build the $name signal input"
  flotod_ct 60 workflow signal "$DAEMON_ID" "$DAEMON_SIGNAL" --input "@/root/signal-$name.json" \
    >"$WORK/signal-$name.log" 2>&1 || die "flotod workflow signal: $(cat "$WORK/signal-$name.log")"
}

run_workflow_steps() {
  step "workflow: hello through the decider and the worker (start --wait)"
  local out
  out=$(flotod_ct 150 workflow start hello --id systest-hello --wait --timeout 120 --json \
    2>"$WORK/start-hello.err") || die "flotod workflow start hello: $(cat "$WORK/start-hello.err") $out"
  expect "outcome hello" "$out"

  step "workflow: hello through the daemon (signal, then the child closes)"
  wait_ct 60 "the daemon workflow to be open" \
    "flotod workflow list \
     --id $DAEMON_ID --json | grep -q '\"workflowId\": \"$DAEMON_ID\"'"
  signal_daemon hello systest-daemon-hello
  until_check 120 "the daemon's hello child to complete" "outcome hello" \
    workflow show systest-daemon-hello --json
  out=$(flotod_ct 60 workflow list --closed --id systest-daemon-hello --json) ||
    die "flotod workflow list --closed failed: $out"
  grep -q '"closeStatus": "COMPLETED"' <<<"$out" || die "list --closed does not show it: $out"

  step "workflow: STATUS= counts; journalctl -u $WORKER WORKFLOW_ID= finds each workflow"
  # Two workflows, one activity each, both on this worker.
  wait_ct 30 "the worker's STATUS= to count both activities" \
    "systemctl status --no-pager $WORKER |
     grep -Eq 'Status: \"polling hello_activities: 0 running, ([2-9]|[1-9][0-9]+) finished, 0 failed\"'"
  log "$(in_ct 20 systemctl status --no-pager "$WORKER" | grep 'Status: ')"
  local workflow_id
  for workflow_id in systest-hello systest-daemon-hello; do
    expect "journal $workflow_id greet" "$(unit_journal "$WORKER" "WORKFLOW_ID=$workflow_id" -o json)"
  done
}

# systemd logs every notification at debug level: that is where RELOADING=1 and READY=1 show.
run_reload_step() {
  local unit pid verdict end
  local -A before=()
  in_ct 10 systemd-analyze log-level debug || die "cannot raise systemd's log level"
  for unit in $REAL_UNITS; do
    before[$unit]=$(unit_prop "$unit" MainPID)
    pid=${before[$unit]}
    in_ct 30 systemctl reload "$unit" || die "systemctl reload $unit failed"
    end=$((SECONDS + 20))
    until verdict=$("$VENV_PY" "$CHECK" notify "$pid" \
      <<<"$(in_ct 20 journalctl -q --no-pager -o cat _PID=1 "UNIT=$unit")" 2>&1); do
      ((SECONDS < end)) || die "$unit: $verdict"
      sleep 1
    done
    log "$unit: $verdict"
  done
  in_ct 10 systemd-analyze log-level info || die "cannot restore systemd's log level"
  for unit in $REAL_UNITS; do
    [[ $(unit_prop "$unit" ActiveState) == active ]] || die "$unit not active after reload"
    [[ $(unit_prop "$unit" MainPID) == "${before[$unit]}" ]] || die "$unit changed PID on reload"
    [[ $(unit_prop "$unit" NRestarts) == 0 ]] || die "$unit restarted on reload"
  done
}

# `systemctl reload` checks the new config first (ExecReload= --check-config): a broken one
# makes the reload fail with the problem in `systemctl status`, and the process keeps running.
run_bad_reload_step() {
  local pid status
  cp "$CT_ROOT$HELLO_TOML" "$WORK/hello.toml.reload"
  sed -i 's/^concurrency = .*/concurrency = 0/' "$CT_ROOT$HELLO_TOML"
  grep -q '^concurrency = 0' "$CT_ROOT$HELLO_TOML" || die "could not break $HELLO_TOML"
  pid=$(unit_prop "$WORKER" MainPID)
  if in_ct 60 systemctl reload "$WORKER" 2>/dev/null; then
    cp "$WORK/hello.toml.reload" "$CT_ROOT$HELLO_TOML"
    die "systemctl reload succeeded with a broken config"
  fi
  status=$(in_ct 20 systemctl status --no-pager -n 20 "$WORKER" || true)
  cp "$WORK/hello.toml.reload" "$CT_ROOT$HELLO_TOML"
  grep -q "concurrency" <<<"$status" || die "systemctl status does not show the problem: $status"
  [[ $(unit_prop "$WORKER" ActiveState) == active ]] || die "$WORKER not active after a bad reload"
  [[ $(unit_prop "$WORKER" MainPID) == "$pid" ]] || die "$WORKER changed PID on a bad reload"
  in_ct 60 systemctl reload "$WORKER" || die "a good reload after a bad one failed"
  log "a broken config failed the reload; $WORKER kept running as PID $pid"
}

# With the embedded SWF holding every empty poll for 60 s, as SWF does.
run_idle_restart_step() {
  local unit start took_ms
  sleep 3 # every unit idle, its long poll in flight
  for unit in $REAL_UNITS; do
    start=$(date +%s%N)
    in_ct 120 systemctl restart "$unit" || die "systemctl restart $unit failed"
    took_ms=$((($(date +%s%N) - start) / 1000000))
    [[ $(unit_prop "$unit" ActiveState) == active ]] || die "$unit not active after restart"
    ((took_ms < 5000)) || die "systemctl restart $unit took ${took_ms} ms (goal: under 5 s)"
    log "systemctl restart $unit: ${took_ms} ms"
  done
}

run_drain_step() {
  signal_daemon nap systest-nap
  until_check 60 "the nap activity to be running" "running nap" workflow show systest-nap --json
  local pid took start
  pid=$(unit_prop "$WORKER" MainPID)
  start=$SECONDS
  in_ct 420 systemctl stop "$WORKER" || die "systemctl stop $WORKER failed"
  took=$((SECONDS - start))
  [[ $(unit_prop "$WORKER" ActiveState) == inactive ]] || die "$WORKER is not inactive after stop"
  [[ $(unit_prop "$WORKER" Result) == success ]] ||
    die "$WORKER stop result: $(unit_prop "$WORKER" Result)"
  [[ $(unit_prop "$WORKER" ExecMainStatus) == 0 ]] ||
    die "$WORKER exited $(unit_prop "$WORKER" ExecMainStatus) on stop"
  expect "drained nap" "$(in_ct 30 journalctl -q --no-pager -o json \
    "_SYSTEMD_UNIT=$WORKER" "_PID=$pid")"
  expect "completed nap" "$(flotod_ct 60 workflow history systest-nap --json)"
  log "the stop took ${took}s (the nap activity sleeps 8 s)"
  in_ct 60 systemctl start "$WORKER" || die "the worker did not start again"
  until_check 120 "the nap workflow to complete after the restart" "outcome nap" \
    workflow show systest-nap --json
}

# The real worker under a short watchdog: it must keep pinging while its loop polls (so it
# survives several WatchdogSec periods), and a frozen process must be restarted by systemd.
run_watchdog_step() {
  local d=/run/systemd/system/$WORKER.d pid restarts
  in_ct 10 mkdir -p "$d"
  timeout 10 nsenter -t "$CT_PID1" -a /bin/sh -c "cat > $d/watchdog.conf" <<'UNIT'
[Service]
WatchdogSec=8s
UNIT
  in_ct 30 systemctl daemon-reload
  in_ct 120 systemctl restart "$WORKER" || die "the worker did not restart with WatchdogSec=8s"
  wait_ct 60 "$WORKER to be active" "systemctl is-active -q $WORKER"
  pid=$(unit_prop "$WORKER" MainPID)
  restarts=$(unit_prop "$WORKER" NRestarts)
  sleep 25 # three watchdog periods of an idle, polling worker
  [[ $(unit_prop "$WORKER" MainPID) == "$pid" ]] ||
    die "a healthy worker was restarted: its loop did not keep the watchdog fed"
  in_ct 10 kill -STOP "$pid"
  wait_ct 60 "the watchdog to restart the frozen worker" \
    "[ \"\$(systemctl show -P MainPID $WORKER)\" != $pid ] &&
     [ \"\$(systemctl show -P NRestarts $WORKER)\" -gt $restarts ] &&
     systemctl is-active -q $WORKER"
  in_ct 20 journalctl -q --no-pager -u "$WORKER" | grep -i "watchdog timeout" >/dev/null ||
    die "no watchdog timeout for $WORKER in the journal"
  in_ct 10 rm -rf "$d"
  in_ct 30 systemctl daemon-reload
  in_ct 120 systemctl restart "$WORKER" || die "the worker did not restart without the drop-in"
  wait_ct 60 "$WORKER to be active" "systemctl is-active -q $WORKER"
}
