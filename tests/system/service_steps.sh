# shellcheck shell=bash
# Steps with the real flotod services, against the embedded SWF on the host's loopback
# (nspawn shares the host network). Sourced by run.sh; always run: a step that cannot run fails.

SWF_PORT=${FLOTOD_SYSTEST_SWF_PORT:-45661}
# SWF's own 60 s long poll: an idle service must stop, restart and reload without waiting for it.
SWF_POLL_TIMEOUT=60
REAL_UNITS="flotod-decider@hello.service flotod-worker@hello.service flotod-daemon.service"
WORKER=flotod-worker@hello.service
# Installed into the container; the sample worker also serves it (see flotod_systest_nap.py).
NAP_MODULE=flotod_systest_nap
CHECK=$HERE/systest_check.py

start_local_swf() {
  "$VENV_PY" -m flotod.cli.main local-swf --port "$SWF_PORT" \
    --poll-timeout "$SWF_POLL_TIMEOUT" >"$WORK/local-swf.log" 2>&1 &
  LOCALSWF_PID=$!
  local i
  for i in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$SWF_PORT") 2>/dev/null && return 0
    kill -0 "$LOCALSWF_PID" 2>/dev/null || { cat "$WORK/local-swf.log" >&2; die "local-swf exited"; }
    sleep 0.2
  done
  die "local-swf did not listen on 127.0.0.1:$SWF_PORT"
}

# The installed operator command, as root with no AWS environment at all: it finds the units'
# credentials (/etc/flotod/aws-credentials) itself, as an operator's shell would need.
flotod_ct() {
  local secs=$1
  shift
  in_ct "$secs" flotod "$@"
}

# Run `flotod ARGS...` in the container until its output passes `systest_check.py CHECK`.
# Usage: until_check SECONDS WHAT "CHECK ARGS" FLOTOD_ARGS...
until_check() {
  local secs=$1 what=$2 check=$3 out verdict="" end
  shift 3
  end=$((SECONDS + secs))
  while true; do
    # shellcheck disable=SC2086  # CHECK ARGS are words
    if out=$(flotod_ct 60 "$@" 2>&1) && verdict=$("$VENV_PY" "$CHECK" $check <<<"$out" 2>&1); then
      log "$verdict"
      return 0
    fi
    ((SECONDS < end)) || die "timed out after ${secs}s waiting for $what: ${verdict:-$out}"
    sleep 1
  done
}

# Check a command's output once. Usage: expect "CHECK ARGS" TEXT
expect() {
  local verdict
  # shellcheck disable=SC2086
  verdict=$("$VENV_PY" "$CHECK" $1 <<<"$2" 2>&1) || die "$verdict"
  log "$verdict"
}

# The operator's domain; the hello sample (which names none) and the daemon run in it too.
SWF_DOMAIN=acme
CONF_D=/etc/flotod/conf.d
# The file of conf.d holding the hello sample's decider and worker tables.
HELLO_TOML=$CONF_D/hello.toml

# Configure as an operator does, without editing a file the package ships: the shared [swf]
# settings and the samples go into conf.d.
configure_services() {
  local etc=$CT_ROOT/etc/flotod
  printf '[swf]\nendpoint_url = "http://127.0.0.1:%s"\ndomain = "%s"\n' "$SWF_PORT" "$SWF_DOMAIN" \
    >"$CT_ROOT$CONF_D/swf.toml"
  # Any credential does for the embedded SWF; the units get this file through LoadCredential=.
  printf '[default]\naws_access_key_id = AKIDSYSTEST\naws_secret_access_key = systest\n' \
    >"$etc/aws-credentials"
  chmod 0600 "$etc/aws-credentials"
  # A fresh install with the domain set: nothing to run yet, nothing wrong.
  flotod_ct 60 config check >"$WORK/config-check-fresh.log" 2>&1 ||
    die "flotod config check fails on a fresh install: $(cat "$WORK/config-check-fresh.log")"
  sh_ct 10 "cp /usr/share/doc/flotod/examples/hello.toml /usr/share/doc/flotod/examples/hello.json \
    /usr/share/doc/flotod/examples/daemon.toml $CONF_D/"
  sed -i "s|^modules = \[\"flotod.examples.hello\"\]|modules = [\"flotod.examples.hello\", \"$NAP_MODULE\"]|" \
    "$CT_ROOT$HELLO_TOML"
  grep -q "\"$NAP_MODULE\"" "$CT_ROOT$HELLO_TOML" || die "could not add $NAP_MODULE to $HELLO_TOML"
  local site
  site=$(in_ct 20 python3 -c 'import site; print(site.getsitepackages()[0])')
  [[ $site == /usr/local/* ]] || die "no /usr/local site directory in the container: '$site'"
  mkdir -p "$CT_ROOT$site"
  install -m 0644 "$HERE/$NAP_MODULE.py" "$CT_ROOT$site/$NAP_MODULE.py"
  in_ct 20 runuser -u flotod -- python3 -c "import $NAP_MODULE" ||
    die "$NAP_MODULE is not importable by the flotod user from $site"
}

run_service_steps() {
  step "services: configure, check, register against the embedded SWF"
  start_local_swf
  configure_services
  local cmd
  for cmd in flotod-decider flotod-worker flotod-daemon; do
    in_ct 60 runuser -u flotod -- "$cmd" --config /etc/flotod --check-config \
      >"$WORK/check-$cmd.log" 2>&1 ||
      die "$cmd --check-config rejects the sample configs: $(cat "$WORK/check-$cmd.log")"
  done
  flotod_ct 60 config check >"$WORK/config-check.log" 2>&1 ||
    die "flotod config check: $(cat "$WORK/config-check.log")"
  flotod_ct 120 register >"$WORK/register.log" 2>&1 ||
    die "flotod register failed: $(cat "$WORK/register.log")"
  grep -q "hello" "$WORK/register.log" || die "register did not name hello: $(cat "$WORK/register.log")"

  step "services: start flotod.target"
  # The package enabled flotod.target; an operator enables only the instances.
  # shellcheck disable=SC2086
  in_ct 30 systemctl enable $REAL_UNITS >/dev/null 2>&1
  in_ct 120 systemctl start flotod.target || die "systemctl start flotod.target failed"
  local unit
  for unit in $REAL_UNITS; do
    wait_ct 60 "$unit to be active" "systemctl is-active -q $unit"
    [[ -n $(unit_prop "$unit" StatusText) ]] || die "$unit sends no STATUS= text"
  done

  run_workflow_steps

  step "services: reload (RELOADING=1 then READY=1, same PID)"
  run_reload_step

  step "services: a reload with a broken config fails and the service keeps its config"
  run_bad_reload_step

  step "services: stop during a running activity drains it"
  run_drain_step

  step "services: the worker feeds its watchdog, and a frozen worker is restarted"
  run_watchdog_step

  # After the steps that run workflows on hello_activities: a quick stop leaves its 60 s poll
  # behind on the embedded SWF, which hands the next task to that dead poll (SWF does the
  # same), so a workflow started right after this step would wait for its activity timeout.
  step "services: an idle unit restarts in under 5 s with a 60 s poll in flight"
  run_idle_restart_step

  step "services: a broken config fails once with the error in the journal"
  cp "$CT_ROOT$HELLO_TOML" "$WORK/hello.toml.good"
  printf '\n[worker.hello.bogus]\nnot_a_setting = 1\n' >>"$CT_ROOT$HELLO_TOML"
  in_ct 200 systemctl restart "$WORKER" 2>/dev/null || true
  sleep 8
  [[ $(unit_prop "$WORKER" ActiveState) == failed ]] || die "worker with a broken config is not failed"
  [[ $(unit_prop "$WORKER" ExecMainStatus) == 78 ]] || die "worker with a broken config did not exit 78"
  [[ $(unit_prop "$WORKER" NRestarts) == 0 ]] || die "restart loop on bad config"
  unit_journal "$WORKER" | grep "$HELLO_TOML" >/dev/null ||
    die "the config error (naming $HELLO_TOML) is not in the journal"
  cp "$WORK/hello.toml.good" "$CT_ROOT$HELLO_TOML"
  in_ct 60 systemctl start "$WORKER" || die "worker did not start again"
}
