# shellcheck shell=bash
# Steps with the real flotod services, against the embedded SWF on the host's loopback
# (nspawn shares the host network). Sourced by run.sh; run when flotod/cli/services.py exists.

SWF_PORT=${FLOTOD_SYSTEST_SWF_PORT:-45661}
REAL_UNITS="flotod-decider@hello.service flotod-worker@hello.service flotod-daemon.service"

start_local_swf() {
  "$VENV_PY" -m flotod.cli.main local-swf --port "$SWF_PORT" >"$WORK/local-swf.log" 2>&1 &
  LOCALSWF_PID=$!
  local i
  for i in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$SWF_PORT") 2>/dev/null && return 0
    kill -0 "$LOCALSWF_PID" 2>/dev/null || { cat "$WORK/local-swf.log" >&2; die "local-swf exited"; }
    sleep 0.2
  done
  die "local-swf did not listen on 127.0.0.1:$SWF_PORT"
}

run_service_steps() {
  step "services: start flotod.target against the embedded SWF"
  start_local_swf
  sed -i "s|^endpoint_url = .*|endpoint_url = \"http://127.0.0.1:$SWF_PORT\"|" \
    "$CT_ROOT/etc/flotod/flotod.toml"
  # Registering the domain is the operator's one-time step on AWS; do it here on the host.
  "$VENV_PY" -c 'import sys, boto3
c = boto3.client("swf", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="AKIDSYSTEST", aws_secret_access_key="systest")
c.register_domain(name="flotod", workflowExecutionRetentionPeriodInDays="1")' \
    "http://127.0.0.1:$SWF_PORT" || die "cannot register the flotod domain on local-swf"
  local cmd
  for cmd in flotod-decider flotod-worker flotod-daemon; do
    in_ct 60 runuser -u flotod -- "$cmd" --config /etc/flotod --check-config \
      >"$WORK/check-$cmd.log" 2>&1 ||
      die "$cmd --check-config rejects the shipped samples: $(cat "$WORK/check-$cmd.log")"
  done
  # shellcheck disable=SC2086
  in_ct 30 systemctl enable flotod.target $REAL_UNITS >/dev/null 2>&1
  in_ct 120 systemctl start flotod.target || die "systemctl start flotod.target failed"
  local unit
  for unit in $REAL_UNITS; do
    wait_ct 60 "$unit to be active" "systemctl is-active -q $unit"
    [[ -n $(unit_prop "$unit" StatusText) ]] || die "$unit sends no STATUS= text"
  done
  in_ct 20 systemctl status --no-pager flotod-worker@hello.service | grep -q 'Status: "' ||
    die "systemctl status shows no status text for the worker"

  step "services: reload"
  for unit in $REAL_UNITS; do
    in_ct 20 systemctl reload "$unit" || die "systemctl reload $unit failed"
  done
  sleep 2
  for unit in $REAL_UNITS; do
    [[ $(unit_prop "$unit" ActiveState) == active ]] || die "$unit not active after reload"
    [[ $(unit_prop "$unit" NRestarts) == 0 ]] || die "$unit restarted on reload"
  done

  if [[ ${FLOTOD_SYSTEST_WORKFLOW:-0} == 1 ]]; then
    die "the workflow run (start hello, journal WORKFLOW_ID, stop during an activity) is not wired"
  fi
  log "NOTICE: workflow steps (hello completes, journalctl WORKFLOW_ID=, stop drains a running"
  log "NOTICE: activity, daemon child) are NOT run yet: no workflow-start command existed to drive"

  step "services: a broken config fails once with the error in the journal"
  cp "$CT_ROOT/etc/flotod/worker.toml" "$WORK/worker.toml.good"
  printf '\n[worker.hello.bogus]\nnot_a_setting = 1\n' >>"$CT_ROOT/etc/flotod/worker.toml"
  in_ct 200 systemctl restart flotod-worker@hello.service 2>/dev/null || true
  sleep 8
  [[ $(unit_prop flotod-worker@hello.service ActiveState) == failed ]] ||
    die "worker with a broken config is not failed"
  [[ $(unit_prop flotod-worker@hello.service ExecMainStatus) == 78 ]] ||
    die "worker with a broken config did not exit 78"
  [[ $(unit_prop flotod-worker@hello.service NRestarts) == 0 ]] || die "restart loop on bad config"
  unit_journal flotod-worker@hello.service | grep -q "worker.toml" ||
    die "the config error (naming worker.toml) is not in the journal"
  cp "$WORK/worker.toml.good" "$CT_ROOT/etc/flotod/worker.toml"
  in_ct 60 systemctl start flotod-worker@hello.service || die "worker did not start again"
}
