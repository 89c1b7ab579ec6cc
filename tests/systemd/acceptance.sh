#!/usr/bin/env bash
# tests/systemd/acceptance.sh - the Debian package on a real, booted
# systemd with Debian's stock Postfix (issue 13). Not in make check (it
# builds a package and boots a container: about 2-3 minutes); run by
# tools/setup.sh test after the suite (ACCEPTANCE=no skips it).
#
#   tests/systemd/acceptance.sh [BUILD_DIR]     (as root; BUILD_DIR default ./build)
#
# Environment: DEB=FILE takes that .deb instead of building one from the
# tree with tools/build-deb.sh; ACCEPT_KEEP=1 keeps the temporary
# directory (its path is printed); ACCEPT_TIMEOUT (default 240) bounds the
# container's whole run in seconds.
#
# Design. The container's root is an overlay of the host's / (read-only
# lower layer: this machine's own Debian 12 with its Postfix, unbound,
# swaks, ... installed by tools/setup.sh deps) with a tmpfs upper layer,
# so nothing the container does reaches the host. systemd-nspawn boots
# it (-b: systemd 252 as PID 1, journald, sysusers, tmpfiles) in a
# private network (--private-network: only lo), unregistered (this host
# runs no machined). Into the upper layer go, before the boot: masks for
# the host's services the test does not want (unbound and postgresql
# would take ports and time, timers and gettys), and one oneshot unit,
# danepol-acceptance.service, that runs tests/systemd/acceptance_inside.sh
# once the system is up, writes its TAP lines to a directory bound from
# the host (--bind) and powers the container off. This script then reads
# those lines. The inside script reuses the offline world
# (tools/mkworld.sh's, from BUILD_DIR) and tests/e2e/lib_delivery.sh's
# helpers; what it asserts is described at its head.
#
# Prints "N passed, M failed" (tools/setup.sh's summary counts it in the
# log it keeps, BUILD_DIR/tests/acceptance.log) and "acceptance: N passed,
# M failed" last;
# exit 0/1, 77 (SKIP, with the reason) when the container cannot boot
# here: not root, no systemd-nspawn, no overlayfs.
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$TOP/build}" && pwd) || { echo "acceptance: no build directory ${1:-$TOP/build}"; exit 1; }
TIMEOUT=${ACCEPT_TIMEOUT:-240}
PATH=$PATH:/usr/sbin:/sbin

skip() { echo "SKIP: $*"; echo "acceptance: 0 passed, 0 failed, 1 skipped"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root (mounts, systemd-nspawn)"
command -v systemd-nspawn > /dev/null || skip "systemd-nspawn not installed (systemd-container; tools/setup.sh deps)"
[ -x /lib/systemd/systemd ] || skip "no /lib/systemd/systemd to boot"
grep -qw overlay /proc/filesystems || modprobe overlay 2> /dev/null ||
	grep -qw overlay /proc/filesystems || skip "no overlayfs in this kernel"

t0=$(date +%s)
T=$(mktemp -d /tmp/danepol-accept.XXXXXX) || exit 1
chmod 755 "$T"
cleanup() {
	set +e
	mountpoint -q "$T/root" && umount "$T/root"
	mountpoint -q "$T/ovl" && umount "$T/ovl"
	if [ -n "${ACCEPT_KEEP:-}" ]; then echo "acceptance: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. The package: DEB, or built from the tree (clean copy of its tracked files).
if [ -z "${DEB:-}" ]; then
	echo "acceptance: building the package (tools/build-deb.sh)"
	DEB=$("$TOP/tools/build-deb.sh" "$T/deb") || { echo "acceptance: package build failed"; echo "acceptance: 0 passed, 1 failed"; exit 1; }
fi
[ -f "$DEB" ] || { echo "acceptance: no package $DEB"; echo "acceptance: 0 passed, 1 failed"; exit 1; }
DEB=$(cd "$(dirname "$DEB")" && pwd)/$(basename "$DEB")
t1=$(date +%s)

# 2. The offline world of this build (as the e2e tests use it).
make -s -C "$BUILD" tests/world/faultdns tests/world/out/.stamp > /dev/null ||
	{ echo "acceptance: cannot build the test world in $BUILD"; echo "acceptance: 0 passed, 1 failed"; exit 1; }

# 3. The container's root: overlay of / with a tmpfs upper layer.
mkdir -p "$T/ovl" "$T/root" "$T/out"
mount -t tmpfs -o size=1g,mode=755 danepol-accept "$T/ovl" || skip "cannot mount a tmpfs"
mkdir -p "$T/ovl/upper" "$T/ovl/work"
mount -t overlay danepol-accept -o "lowerdir=/,upperdir=$T/ovl/upper,workdir=$T/ovl/work" "$T/root" ||
	skip "cannot mount an overlay of /"
R=$T/root
# Services of the host the test does not want inside.
for u in unbound.service unbound-resolvconf.service postgresql.service e2scrub_reap.service \
	systemd-timesyncd.service getty@tty1.service console-getty.service apt-daily.timer \
	apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer man-db.timer; do
	ln -sf /dev/null "$R/etc/systemd/system/$u"
done
# No leftovers of an installed danepol or a Postfix configuration of the
# host: the container starts from Debian's stock set-up (the inside script
# writes it).
rm -rf "$R/etc/danepol" "$R/var/lib/danepol" "$R/var/log/danepol" "$R/var/spool/postfix/danepol"
# The container mounts its own /tmp: the package and the world go into
# the upper layer (/srv/danepol-accept), the tree is bound read-only at
# its own path.
A=/srv/danepol-accept
mkdir -p "$R$A"
if ! cp "$DEB" "$R$A/" || ! cp -r "$BUILD/tests/world/out" "$R$A/world" ||
	! cp "$BUILD/tests/world/faultdns" "$R$A/faultdns"; then
	echo "acceptance: cannot copy the package and the world"; echo "acceptance: 0 passed, 1 failed"; exit 1
fi
sed -i "s|$(cd "$BUILD/tests/world/out" && pwd -P)/|$A/world/|g; s|$BUILD/tests/world/out/|$A/world/|g" "$R$A/world/world.conf"
cat > "$R/etc/systemd/system/danepol-acceptance.service" <<UNIT
[Unit]
Description=danepol acceptance test (tests/systemd/acceptance_inside.sh)
After=multi-user.target
[Service]
Type=oneshot
Environment=TOP_SRCDIR=$TOP WORLD_DIR=$A/world FAULTDNS=$A/faultdns DEB=$A/$(basename "$DEB")
ExecStart=/usr/bin/timeout -k 5 $((TIMEOUT - 60)) /bin/bash $TOP/tests/systemd/acceptance_inside.sh
StandardOutput=append:/acceptance/tap.log
StandardError=append:/acceptance/stderr.log
TimeoutStartSec=infinity
ExecStopPost=/bin/sh -c 'date "+inside: stopped %%T" >&2; journalctl -b --no-pager > /acceptance/journal.log 2>&1; systemctl poweroff --no-block'
UNIT
mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
ln -sf ../danepol-acceptance.service "$R/etc/systemd/system/multi-user.target.wants/danepol-acceptance.service"

# 4. Boot it; the unit powers it off when done.
echo "acceptance: booting the container (systemd-nspawn -b, private network)"
# Bounded: TIMEOUT in all; and once the inside unit has stopped, the
# shutdown gets 30 s more (a stuck stop job must not eat the budget).
timeout -k 10 "$TIMEOUT" systemd-nspawn -q -D "$R" --private-network --register=no --keep-unit \
	--console=passive --bind="$T/out:/acceptance" --bind-ro="$TOP" --machine=danepol-accept \
	-b systemd.firstboot=off systemd.show_status=1 > "$T/out/boot.log" 2>&1 &
npid=$!
stopped_at=
while kill -0 "$npid" 2> /dev/null; do
	if [ -z "$stopped_at" ] && grep -q '^inside: stopped' "$T/out/stderr.log" 2> /dev/null; then
		stopped_at=$(date +%s)
	fi
	if [ -n "$stopped_at" ] && [ $(($(date +%s) - stopped_at)) -ge 30 ]; then
		echo "# the container did not power off within 30 s of the test's end: terminated" >> "$T/out/boot.log"
		pkill -TERM -P "$npid" 2> /dev/null; sleep 1; pkill -TERM -P "$npid" 2> /dev/null
		break
	fi
	sleep 0.5
done
wait "$npid"
nrc=$?
t2=$(date +%s)

# 5. Results.
if [ -s "$T/out/tap.log" ]; then
	grep -v '^[0-9]* passed, [0-9]* failed$' "$T/out/tap.log"
else
	echo "not ok - the test inside the container wrote no results (nspawn exit $nrc)"
	tail -30 "$T/out/boot.log" | sed 's/^/#   /'
fi
[ -s "$T/out/stderr.log" ] && sed 's/^/# stderr: /' "$T/out/stderr.log" | tail -20
[ "$nrc" -eq 124 ] && echo "not ok - the container ran longer than ${TIMEOUT}s (killed)"
pass=$(grep -c '^ok ' "$T/out/tap.log" 2> /dev/null)
fail=$(grep -c '^not ok ' "$T/out/tap.log" 2> /dev/null)
[ -s "$T/out/tap.log" ] || fail=$((fail + 1))
[ "$nrc" -eq 124 ] && fail=$((fail + 1))
grep -q '^[0-9]* passed, [0-9]* failed' "$T/out/tap.log" 2> /dev/null || {
	[ -s "$T/out/tap.log" ] && { echo "not ok - the inside script did not finish"; fail=$((fail + 1)); }
}
echo "timing: package $((t1 - t0))s, container $((t2 - t1))s, total $((t2 - t0))s"
echo "$pass passed, $fail failed"
echo "acceptance: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
