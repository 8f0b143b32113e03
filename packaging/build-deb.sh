#!/usr/bin/env bash
# Build flotod_<version>_all.deb into dist/ with dpkg-buildpackage and Debian's own python.
#
# The source tree is copied (tracked and untracked-but-not-ignored files, so the virtualenv and
# caches stay out) to a scratch directory with packaging/debian/ as its debian/, so the repo
# stays clean. PATH is reset because a pyenv or virtualenv python3 first on PATH would shadow
# /usr/bin/python3 and pybuild would build against the wrong interpreter.
#
# Usage: packaging/build-deb.sh [OUTDIR]     (default: dist/ in the repo)
#        FLOTOD_DEB_FROM=head packaging/build-deb.sh   builds the last commit only
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
outdir=${1:-$repo/dist}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

for tool in dpkg-buildpackage dh pybuild; do
  if ! PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$tool" >/dev/null; then
    echo "build-deb: $tool is missing; install: apt-get install -y debhelper dh-python" \
      "pybuild-plugin-pyproject python3-all python3-setuptools" >&2
    exit 1
  fi
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/flotod-deb.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
src=$scratch/flotod
mkdir -p "$src"
if [[ ${FLOTOD_DEB_FROM:-worktree} == head ]]; then
  # Only what is committed: what CI's clean clone would build.
  (cd "$repo" && git archive HEAD) | tar -x -C "$src"
else
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$repo" && xargs -0 cp --parents -t "$src" 2>/dev/null) || true
fi
# Files deleted in the work tree but still in the index are skipped above; check the essentials.
for needed in pyproject.toml flotod/__init__.py packaging/debian/control; do
  [[ -f "$src/$needed" ]] || { echo "build-deb: $needed missing from the copy" >&2; exit 1; }
done
rm -rf "$src/debian"
cp -a "$repo/packaging/debian" "$src/debian"

version=$(cd "$src" && dpkg-parsechangelog -S Version)
upstream=$(cd "$src" && /usr/bin/python3 -c \
  'import tomllib; print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
if [[ "${version%%[-+~]*}" != "$upstream" ]]; then
  echo "build-deb: debian/changelog says $version but pyproject.toml says $upstream;" \
    "add a packaging/debian/changelog entry" >&2
  exit 1
fi

(cd "$src" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$scratch" LC_ALL=C.UTF-8 \
  DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-}" \
  dpkg-buildpackage -us -uc -b) >"$scratch/build.log" 2>&1 || {
  tail -n 60 "$scratch/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed" >&2
  exit 1
}

deb=flotod_${version}_all.deb
cp "$scratch/$deb" "$outdir/"
cp "$scratch"/flotod_"${version}"_*.changes "$outdir/" 2>/dev/null || true
cp "$scratch/build.log" "$outdir/flotod_${version}.build.log"
echo "$outdir/$deb"
