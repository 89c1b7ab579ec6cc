# shellcheck shell=bash
# tests/danepol/lib_ns.sh - the common start of the danepol tests against
# real servers in a private namespace (probe.sh, selfcheck.sh). Source it
# first thing, without arguments: it uses the script's $0 and "$@".
#
# It sources tests/e2e/lib_delivery.sh (and with it tests/e2e/lib.sh),
# sets the e2e paths, TOP and TLSSERV (tests/danepol/tlsserv next to
# DANEPOL), re-executes the script under `unshare -mn`
# (dl_netns_reexec: exits 77 when that is impossible), then sources
# tests/lib/tap.sh and exits 77 when e2e_skip_reason has one.
# dn_need CMD...: exit 77 naming the first CMD that is not installed.
# dn_built FILE...: exit 77 naming the first FILE that is not executable.

TOP=${TOP_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/e2e/lib_delivery.sh
. "$TOP/tests/e2e/lib_delivery.sh"
e2e_paths
TLSSERV=${TLSSERV:-$(dirname "${DANEPOL:-./danepol}")/tests/danepol/tlsserv}
export TLSSERV

PATH=$PATH:/usr/sbin:/sbin
dl_netns_reexec "$0" "$@" || exit $?

# shellcheck source=tests/lib/tap.sh
. "$TOP/tests/lib/tap.sh"
if why=$(e2e_skip_reason); then echo "SKIP: $why"; exit 77; fi

dn_need() {
	local c
	for c in "$@"; do
		command -v "$c" > /dev/null || { echo "SKIP: $c not installed (tools/setup.sh deps)"; exit 77; }
	done
}

dn_built() {
	local b
	for b in "$@"; do
		[ -x "$b" ] || { echo "SKIP: $b not built"; exit 77; }
	done
}
