# shellcheck shell=bash
# Unit lifecycle on real systemd with probe.py standing in for the service process, plus the
# package's upgrade, remove and purge behaviour. Sourced by run.sh.

PROBE_UNIT=flotod-worker@probe.service
BAD_UNIT=flotod-decider@probe.service

# The journal text of a unit since it was first started in this boot.
unit_journal() { in_ct 30 journalctl -q --no-pager -o cat -u "$1" "${@:2}"; }

install_probe() {
  mkdir -p "$CT_ROOT/usr/local/lib/flotod-systest"
  install -m 0644 "$HERE/probe.py" "$CT_ROOT/usr/local/lib/flotod-systest/probe.py"
  # Runtime drop-ins (/run) replace only ExecStart=, ExecReload= and shorten the watchdog:
  # every other setting, the sandbox included, is the packaged unit's.
  # /run inside the container is its own tmpfs: write the drop-ins from inside.
  local d=/run/systemd/system/$PROBE_UNIT.d
  in_ct 10 mkdir -p "$d"
  timeout 10 nsenter -t "$CT_PID1" -a /bin/sh -c "cat > $d/probe.conf" <<'UNIT'
[Service]
ExecStart=
ExecStart=/usr/bin/python3 /usr/local/lib/flotod-systest/probe.py serve
# The packaged reload first runs flotod-worker --check-config on a [worker.probe] table that
# does not exist: the probe stands in for the whole service, its reload check included.
ExecReload=
ExecReload=/bin/kill -HUP $MAINPID
WatchdogSec=5s
Environment=AWS_EC2_METADATA_DISABLED=true
UNIT
  d=/run/systemd/system/$BAD_UNIT.d
  in_ct 10 mkdir -p "$d"
  timeout 10 nsenter -t "$CT_PID1" -a /bin/sh -c "cat > $d/probe.conf" <<'UNIT'
[Service]
ExecStart=
ExecStart=/usr/bin/python3 /usr/local/lib/flotod-systest/probe.py bad-config
UNIT
  in_ct 30 systemctl daemon-reload
}

run_probe_steps() {
  step "probe: start under the packaged sandbox, no credential file"
  install_probe
  in_ct 60 systemctl start "$PROBE_UNIT" || die "$PROBE_UNIT did not start: $(unit_journal "$PROBE_UNIT")"
  local j
  j=$(unit_journal "$PROBE_UNIT")
  [[ $j == *"credentials_file=/run/credentials/$PROBE_UNIT/aws exists=True access_key=none"* ]] ||
    die "without /etc/flotod/aws-credentials the fallback credential is not in place: $j"

  step "probe: STATUS= in systemctl status, native journal fields"
  in_ct 20 systemctl status --no-pager "$PROBE_UNIT" | grep "Status: \"probe polling task list" >/dev/null ||
    die "systemctl status does not show the STATUS= text"
  unit_journal "$PROBE_UNIT" WORKFLOW_ID=probe-wf-1 | grep "probe started" >/dev/null ||
    die "journalctl -u $PROBE_UNIT WORKFLOW_ID=probe-wf-1 found nothing"
  [[ $(unit_prop "$PROBE_UNIT" User) == flotod ]] || die "unit does not run as flotod"

  step "probe: LoadCredential= hands /etc/flotod/aws-credentials to boto3"
  printf '[default]\naws_access_key_id = AKIDSYSTEST\naws_secret_access_key = systest\n' \
    >"$CT_ROOT/etc/flotod/aws-credentials"
  chmod 0600 "$CT_ROOT/etc/flotod/aws-credentials"
  in_ct 60 systemctl restart "$PROBE_UNIT"
  unit_journal "$PROBE_UNIT" | grep "exists=True access_key=AKIDSYSTEST" >/dev/null ||
    die "boto3 did not read the credential from LoadCredential="

  step "probe: reload"
  in_ct 20 systemctl reload "$PROBE_UNIT" || die "systemctl reload failed"
  wait_ct 15 "the reload to reach the process" \
    "journalctl -q -o cat -u $PROBE_UNIT | grep -q 'probe reloaded'"
  [[ $(unit_prop "$PROBE_UNIT" ActiveState) == active ]] || die "not active after reload"

  step "probe: a watchdog stall is restarted"
  local pid
  pid=$(unit_prop "$PROBE_UNIT" MainPID)
  in_ct 10 kill -STOP "$pid"
  wait_ct 40 "the watchdog to restart the stalled process" \
    "[ \"\$(systemctl show -P MainPID $PROBE_UNIT)\" != $pid ] &&
     [ \"\$(systemctl show -P NRestarts $PROBE_UNIT)\" -ge 1 ] &&
     systemctl is-active -q $PROBE_UNIT"
  in_ct 20 journalctl -q --no-pager -u "$PROBE_UNIT" | grep -i "watchdog timeout" >/dev/null ||
    die "no watchdog timeout in the journal"

  step "probe: stop drains gracefully"
  in_ct 60 systemctl stop "$PROBE_UNIT"
  [[ $(unit_journal "$PROBE_UNIT" | grep -c "probe drained") -ge 1 ]] || die "stop did not drain"
  [[ $(unit_prop "$PROBE_UNIT" Result) == success ]] || die "graceful stop did not end in success"
  in_ct 60 systemctl start "$PROBE_UNIT"

  step "probe: a bad config fails once (exit 78), no restart loop"
  in_ct 30 systemctl start "$BAD_UNIT" 2>/dev/null || true
  sleep 8 # longer than RestartSec=5s: a restart would have happened by now
  [[ $(unit_prop "$BAD_UNIT" ActiveState) == failed ]] || die "$BAD_UNIT is not failed"
  [[ $(unit_prop "$BAD_UNIT" ExecMainStatus) == 78 ]] || die "$BAD_UNIT did not exit 78"
  [[ $(unit_prop "$BAD_UNIT" NRestarts) == 0 ]] || die "$BAD_UNIT was restarted"
  unit_journal "$BAD_UNIT" | grep "config error" >/dev/null || die "config error not in the journal"
}

# MainPIDs of the active flotod services, as "unit=pid" words.
active_flotod_pids() {
  sh_ct 30 'for u in $(systemctl list-units --plain --no-legend --state=active "flotod-*.service" |
    cut -d" " -f1); do echo "$u=$(systemctl show -P MainPID "$u")"; done'
}

run_upgrade_step() {
  in_ct 30 systemctl enable "$PROBE_UNIT" >/dev/null 2>&1 || die "cannot enable $PROBE_UNIT"
  local before after entry unit drained sums
  # The operator edits their own files just before; the new version changes flotod.toml.
  printf '\n# edited by the operator before the upgrade\n' >>"$CT_ROOT$CONF_D/acme.toml"
  sums=$(operator_sums)
  drained=$(unit_journal "$PROBE_UNIT" | grep -c "probe drained" || true)
  before=$(active_flotod_pids)
  [[ -n $before ]] || die "no flotod unit is running before the upgrade"
  # No terminal and nothing on stdin: a conffile prompt would fail the upgrade, not hang it.
  in_ct 600 apt-get install -y -q "/root/$(basename "$UPGRADE_DEB")" </dev/null \
    >"$WORK/apt-upgrade.log" 2>&1 ||
    { tail -n 30 "$WORK/apt-upgrade.log" >&2; die "upgrade failed"; }
  [[ $(in_ct 10 dpkg-query -W -f '${Version} ${db:Status-Abbrev}' flotod) == "${VERSION}+systest1 ii " ]] ||
    die "upgrade did not install the new version: $(in_ct 10 dpkg-query -W -f '${Version} ${db:Status-Abbrev}' flotod)"
  ! grep -qi "configuration file" "$WORK/apt-upgrade.log" ||
    die "the upgrade asked about a configuration file: $(grep -i -A3 "configuration file" "$WORK/apt-upgrade.log")"
  grep -qx "$UPGRADE_MARK" "$CT_ROOT/etc/flotod/flotod.toml" ||
    die "the upgrade did not install the new /etc/flotod/flotod.toml"
  grep -qx "$UPGRADE_MARK" "$CT_ROOT/usr/share/doc/flotod/examples/hello.toml" ||
    die "the upgrade did not install the new sample"
  [[ $(operator_sums) == "$sums" ]] || die "the upgrade changed the operator's files"
  [[ -z $(in_ct 10 find /etc/flotod -name '*.dpkg-*') ]] ||
    die "the upgrade left $(in_ct 10 find /etc/flotod -name '*.dpkg-*')"
  after=$(active_flotod_pids)
  for entry in $before; do
    unit=${entry%%=*}
    grep -q "^$unit=" <<<"$after" || die "$unit is not running after the upgrade"
    grep -qx "$entry" <<<"$after" && die "$unit was not restarted by the upgrade"
  done
  [[ $(unit_prop "$BAD_UNIT" ActiveState) != active ]] || die "upgrade started a stopped unit"
  (($(unit_journal "$PROBE_UNIT" | grep -c "probe drained") > drained)) ||
    die "the upgrade's restart did not stop $PROBE_UNIT gracefully"
  log "restarted on upgrade: $before"
}

run_remove_purge_step() {
  local drained
  drained=$(unit_journal "$PROBE_UNIT" | grep -c "probe drained")
  in_ct 600 apt-get remove -y -q flotod >"$WORK/apt-remove.log" 2>&1 ||
    { tail -n 30 "$WORK/apt-remove.log" >&2; die "apt-get remove failed"; }
  [[ -z $(active_flotod_pids) ]] || die "flotod units still running after remove"
  (($(unit_journal "$PROBE_UNIT" | grep -c "probe drained") > drained)) ||
    die "remove did not stop $PROBE_UNIT gracefully"
  # The harness's own runtime drop-ins go; the operator's state stays until purge.
  sh_ct 10 'rm -rf /run/systemd/system/flotod-*'
  in_ct 30 systemctl daemon-reload
  [[ -f "$CT_ROOT/etc/flotod/flotod.toml" ]] || die "remove deleted a conffile"
  local sums
  sums=$(operator_sums)
  in_ct 600 apt-get purge -y -q flotod >"$WORK/apt-purge.log" 2>&1 ||
    { tail -n 30 "$WORK/apt-purge.log" >&2; die "apt-get purge failed"; }
  [[ -z $(in_ct 10 dpkg-query -W -f '${db:Status-Abbrev}' flotod 2>/dev/null) ]] ||
    in_ct 10 dpkg-query -W -f '${db:Status-Abbrev}' flotod | grep '^un' >/dev/null ||
    die "flotod still known to dpkg after purge"
  # What the package made goes; what the operator made stays (Debian policy).
  [[ ! -e "$CT_ROOT/etc/flotod/flotod.toml" ]] || die "purge left the conffile flotod.toml"
  [[ $(operator_sums) == "$sums" ]] || die "purge removed or changed the operator's files"
  [[ -d "$CT_ROOT/var/lib/acme" ]] || die "purge removed the operator's /var/lib/acme"
  [[ -z $(in_ct 10 dpkg-statoverride --list | grep /etc/flotod) ]] ||
    die "purge left statoverrides: $(in_ct 10 dpkg-statoverride --list | grep /etc/flotod)"
  [[ ! -e "$CT_ROOT/var/lib/flotod" ]] || die "/var/lib/flotod left after purge"
  in_ct 10 id flotod >/dev/null || die "purge removed the flotod user (policy: keep it)"
  grep -q "flotod system user and group are kept" "$WORK/apt-purge.log" ||
    die "purge did not say that it kept the flotod user: $(tail -n 20 "$WORK/apt-purge.log")"
  grep -q "purge kept the files you created in /etc/flotod" "$WORK/apt-purge.log" ||
    die "purge did not say that it kept the operator's files"
  local left
  # The operator's drop-in directory is theirs; any other flotod* file or link is the package's.
  left=$(find "$CT_ROOT/etc/systemd" "$CT_ROOT/lib/systemd/system" -name 'flotod*' \
    ! -path "$CT_ROOT$(dirname "$ACME_DROPIN")*" 2>/dev/null)
  [[ -z $left ]] || die "unit files or links left after purge: $left"
  left=$(find "$CT_ROOT/etc/systemd/system" -xtype l 2>/dev/null)
  [[ -z $left ]] || die "dangling unit links after purge: $left"
}
