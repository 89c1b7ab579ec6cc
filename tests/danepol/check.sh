#!/usr/bin/env bash
# tests/danepol/check.sh - `danepol check` end to end against the offline world.
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT):
#   WORLD_DIR  the signed world of tools/mkworld.sh (world.conf, root.ds,
#              fault-zones); unset or missing: the test is skipped (77)
#   FAULTDNS   the fault responder (tests/world/faultdns), prints "PORT n"
#   DANEPOL    the danepol binary under test
#   TOP_SRCDIR source tree (for doc/decision.schema.json)
#
# Asserts exit statuses (one per verdict, the maximum over several domains,
# usage 64, config 78, resolver 69), the human output (reason, SMTP reply),
# the --json lines (parse, fields, and the schema when python3-jsonschema is
# installed), hostile arguments (no crash, documented status, no raw
# control bytes on the terminal) and the decision deadline on a black-holed
# domain. Ends with "N passed, M failed"; exit 0 when nothing failed.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOL=${DANEPOL:-./danepol}
SCHEMA=$TOP_SRCDIR/doc/decision.schema.json

if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR" ]; then
	echo "SKIP: WORLD_DIR unset or missing (run through make check)"
	exit 77
fi

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/danepol-check.XXXXXX") || { echo "mktemp failed"; exit 1; }
FPID=
# shellcheck disable=SC2317  # called from the trap
cleanup() {
	if [ -n "$FPID" ]; then kill "$FPID" 2>/dev/null; wait "$FPID" 2>/dev/null; fi
	rm -rf "$T"
}
trap cleanup EXIT

# ---------------------------------------------------------------- set-up
for f in world.conf root.ds fault-zones; do
	[ -f "$WORLD_DIR/$f" ] || { not_ok "world file $f present"; finish; }
done
[ -x "${FAULTDNS:-}" ] || { not_ok "FAULTDNS is executable (${FAULTDNS:-unset})"; finish; }
[ -x "$DANEPOL" ] || { not_ok "DANEPOL is executable ($DANEPOL)"; finish; }

# Fault responder: zone=mode pairs; it prints "PORT n" once listening.
mapfile -t FAULTS < <(awk '!/^#/ && NF == 2 { print $1 "=" $2 }' "$WORLD_DIR/fault-zones")
coproc FAULT { exec "$FAULTDNS" -p 0 -s 300 "${FAULTS[@]}"; }
FPID=$FAULT_PID
PORT=
read -r -t 10 word PORT <&"${FAULT[0]}" || word=
if [ "$word" != PORT ] || [ -z "$PORT" ]; then
	not_ok "fault responder started (got '${word:-nothing}')"
	finish
fi

{
	cat "$WORLD_DIR/world.conf"
	for z in "${FAULTS[@]}"; do
		printf 'stub-zone:\n\tname: "%s."\n\tstub-addr: 127.0.0.1@%s\n' "${z%%=*}" "$PORT"
	done
} > "$T/unbound.conf"
CONF=$T/danepol.conf
cat > "$CONF" <<CONF
# danepol.conf for the offline world (tests/danepol/check.sh)
trust_anchor = $(cat "$WORLD_DIR/root.ds")
resolver_config = $T/unbound.conf
decision_timeout = 2s
# retransmission capped above the deadline: the deadline (dns-timeout),
# not libunbound giving up (SERVFAIL), ends a black-holed lookup
resolver_max_rtt = 5s
CONF
TIMEOUT_MS=2000

# run ARGS...: sets OUT, ERR, RC.
run() {
	"$DANEPOL" "$@" > "$T/out" 2> "$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# expect_rc WANT DESC ARGS...: exit status WANT, and never a signal.
expect_rc() {
	local want=$1 desc=$2
	shift 2
	run "$@"
	if [ "$RC" = "$want" ]; then
		ok "$desc: exit $want"
	else
		not_ok "$desc: exit $want" "got $RC" "stdout: ${OUT:0:400}" "stderr: ${ERR:0:400}"
	fi
}

# expect_out TEXT DESC: the last run's stdout contains TEXT.
expect_out() {
	case $OUT in
	*"$1"*) ok "$2" ;;
	*) not_ok "$2" "no '$1' in: ${OUT:0:600}" ;;
	esac
}

# expect_err TEXT DESC: the last run's stderr contains TEXT.
expect_err() {
	case $ERR in
	*"$1"*) ok "$2" ;;
	*) not_ok "$2" "no '$1' in stderr: ${ERR:0:400}" ;;
	esac
}

# ---------------------------------------------------------------- verdicts
expect_rc 0 "secure.example require" check -c "$CONF" secure.example
expect_out "secure.example: require (dane) - " "secure.example head line"
expect_out "reason: dane " "secure.example reason code"
expect_out "TLSA secure @ " "secure.example host TLSA shown"

expect_rc 1 "insecure.example try" check -c "$CONF" insecure.example
expect_out "insecure.example: try (may)" "insecure.example head line"
expect_out "reason: mx-insecure" "insecure.example reason code"

expect_rc 2 "bogus.example defer" check -c "$CONF" bogus.example
expect_out "bogus.example: defer (dane) - 450 4.7.5 " "bogus.example SMTP reply in the head line"
expect_out "reason: mx-dnssec-bogus" "bogus.example reason code"

expect_rc 3 "nullmx.example reject" check -c "$CONF" nullmx.example
expect_out "556 5.1.10 " "nullmx.example SMTP reply"
expect_out "reason: null-mx" "nullmx.example reason code"

expect_rc 1 "max(require, try)" check -c "$CONF" secure.example insecure.example
expect_rc 2 "max(require, defer, try)" check -c "$CONF" secure.example bogus.example insecure.example
expect_rc 3 "max(reject, defer, require)" check -c "$CONF" nullmx.example bogus.example secure.example
expect_rc 2 "options after domains" check secure.example --no-cache -c "$CONF" bogus.example
# issue 13: head lines keep the next hop's brackets and port
run check -c "$CONF" '[mx1.secure.example]:2525' secure.example:587 '[mx1.secure.example]:25'
expect_out "[mx1.secure.example]:2525: " "head line keeps brackets and a port"
expect_out "secure.example:587: " "head line keeps a port"
expect_out "[mx1.secure.example]: require (dane) - " "head line keeps brackets (port 25: smtp_port, not shown)"

# ---------------------------------------------------------------- JSON
JDOMAINS=(secure.example insecure.example bogus.example nullmx.example cname.example
	mixed.example unusable.example implicit.example nx.example tlsabogus.example
	'[127.0.0.1]' '' 'a..b' $'\xff\xfe.example' secure.example)
run check -c "$CONF" --json "${JDOMAINS[@]}"
cp "$T/out" "$T/all.jsonl"
if [ "$RC" = 3 ]; then ok "--json: exit 3"; else not_ok "--json: exit 3" "got $RC" "${ERR:0:400}"; fi

if ! command -v python3 > /dev/null; then
	not_ok "python3 available for the JSON checks"
else
	# One line per domain, each an object; print "domain verdict reason reply cache".
	if python3 - "$T/all.jsonl" ${#JDOMAINS[@]} > "$T/fields" 2> "$T/perr" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="ascii").read().split("\n")
assert lines[-1] == "", "output does not end with a newline"
lines = lines[:-1]
assert len(lines) == int(sys.argv[2]), "%d lines for %s domains" % (len(lines), sys.argv[2])
for l in lines:
    o = json.loads(l)
    assert isinstance(o, dict)
    print("\t".join(str(x) for x in (o["domain"], o["verdict"], o["reason"],
        o["smtp_reply"], o.get("cache_hit"))))
PY
	then
		ok "--json: one parseable object per line"
	else
		not_ok "--json: one parseable object per line" "$(cat "$T/perr")"
	fi
	field() { awk -F'\t' -v n="$1" -v f="$2" 'NR == n { print $f }' "$T/fields"; }
	check_field() {
		local got
		got=$(field "$1" "$2")
		if [ "$got" = "$3" ]; then ok "$4"; else not_ok "$4" "want '$3', got '$got'"; fi
	}
	check_field 1 2 require "json secure.example verdict"
	check_field 1 4 None "json secure.example smtp_reply null"
	check_field 1 5 False "json secure.example first call not cached"
	check_field 3 3 mx-dnssec-bogus "json bogus.example reason"
	case $(field 3 4) in
	"450 4.7.5 "*"bogus.example"*) ok "json bogus.example smtp_reply" ;;
	*) not_ok "json bogus.example smtp_reply" "got '$(field 3 4)'" ;;
	esac
	check_field 4 2 reject "json nullmx.example verdict"
	check_field 11 3 address-literal "json [127.0.0.1] reason"
	check_field 12 3 invalid-domain "json '' reason"
	check_field 13 3 invalid-domain "json a..b reason"
	check_field 14 3 invalid-domain "json non-UTF-8 name reason"
	check_field 15 5 True "json secure.example second call from the cache"

	if python3 -c 'import jsonschema' 2> /dev/null; then
		if python3 - "$SCHEMA" "$T/all.jsonl" > "$T/serr" 2>&1 <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = 0
for n, l in enumerate(open(sys.argv[2]), 1):
    for e in v.iter_errors(json.loads(l)):
        bad += 1
        print("line %d: %s: %s" % (n, "/".join(str(p) for p in e.absolute_path), e.message))
sys.exit(1 if bad else 0)
PY
		then
			ok "--json: every line valid against doc/decision.schema.json"
		else
			not_ok "--json: every line valid against doc/decision.schema.json" "$(head -20 "$T/serr")"
		fi
	else
		echo "# skipped the schema check: python3-jsonschema is not installed"
	fi
fi

run check -c "$CONF" --json --no-cache secure.example secure.example
case $OUT in
*'"cache_hit":true'*) not_ok "--no-cache: never from the cache" "${OUT:0:300}" ;;
*'"cache_hit":false'*) ok "--no-cache: never from the cache" ;;
*) not_ok "--no-cache: never from the cache" "no cache_hit in ${OUT:0:300}" ;;
esac

# ---------------------------------------------------------------- hostile arguments
LONG=$(printf 'a%.0s' {1..63}).$(printf 'b%.0s' {1..63}).$(printf 'c%.0s' {1..63}).$(printf 'd%.0s' {1..63}).$(printf 'e%.0s' {1..44})
expect_rc 2 "'' is an invalid domain" check -c "$CONF" ''
expect_out "invalid-domain" "'' reason shown"
expect_rc 2 "'a..b' is an invalid domain" check -c "$CONF" 'a..b'
expect_out "reason: invalid-domain" "'a..b' reason shown"
expect_rc 2 "${#LONG}-character name is an invalid domain" check -c "$CONF" "$LONG"
expect_rc 1 "'bücher.example' decided as its A-label" check -c "$CONF" 'bücher.example'
expect_out "xn--bcher-kva.example" "'bücher.example' shown as xn--bcher-kva.example"
expect_rc 1 "'[127.0.0.1]' address literal: try" check -c "$CONF" '[127.0.0.1]'
expect_out "address-literal" "'[127.0.0.1]' reason shown"
expect_rc 64 "'-x' is an unknown option" check -c "$CONF" -x
expect_err "unknown option" "'-x' diagnosed"
expect_rc 2 "'-- -x' is an invalid domain" check -c "$CONF" -- -x
expect_rc 2 "escape sequence in a name" check -c "$CONF" $'\e[31mred\e[0m.example' $'a\nb'
if grep -q $'\e' "$T/out"; then
	not_ok "no raw control bytes on stdout" "$(od -c "$T/out" | head -5)"
else
	ok "no raw control bytes on stdout"
fi
expect_rc 2 "brackets, ports and dots" check -c "$CONF" '[' ']' '[]' 'x:0' 'x:99999' '..' \
	'[IPv6:::1' 'secure.example:' '-' '*.example' 'a b' '[secure.example]x'
for arg in '.' '[secure.example]' 'secure.example.' 'SECURE.Example' 'secure.example:2525' \
	'[IPv6:::1]' "$LONG.x" "$(printf 'x.%.0s' {1..130})"; do
	run check -c "$CONF" "$arg"
	if [ "$RC" -le 3 ] && [ -n "$OUT" ]; then
		ok "'${arg:0:40}' decided (exit $RC)"
	else
		not_ok "'${arg:0:40}' decided" "exit $RC" "${ERR:0:300}"
	fi
done

# ---------------------------------------------------------------- usage
expect_rc 64 "no command" -c "$CONF"
expect_rc 64 "unknown command" -c "$CONF" frobnicate
expect_err "unknown command" "unknown command diagnosed"
expect_rc 64 "check without a domain" check -c "$CONF"
expect_rc 64 "--timeout not a number" check -c "$CONF" --timeout abc secure.example
expect_rc 64 "--timeout out of range" check -c "$CONF" --timeout 5 secure.example
expect_rc 64 "-c without an argument" check -c
expect_rc 0 "help" help
expect_out "check" "help lists check"
expect_rc 0 "check --help" check --help
# issue 13: `help COMMAND` and `COMMAND --help` for every command help lists
run help
CMDS=$(printf '%s\n' "$OUT" | awk '/^commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && /^$/ { exit }')
[ -n "$CMDS" ] || not_ok "help lists commands" "${OUT:0:300}"
for c in $CMDS; do
	expect_rc 0 "help $c" help "$c"
	expect_out "usage: danepol $c " "help $c prints the usage of $c"
	h=$OUT
	expect_rc 0 "$c --help" "$c" --help
	check_eq "$c --help prints the same usage as help $c" "$OUT" "$h"
done
expect_rc 64 "help of an unknown command" help chekc
expect_err "unknown command: chekc (did you mean check?)" "an unknown command suggests the closest one"
expect_rc 64 "a mistyped command" prboe secure.example
expect_err "unknown command: prboe (did you mean probe?)" "... also when run"
# one meaning per short option: -n is report's --dry-run, never check's --no-cache
expect_rc 64 "check -n (no short form of --no-cache)" check -c "$CONF" -n secure.example
expect_err "check: unknown option -n: --no-cache has no short form" "check -n says why"
# every "  -X, --long" (or "  -X ARG") line of the three usages: one meaning per -X
for c in check probe report; do "$DANEPOL" help "$c"; done |
	sed -n 's/^  \(-[a-zA-Z]\), \(--[a-z-]*\).*/\1 \2/p; s/^  \(-[a-zA-Z]\) \([A-Z]*\).*/\1 \2/p' |
	sort -u > "$T/shorts"
check_eq "usages list short options" "$([ -s "$T/shorts" ] && echo yes)" yes
check_eq "each short option has one meaning across check, probe, report" \
	"$(awk '{ print $1 }' "$T/shorts" | uniq -d | tr '\n' ' ')" ""

# ---------------------------------------------------------------- configuration
printf '# broken\ndecision_timeout = 2s\nno_such_key = 1\n' > "$T/broken.conf"
expect_rc 78 "unknown key in the config" check -c "$T/broken.conf" secure.example
expect_err "danepol: error: $T/broken.conf:3:" "config error names file:line"
printf 'decision_timeout = soon\n' > "$T/badvalue.conf"
expect_rc 78 "bad value in the config" check -c "$T/badvalue.conf" secure.example
expect_err "$T/badvalue.conf:1:" "bad value names file:line"
expect_rc 78 "missing config file" check -c "$T/does-not-exist.conf" secure.example
expect_rc 78 "global -c with a broken config" -c "$T/broken.conf" check secure.example
printf 'trust_anchor_file = %s\nresolver_config = %s\n' "$T/no-such-root.key" "$T/unbound.conf" > "$T/noanchor.conf"
expect_rc 69 "unreadable trust anchor: resolver unavailable" check -c "$T/noanchor.conf" secure.example
expect_err "danepol: error:" "resolver start-up error diagnosed"
printf 'trust_anchor = . IN DS 1 8 2 00\nresolver_config = %s\n' "$T/unbound.conf" > "$T/badanchor.conf"
expect_rc 78 "a trust anchor that validates nothing is a configuration error" \
	check -c "$T/badanchor.conf" secure.example
expect_err 'danepol: error: trust anchor ". IN DS 1 8 2 00" does not validate the DNSKEY of . (bogus:' \
	"the bad anchor is named with libunbound's reason"
printf 'trust_anchor_file = %s/root.key\nresolver_config = %s\n' "$WORLD_DIR" "$T/unbound.conf" > "$T/fileanchor.conf"
expect_rc 0 "the world's root.key as trust_anchor_file validates" check -c "$T/fileanchor.conf" secure.example

# ---------------------------------------------------------------- deadline
t0=$(date +%s%N)
expect_rc 2 "blackhole.example defers" check -c "$CONF" blackhole.example
ms=$((($(date +%s%N) - t0) / 1000000))
expect_out "reason: dns-timeout" "blackhole.example reason dns-timeout"
if [ "$ms" -le $((TIMEOUT_MS + 1000)) ]; then
	ok "blackhole.example decided in ${ms} ms (bound $((TIMEOUT_MS + 1000)))"
else
	not_ok "blackhole.example decided within $((TIMEOUT_MS + 1000)) ms" "took ${ms} ms"
fi
t0=$(date +%s%N)
expect_rc 2 "blackhole.example with --timeout 500" check -c "$CONF" --timeout 500 blackhole.example
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$ms" -le 1500 ]; then
	ok "--timeout 500 decided in ${ms} ms (bound 1500)"
else
	not_ok "--timeout 500 decided within 1500 ms" "took ${ms} ms"
fi

finish
