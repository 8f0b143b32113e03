# shellcheck shell=bash
# The cached Debian 12 root the system test boots. Sourced by run.sh.
#
# debootstrap costs about a minute plus downloads, so a pristine root is kept under
# $FLOTOD_SYSTEST_CACHE (outside the repo) keyed by the package list, and every run boots a
# throw-away copy of it: flotod is never installed into the cache itself.

SYSTEST_CACHE=${FLOTOD_SYSTEST_CACHE:-/var/cache/flotod-systest}
SYSTEST_MIRROR=${FLOTOD_SYSTEST_MIRROR:-http://deb.debian.org/debian}
# The package's runtime dependencies are preinstalled so `apt install ./flotod.deb` inside the
# container needs no network; systemd, dbus and systemd-sysv make the root bootable.
SYSTEST_INCLUDE=systemd,systemd-sysv,dbus,python3,python3-boto3,python3-structlog,python3-sdnotify,python3-daemon,python3-prometheus-client,python3-systemd,procps,ca-certificates

# Print the path of a pristine bookworm root, building it when it is missing or incomplete.
cached_rootfs() {
  local key dir tmp
  key=$(printf '%s %s' "$SYSTEST_INCLUDE" "$SYSTEST_MIRROR" | sha256sum | cut -c1-12)
  dir="$SYSTEST_CACHE/bookworm-$key"
  if [[ -f "$dir/.flotod-systest-complete" ]]; then
    printf '%s\n' "$dir"
    return 0
  fi
  mkdir -p "$SYSTEST_CACHE"
  tmp="$dir.partial.$$"
  rm -rf "$tmp"
  log "debootstrap bookworm into $tmp (cache miss)"
  if ! timeout 1200 debootstrap --variant=minbase --include="$SYSTEST_INCLUDE" \
    bookworm "$tmp" "$SYSTEST_MIRROR" >"$SYSTEST_CACHE/debootstrap.log" 2>&1; then
    tail -n 30 "$SYSTEST_CACHE/debootstrap.log" >&2
    rm -rf "$tmp"
    die "debootstrap failed (log: $SYSTEST_CACHE/debootstrap.log)"
  fi
  # apt inside the container resolves local .deb files against these lists.
  printf 'deb %s bookworm main\n' "$SYSTEST_MIRROR" >"$tmp/etc/apt/sources.list"
  # A stable machine id keeps journald happy across boots of copies.
  systemd-machine-id-setup --root="$tmp" >/dev/null 2>&1 || true
  touch "$tmp/.flotod-systest-complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  printf '%s\n' "$dir"
}
