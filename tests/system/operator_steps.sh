# shellcheck shell=bash
# The operator's own workflows, deployed the way README's "Deploying your own workflows" says:
# code in /opt/acme, a library only in /opt/acme/venv, a spec_object decider and a spec_file
# decider and a worker in conf.d, an activity writing under /var/lib/acme through a drop-in,
# then a reboot. Sourced by run.sh; the upgrade and purge that follow check that these files
# survive. Nothing here edits a file the package ships.

ACME_UNITS="flotod-decider@acme.service flotod-decider@nightly.service flotod-worker@acme.service"
ACME_DROPIN=/etc/systemd/system/flotod-worker@acme.service.d/write-var-lib-acme.conf
# The operator's files, whose content upgrade and purge must leave alone.
OPERATOR_FILES="/etc/flotod/aws-credentials $CONF_D/swf.toml $CONF_D/acme.toml \
$CONF_D/nightly.json $ACME_DROPIN"

# Write stdin to PATH inside the container (mode 0644), creating its directory.
put_ct() {
  local path=$1
  mkdir -p "$(dirname "$CT_ROOT$path")"
  cat >"$CT_ROOT$path"
  chmod 0644 "$CT_ROOT$path"
}

install_acme_code() {
  in_ct 60 python3 -m venv --without-pip /opt/acme/venv || die "python3 -m venv /opt/acme/venv"
  local site
  site=$(in_ct 20 /opt/acme/venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  [[ $site == /opt/acme/venv/* ]] || die "the venv's site-packages is '$site'"
  # A library that exists only in the venv (pip would put it there; no network here).
  put_ct "$site/acme_stamp.py" <<'PY'
"""Acme's house style for report lines (installed in /opt/acme/venv only)."""


def stamp(name):
    return f"acme-stamp:{name}"
PY
  put_ct /opt/acme/acme/__init__.py <<<'"""Acme workflows."""'
  put_ct /opt/acme/acme/activities.py <<'PY'
"""Acme's activities: a report file under /var/lib/acme, styled by a venv-only library."""

from pathlib import Path

import acme_stamp

import flotod

REPORTS = Path("/var/lib/acme")


@flotod.activity(name="acme_report", version="v1")
def report(context):
    workflow_id = flotod.current_task().workflow_id
    line = acme_stamp.stamp(workflow_id)
    path = REPORTS / f"{workflow_id}.txt"
    path.write_text(line + "\n")
    return {"path": str(path), "stamp": line}
PY
  put_ct /opt/acme/acme/workflows.py <<'PY'
"""Acme's daily report workflow. No domain: it runs in the config's [swf] domain."""

from flotod.specs import ActivityTask, DeciderSpec

SPEC = DeciderSpec(
    task_list="acme_decider",
    default_activity_task_list="acme_activities",
    activity_tasks=[ActivityTask("acme_report", "v1", activity_id="report")],
)
PY
  ! in_ct 20 runuser -u flotod -- python3 -c 'import acme_stamp' 2>/dev/null ||
    die "acme_stamp imports outside /opt/acme/venv: the test would prove nothing"
}

configure_acme() {
  put_ct "$CONF_D/acme.toml" <<'TOML'
# Acme's workflows: one file per table, none of them shipped by the package.

[decider.acme]
task_list = "acme_decider"
spec_object = "acme.workflows:SPEC"
python_path = ["/opt/acme"]
workflow_type_name = "acme_daily"
workflow_type_version = "v1"

[decider.nightly]
task_list = "acme_nightly_decider"
# Relative to this file: /etc/flotod/conf.d/nightly.json
spec_file = "nightly.json"
workflow_type_name = "acme_nightly"
workflow_type_version = "v1"

[worker.acme]
task_list = "acme_activities"
modules = ["acme.activities"]
python_path = ["/opt/acme"]
virtualenv = "/opt/acme/venv"
TOML
  put_ct "$CONF_D/nightly.json" <<'JSON'
{
  "type": "flotod.specs.DeciderSpec",
  "task_list": "acme_nightly_decider",
  "default_activity_task_list": "acme_activities",
  "activity_tasks": [
    {"type": "flotod.specs.ActivityTask", "id_": "report", "name": "acme_report", "version": "v1"}
  ]
}
JSON
  in_ct 10 install -d -o flotod -g flotod -m 0750 /var/lib/acme
  put_ct "$ACME_DROPIN" <<'UNIT'
[Service]
ReadWritePaths=/var/lib/acme
UMask=0027
UNIT
  in_ct 30 systemctl daemon-reload
}

# start --wait the workflow type NAME as WORKFLOW_ID; its report must be in /var/lib/acme.
run_acme_workflow() {
  local type=$1 workflow_id=$2 out
  out=$(flotod_ct 150 workflow start "$type" --id "$workflow_id" --wait --timeout 120 --json \
    2>"$WORK/start-$workflow_id.err") ||
    die "flotod workflow start $type: $(cat "$WORK/start-$workflow_id.err") $out"
  expect "result {\"report\":{\"path\":\"/var/lib/acme/$workflow_id.txt\",\"stamp\":\"acme-stamp:$workflow_id\"}}" \
    "$out"
  local got
  got=$(in_ct 10 stat -c '%a %U:%G' "/var/lib/acme/$workflow_id.txt") ||
    die "no /var/lib/acme/$workflow_id.txt"
  [[ $got == "640 flotod:flotod" ]] || die "/var/lib/acme/$workflow_id.txt is $got, not 640 flotod:flotod (UMask=0027)"
  [[ $(cat "$CT_ROOT/var/lib/acme/$workflow_id.txt") == "acme-stamp:$workflow_id" ]] ||
    die "the report of $workflow_id: $(cat "$CT_ROOT/var/lib/acme/$workflow_id.txt")"
}

run_operator_steps() {
  step "operator: code in /opt/acme, a library only in /opt/acme/venv"
  install_acme_code

  step "operator: tables in conf.d, a drop-in to write /var/lib/acme; check and register"
  configure_acme
  local out
  out=$(flotod_ct 60 config check 2>&1) || die "flotod config check: $out"
  local table
  for table in decider.acme decider.nightly worker.acme decider.hello worker.hello daemon.main; do
    grep -Eq "^ok +$table\$" <<<"$out" || die "flotod config check does not pass $table: $out"
  done
  # No environment: flotod reads /etc/flotod/aws-credentials, the file the units are handed.
  out=$(in_ct 120 flotod register --verbose 2>&1) || die "flotod register: $out"
  grep -q "/etc/flotod/aws-credentials" <<<"$out" ||
    die "flotod register --verbose does not name /etc/flotod/aws-credentials as its source: $out"
  for table in acme_daily acme_nightly acme_report; do
    grep -q "$table" <<<"$out" || die "flotod register did not register $table: $out"
  done

  step "operator: systemctl enable --now; both workflows complete"
  # shellcheck disable=SC2086
  in_ct 60 systemctl enable --now $ACME_UNITS >/dev/null 2>&1 || die "systemctl enable --now $ACME_UNITS"
  local unit
  for unit in $ACME_UNITS; do
    wait_ct 60 "$unit to be active" "systemctl is-active -q $unit"
  done
  run_acme_workflow acme_daily systest-acme
  run_acme_workflow acme_nightly systest-nightly

  step "reboot: every enabled instance comes back"
  [[ $(in_ct 10 systemctl is-enabled flotod.target) == enabled ]] || die "flotod.target is not enabled"
  reboot_ct
  for unit in $ACME_UNITS $REAL_UNITS; do
    wait_ct 60 "$unit to be active after the reboot" "systemctl is-active -q $unit"
  done
  # No workflow right after the reboot: the polls the powered-off services left in flight on
  # the (host's) embedded SWF would be handed its tasks, as SWF does, until they expire.
  # The probe's runtime drop-ins (/run) went with the reboot: the upgrade step needs it again.
  install_probe
  in_ct 60 systemctl start "$PROBE_UNIT" || die "$PROBE_UNIT did not start after the reboot"
}

# sha256 of the operator's files, one line each.
operator_sums() { in_ct 20 sha256sum $OPERATOR_FILES; }
