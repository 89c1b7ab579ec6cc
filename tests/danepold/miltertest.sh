#!/usr/bin/env bash
# tests/danepold/miltertest.sh - danepold's milter wire protocol, with
# miltertest(8) (OpenDKIM) running each tests/danepold/milter/*.lua script.
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT):
#   WORLD_DIR, FAULTDNS  the offline world and its fault responder
#   DANEPOLD             the danepold binary under test
#   TOP_SRCDIR           source tree (the scripts, doc/*.schema.json)
#
# Each script gets its own danepold config (inet socket on a free port,
# audit log, plus the script's "-- conf: key = value" lines) through MT_DANEPOLD, MT_CONF, MT_SOCKET, MT_DIR; the scripts
# run in parallel (miltertest waits ~5 s for libmilter to exit after each).
# A script reports "ok - ..." / "not ok - ..." lines, "expect rcpt|message N",
# "expect qid Q" and "expect omitted SENDER N" lines for its audit log, and
# "DONE" at its end; this runner counts them, checks the audit log (line
# counts, queue ids, message lines within their bounds, every line valid
# against doc/audit.schema.json) and the exit status.
# Ends with "N passed, M failed"; exit 0 when nothing failed, 77 when
# miltertest is not installed.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
# shellcheck source=tests/e2e/lib.sh
. "$TOP_SRCDIR/tests/e2e/lib.sh"
e2e_paths
VALIDATE=$TOP_SRCDIR/tests/e2e/validate_audit.py

if ! command -v miltertest > /dev/null; then
	echo "SKIP: miltertest not installed (tools/setup.sh deps)"
	exit 77
fi
if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR" ]; then
	echo "SKIP: WORLD_DIR unset or missing (run through make check)"
	exit 77
fi

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

e2e_init miltertest || { not_ok "temporary directory"; finish; }
[ -x "$DANEPOLD" ] || { not_ok "DANEPOLD is executable ($DANEPOLD)"; finish; }
if e2e_world; then ok "offline world and fault responder"; else not_ok "offline world and fault responder"; finish; fi

SCRIPTS=()
for f in "$HERE"/milter/*.lua; do
	case $f in */lib.lua) continue ;; esac
	SCRIPTS+=("$f")
done
declare -A MTPID
# mt_has AUDIT EVENT N: AUDIT holds at least N lines of EVENT
mt_has() {
	local got
	got=$(grep -c "\"event\":\"$2\"" "$1" 2> /dev/null)
	[ "${got:-0}" -ge "$3" ]
}

for f in "${SCRIPTS[@]}"; do
	n=$(basename "$f" .lua)
	# "-- conf: LINE" lines of a script go into its danepol.conf
	mapfile -t extra < <(sed -n 's/^-- conf: //p' "$f")
	e2e_danepold_conf "mt-$n" inet "decision_timeout = 1500ms" "${extra[@]}"
	(
		export MT_DANEPOLD=$DANEPOLD MT_CONF=$E2E_T/d-mt-$n/danepol.conf MT_DIR=$HERE/milter
		export MT_SOCKET=${E2E_DSOCK[mt-$n]}
		exec timeout 120 miltertest -s "$f"
	) > "$E2E_T/$n.out" 2> "$E2E_T/$n.err" &
	MTPID[$n]=$!
	E2E_PIDS+=("$!")
done

# miltertest stops the filter it started, unless it died itself (it aborts
# on an over-long command): then stop our danepold instances, found by
# their unique config paths under $E2E_T, from the cleanup.
# shellcheck disable=SC2317  # called from the trap
mt_cleanup() {
	local p
	for p in $(pgrep -f -- "-c $E2E_T/d-mt-" 2> /dev/null); do kill "$p" 2> /dev/null; done
	e2e_cleanup
}
trap mt_cleanup EXIT

# mt_has AUDIT EVENT N: AUDIT holds at least N lines of EVENT
mt_has() {
	local got
	got=$(grep -c "\"event\":\"$2\"" "$1" 2> /dev/null)
	[ "${got:-0}" -ge "$3" ]
}

for f in "${SCRIPTS[@]}"; do
	n=$(basename "$f" .lua)
	rc=0
	wait "${MTPID[$n]}" || rc=$?
	echo "# $n.lua"
	while IFS= read -r l; do
		case $l in
		"ok - "*) ok "$n: ${l#ok - }" ;;
		"not ok - "*) not_ok "$n: ${l#not ok - }" ;;
		"# "*) echo "$l" ;;
		esac
	done < "$E2E_T/$n.out"
	if grep -qx DONE "$E2E_T/$n.out" && [ "$rc" -eq 0 ]; then
		ok "$n: script ran to its end, miltertest exit 0"
	else
		not_ok "$n: script ran to its end, miltertest exit 0" "exit $rc" \
			"$(tail -5 "$E2E_T/$n.err")"
	fi
	A=$E2E_T/d-mt-$n/audit.log
	for ev in rcpt message; do
		want=$(sed -n "s/^expect $ev //p" "$E2E_T/$n.out")
		[ -n "$want" ] || continue
		# the last message line is written by danepold's close callback,
		# which may run just after miltertest has exited: wait for it (5 s)
		wait_for 5 mt_has "$A" "$ev" "$want"
		got=$(grep -c "\"event\":\"$ev\"" "$A" 2> /dev/null)
		if [ "${got:-0}" = "$want" ]; then ok "$n: $want $ev lines in the audit log"; else
			not_ok "$n: $want $ev lines in the audit log" "got ${got:-0}"; fi
	done
	sed -n 's/^expect qid //p' "$E2E_T/$n.out" > "$E2E_T/$n.qids"
	while IFS= read -r q; do
		if grep '"event":"message"' "$A" 2> /dev/null | grep -qF "\"queue_id\":\"$q\""; then
			ok "$n: a message line carries queue id $q"
		else
			not_ok "$n: a message line carries queue id $q"
		fi
	done < "$E2E_T/$n.qids"
	if grep -qiE 'assert|sanitizer|segmentation|double free|fatal' "$E2E_T/$n.err"; then
		not_ok "$n: danepold stderr free of crashes" "$(grep -iE 'assert|sanitizer|segmentation|double free|fatal' "$E2E_T/$n.err" | head -3)"
	fi
	# every message line within its bounds; "expect omitted SENDER N": that
	# sender's transaction had N recipients, some left out of the list
	read -r -a om <<< "$(sed -n 's/^expect omitted //p' "$E2E_T/$n.out")"
	if [ -f "$A" ] && grep -q '"event":"message"' "$A"; then
		"$VALIDATE" bounds "$A" "${om[@]}" > "$E2E_T/v.out" 2>&1
		while IFS= read -r l; do
			case $l in
			"PASS "*) ok "$n: ${l#PASS }" ;;
			"FAIL "*) not_ok "$n: ${l#FAIL }" ;;
			*) not_ok "$n: bounds check" "$l" ;;
			esac
		done < "$E2E_T/v.out"
	fi
	if python3 -c 'import jsonschema' 2> /dev/null; then
		"$VALIDATE" schema "$TOP_SRCDIR/doc" "$A" > "$E2E_T/v.out" 2>&1
		while IFS= read -r l; do
			case $l in
			"PASS "*) ok "$n: ${l#PASS }" ;;
			"FAIL "*) not_ok "$n: ${l#FAIL }" ;;
			esac
		done < "$E2E_T/v.out"
	else
		not_ok "python3-jsonschema installed (audit schema validation)"
	fi
done
finish
