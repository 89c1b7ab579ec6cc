# shellcheck shell=bash
# tests/lib/tap.sh - the TAP-like output and the bounded wait shared by
# the shell tests. Sourced (bash), never run; it defines functions and
# the counters pass and fail, and starts nothing.
#
#   ok DESC                    "ok N - DESC"
#   not_ok DESC [DETAIL...]    "not ok N - DESC", then "#   DETAIL" lines
#   check DESC CMD...          ok when CMD succeeds, not_ok otherwise
#   check_eq DESC GOT WANT     ok when GOT = WANT, otherwise not_ok with
#                              "want '...'" / "got  '...'" detail lines
#   check_prefix DESC GOT WANT ok when GOT starts with WANT (detail lines
#                              "want '...'" / "got  '...'")
#   check_match DESC GOT ERE   ok when GOT matches the extended regular
#                              expression ERE (grep -E)
#   py_results FILE [PREFIX]   turns the "PASS text" / "FAIL text" lines of a
#                              python helper's output FILE (a process
#                              substitution will do) into ok / not_ok
#                              "PREFIXtext", other non-empty lines into
#                              "#   line" comments
#   finish                     prints "N passed, M failed" (tools/setup.sh's
#                              summary() parses it), exits 0 or 1
#   wait_for SECONDS CMD...    polls CMD every TAP_WAIT_STEP seconds (default
#                              0.05) until it succeeds (0) or SECONDS have
#                              passed (1): a condition with a deadline,
#                              never a bare sleep
#
# A script sources it as
#   TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
#   . "$TOP_SRCDIR/tests/lib/tap.sh"
# (make check exports TOP_SRCDIR, so this works out of tree.)

pass=0 fail=0
ok() { pass=$((pass + 1)); printf 'ok %d - %s\n' $((pass + fail)) "$1"; }
not_ok() {
	fail=$((fail + 1)); printf 'not ok %d - %s\n' $((pass + fail)) "$1"
	shift; for l in "$@"; do printf '#   %s\n' "$l"; done
}
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "want '$3'" "got  '$2'"; fi; }
check_prefix() {
	case $2 in "$3"*) ok "$1" ;; *) not_ok "$1" "want '$3...'" "got  '$2'" ;; esac
}
check_match() {
	if printf '%s' "$2" | grep -qE -- "$3"; then ok "$1"; else not_ok "$1" "want /$3/" "got  '$2'"; fi
}
py_results() {
	local l
	while IFS= read -r l; do
		case $l in
		"PASS "*) ok "${2:-}${l#PASS }" ;;
		"FAIL "*) not_ok "${2:-}${l#FAIL }" ;;
		*) [ -n "$l" ] && printf '#   %s\n' "$l" ;;
		esac
	done < "$1"
}
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ] && exit 0; exit 1; }

wait_for() {
	local end=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
	until "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -ge $end ] && return 1
		sleep "${TAP_WAIT_STEP:-0.05}"
	done
}
