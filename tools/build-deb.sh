#!/usr/bin/env bash
# tools/build-deb.sh OUTDIR - build the Debian binary package from a clean
# copy of this tree's tracked files (as they are in the working tree,
# uncommitted edits included; untracked and ignored files left out), so
# the checkout itself stays clean: dpkg-buildpackage -us -uc -b in a
# temporary directory, then lintian on the result. Leaves in OUTDIR the
# .deb, .buildinfo, .changes and build.log, lintian.log; prints the .deb's
# path on stdout. Needs the packages of tools/setup.sh deps (debhelper,
# devscripts, lintian, the build dependencies of debian/control).
# Exit 0 when the package was built and lintian found no error (warnings
# are listed in lintian.log), 1 otherwise.
set -euo pipefail

OUT=${1:?usage: tools/build-deb.sh OUTDIR}
TOP=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/danepol-deb.XXXXXX")
trap 'rm -rf "$W"' EXIT
SRC=$W/danepol

mkdir -p "$SRC"
# Tracked files that exist in the working tree (a deleted one is left out).
(cd "$TOP" && git ls-files -z | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | tar -C "$SRC" -xf -

(cd "$SRC" && dpkg-buildpackage -us -uc -b -j"${JOBS:-2}") > "$OUT/build.log" 2>&1 || {
	echo "build-deb: dpkg-buildpackage failed; last lines of $OUT/build.log:" >&2
	tail -30 "$OUT/build.log" >&2
	exit 1
}
rm -f "$OUT"/danepol*.deb "$OUT"/danepol*.changes "$OUT"/danepol*.buildinfo
mv "$W"/danepol*.deb "$W"/danepol*.changes "$W"/danepol*.buildinfo "$OUT"/
deb=
for f in "$OUT"/danepol_*.deb; do [ -f "$f" ] && deb=$f; done

rc=0
if command -v lintian > /dev/null; then
	lintian --info --display-info "$OUT"/danepol_*.changes > "$OUT/lintian.log" 2>&1 || true
	if grep -q '^E: ' "$OUT/lintian.log"; then
		echo "build-deb: lintian errors:" >&2
		grep '^E: ' "$OUT/lintian.log" >&2
		rc=1
	fi
	echo "build-deb: lintian: $(grep -c '^E: ' "$OUT/lintian.log") errors, $(grep -c '^W: ' "$OUT/lintian.log") warnings, $(grep -c '^I: ' "$OUT/lintian.log") info ($OUT/lintian.log)" >&2
else
	echo "build-deb: lintian not installed: not checked" >&2
fi
echo "$deb"
exit $rc
