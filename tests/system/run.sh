#!/usr/bin/env bash
# The package system test: build the .deb, check it, then install and drive it on a real
# systemd (a booted Debian 12 container). Run as root: `bash tests/system/run.sh` or
# `make system-test`. Measured on 2 shared cores: 1m22s with a cached root, 2m15s on a cache
# miss (debootstrap ~1 minute, needs deb.debian.org or FLOTOD_SYSTEST_MIRROR).
#
# probe.py proves the unit lifecycle on its own; then the installed services run workflows
# against the embedded SWF (flotod local-swf from the project's .venv, built by `make test`).
# Any step that cannot run fails the test: nothing is skipped.
#
# Host packages (Debian 12; build-essential because dpkg-buildpackage requires it implicitly):
#   apt-get install -y --no-install-recommends build-essential debhelper dh-python
#   pybuild-plugin-pyproject python3-all python3-setuptools lintian debootstrap
#   systemd-container procps git
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VENV_PY=${FLOTOD_VENV_PY:-$REPO/.venv/bin/python}
FAILED_STEP=""
log() { printf '[systest %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
  printf '[systest] FAIL%s: %s\n' "${FAILED_STEP:+ in '$FAILED_STEP'}" "$*" >&2
  exit 1
}
step() {
  FAILED_STEP=$1
  log "== $1"
}
# shellcheck source=tests/system/rootfs.sh
source "$HERE/rootfs.sh"
# shellcheck source=tests/system/container.sh
source "$HERE/container.sh"
# shellcheck source=tests/system/probe_steps.sh
source "$HERE/probe_steps.sh"
# shellcheck source=tests/system/service_steps.sh
source "$HERE/service_steps.sh"
# shellcheck source=tests/system/workflow_steps.sh
source "$HERE/workflow_steps.sh"

[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, nspawn)"
for tool in dpkg-buildpackage lintian debootstrap systemd-nspawn systemd-analyze nsenter ps git; do
  command -v "$tool" >/dev/null || die "$tool missing: apt-get install -y build-essential \
debhelper dh-python pybuild-plugin-pyproject python3-all python3-setuptools lintian debootstrap \
systemd-container procps git"
done
[[ -x /usr/bin/kill ]] || die "/usr/bin/kill missing: apt-get install -y procps"
"$VENV_PY" -c 'import flotod.localswf' 2>/dev/null ||
  die "$VENV_PY cannot import flotod.localswf: build the project venv first (make test)"

WORK=$(mktemp -d /var/tmp/flotod-systest.XXXXXX)
LOCALSWF_PID=""
cleanup() {
  local rc=$?
  trap - EXIT
  teardown_ct
  if [[ -n "$LOCALSWF_PID" ]]; then kill "$LOCALSWF_PID" 2>/dev/null || true; fi
  if ((rc != 0)) && [[ -n "$CT_ROOT" && -d "$CT_ROOT" ]]; then
    log "journal of the failed run: $WORK/journal.txt"
    journalctl -D "$CT_ROOT/var/log/journal" --no-pager -o short-monotonic >"$WORK/journal.txt" \
      2>/dev/null || true
    rm -rf "$CT_ROOT"
  else
    rm -rf "$WORK"
  fi
  if ((rc == 0)); then log "PASSED"; else log "FAILED (rc $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT

step "build the package"
DEB=$(bash "$REPO/packaging/build-deb.sh" "$WORK/dist")
VERSION=$(dpkg-deb -f "$DEB" Version)
log "built $(basename "$DEB")"

step "lintian"
lintian --fail-on error,warning "$DEB" || die "lintian reported errors or warnings"

step "systemd-analyze verify and security"
TREE=$WORK/tree
dpkg-deb -x "$DEB" "$TREE"
# ExecReload= needs /bin/kill in the root the units are checked against.
[[ -e "$TREE/bin" ]] || ln -s usr/bin "$TREE/bin"
install -m 0755 /usr/bin/kill "$TREE/usr/bin/kill"
UNITDIR=$TREE/lib/systemd/system
cp "$UNITDIR/flotod-worker@.service" "$UNITDIR/flotod-worker@check.service"
cp "$UNITDIR/flotod-decider@.service" "$UNITDIR/flotod-decider@check.service"
for unit in flotod-worker@check.service flotod-decider@check.service flotod-daemon.service \
  flotod.target; do
  out=$(systemd-analyze verify --recursive-errors=no --man=no --root="$TREE" \
    "$UNITDIR/$unit" 2>&1) || die "systemd-analyze verify $unit: $out"
  [[ -z "$out" ]] || die "systemd-analyze verify $unit printed: $out"
done
for unit in flotod-worker@check.service flotod-decider@check.service flotod-daemon.service; do
  score=$(systemd-analyze security --offline=true --threshold=20 --root="$TREE" "$unit" |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p') ||
    die "$unit scores above 2.0 in systemd-analyze security"
  log "$unit exposure $score"
done

step "upgrade package (same contents, higher version)"
UPGRADE_DEB=$WORK/dist/flotod_${VERSION}+systest1_all.deb
dpkg-deb -R "$DEB" "$WORK/repack"
sed -i "s/^Version: .*/Version: ${VERSION}+systest1/" "$WORK/repack/DEBIAN/control"
dpkg-deb -b --root-owner-group "$WORK/repack" "$UPGRADE_DEB" >/dev/null

step "boot Debian 12 with systemd"
PRISTINE=$(cached_rootfs)
boot_ct "$PRISTINE" "$WORK/root"

step "install the package"
cp "$DEB" "$UPGRADE_DEB" "$CT_ROOT/root/"
in_ct 300 apt-get install -y -q "/root/$(basename "$DEB")" >"$WORK/apt-install.log" 2>&1 ||
  { tail -n 30 "$WORK/apt-install.log" >&2; die "apt install failed"; }
in_ct 10 id flotod >/dev/null || die "the flotod system user was not created"
for unit in flotod.target flotod-daemon.service flotod-worker@hello.service \
  flotod-decider@hello.service; do
  [[ $(unit_prop "$unit" LoadState) == loaded ]] || die "$unit does not load"
done
in_ct 30 systemd-analyze verify --recursive-errors=no --man=no flotod-worker@hello.service \
  flotod-decider@hello.service flotod-daemon.service flotod.target ||
  die "systemd-analyze verify inside the container"
got=$(in_ct 10 stat -c '%a %U:%G' /etc/flotod /etc/flotod/flotod.toml /etc/flotod/specs/hello.json)
[[ $got == $'750 root:flotod\n640 root:flotod\n640 root:flotod' ]] ||
  die "/etc/flotod is not root:flotod 0750 with 0640 files: $got"

step "flotod --version as the flotod user"
got=$(in_ct 30 runuser -u flotod -- flotod --version) || die "flotod --version failed"
[[ $got == *"${VERSION%%[-+]*}"* ]] || die "flotod --version printed '$got'"

run_probe_steps

run_service_steps

step "upgrade restarts running units, leaves stopped ones stopped"
run_upgrade_step

step "remove stops the units; purge leaves nothing behind"
run_remove_purge_step
FAILED_STEP=""
