# shellcheck shell=bash
# tests/e2e/lib_exim.sh - the unpacked Exim 4.96 of the Exim tests
# (tests/e2e/exim_bridge.sh, tests/e2e/exim_sts.sh). Sourced after
# tests/lib/tap.sh, with EXIM_CACHE set (where tools/fetch-exim.sh left
# the downloaded, unpacked Exim: its "env" file names the binary).
#
#   exim_prereq        exit 77 (SKIP, with the reason) when this machine
#                      cannot run Exim: not root, no python3 or swaks, no
#                      world, no unpacked Exim, no user Debian-exim; else
#                      read EXIM_CACHE/env and check (ok/not_ok, finish on
#                      failure) that `exim -bV` reports DANE, DNSSEC, Event
#                      and Expand_dlfunc.
#   exim ARGS...       run that Exim (its libraries from the cache).
#   exim_bg ARGS...    as exim, for `exim_bg ... > OUT 2>&1 &`: the
#                      background job is Exim itself (exec), so that $! is
#                      the daemon's pid for the cleanup's kill.
#   exim_dir DIR       make DIR/spool and DIR/log, owned by Debian-exim.
#   exim_private DIR   print the main-section lines that keep an Exim
#                      private to the test: spool, logs and pid file in
#                      DIR, Debian-exim, no DNS for client names, no
#                      ident, no environment.
#
# Exim is never installed, and nothing here installs anything.

exim_prereq() {
	local c f bvconf bv sup
	PATH=$PATH:/usr/sbin:/sbin
	if [ "$(id -u)" -ne 0 ]; then echo "SKIP: not root (Exim -bh/-bd with -C and the Debian-exim user need root)"; exit 77; fi
	for c in python3 swaks; do
		command -v "$c" > /dev/null || { echo "SKIP: $c not installed (tools/setup.sh deps)"; exit 77; }
	done
	if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR" ]; then
		echo "SKIP: WORLD_DIR unset or missing (run through make check)"
		exit 77
	fi
	if [ ! -r "$EXIM_CACHE/env" ]; then
		echo "SKIP: no unpacked Exim in $EXIM_CACHE: tools/setup.sh deps (as root) fetches it (EXIM_CACHE=DIR for another place)"
		exit 77
	fi
	if ! getent passwd Debian-exim > /dev/null; then
		echo "SKIP: no user Debian-exim (the Exim binary needs it): tools/setup.sh deps (as root) creates it"
		exit 77
	fi
	# shellcheck source=/dev/null
	. "$EXIM_CACHE/env"
	bvconf=${TMPDIR:-/tmp}/exim-bv.$$
	printf 'keep_environment =\nexim_user = Debian-exim\nexim_group = Debian-exim\n' > "$bvconf"
	bv=$(LD_LIBRARY_PATH=$EXIM_LD_LIBRARY_PATH "$EXIM" -C "$bvconf" -bV 2>&1)
	rm -f "$bvconf"
	sup=$(echo "$bv" | grep '^Support for:')
	for f in DANE DNSSEC Event Expand_dlfunc; do
		case " $sup " in *" $f "*) ;; *) not_ok "$EXIM -bV reports $f" "$(echo "$bv" | head -3)"; finish ;; esac
	done
	ok "Exim 4.9x unpacked, -bV reports DANE, DNSSEC, Event, Expand_dlfunc ($EXIM)"
}

exim() { LD_LIBRARY_PATH=$EXIM_LD_LIBRARY_PATH "$EXIM" "$@"; }
exim_bg() { LD_LIBRARY_PATH=$EXIM_LD_LIBRARY_PATH exec "$EXIM" "$@"; }

exim_dir() { mkdir -p "$1/spool" "$1/log" && chown -R Debian-exim: "$1"; }

exim_private() {
	printf '%s\n' "spool_directory = $1/spool" "log_file_path = $1/log/%slog" \
		"pid_file_path = $1/exim.pid" "exim_user = Debian-exim" "exim_group = Debian-exim" \
		"never_users = root" "host_lookup =" "rfc1413_hosts =" "keep_environment ="
}
