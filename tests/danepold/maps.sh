#!/usr/bin/env bash
# tests/danepold/maps.sh - danepold's socketmap (Postfix smtp_tls_policy_maps)
# and Exim (${readsocket}) sockets: the protocols through
# tests/danepold/maps_client.py, the audit lines against
# doc/audit.schema.json, a reload changing an answer, 50 concurrent
# connections, and danepold without a milter socket (milter_socket = none).
# No MTA, no network: the offline world of tools/mkworld.sh plus the fault
# responder for its black-holed zones.
#
# Environment (make check): WORLD_DIR, FAULTDNS, DANEPOLD, TOP_SRCDIR.
# Skipped (77) without the world or python3. Waiting is always for a
# condition (a log line, a socket, a process ending), polled with a
# deadline - never a bare sleep.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOLD=${DANEPOLD:-./danepold}
CLIENT=$TOP_SRCDIR/tests/danepold/maps_client.py

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
# shellcheck source=tests/danepold/lib.sh
. "$TOP_SRCDIR/tests/danepold/lib.sh"
dm_setup maps	# $T, the world and its fault responder

SM=$T/socketmap.sock EX=$T/exim.sock
: > "$T/policy"
# write_conf FILE MILTER_SOCKET [EXTRA LINE]
write_conf() {
	dm_conf "milter_socket = $2" "socketmap_socket = unix:$SM" "exim_socket = unix:$EX" \
		"policy_table = $T/policy" "audit_log = $T/audit.log" \
		"outcome_db = ${OUTDB:-$T/outcomes.db}" "${3:-}" > "$1"
}
CONF=$T/danepold.conf
# outcomes DB: the Exim outcomes (source 2) in that SQLite file
outcomes() {
	python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM outcomes WHERE source = 2").fetchone()[0])' "$1" 2> /dev/null
}

# ---------------------------------------------------------- check mode
write_conf "$T/none.conf" none "socketmap_socket = none
exim_socket = none"
sed -i '/^socketmap_socket = unix/d; /^exim_socket = unix/d' "$T/none.conf"
"$DANEPOLD" -n -c "$T/none.conf" > /dev/null 2> "$T/e"; rc=$?
check "no socket at all: exit 78 naming the file" \
	eval "[ $rc = 78 ] && grep -q '$T/none.conf: .*all none' '$T/e'"

# exim_socket writes Exim's TLS outcomes to outcome_db: a store that
# cannot be opened is a start-up error naming it, not a warning and an
# empty store (issue 11). -n checks it when run as the daemon's user.
mkdir -m 0555 "$T/ro"
OUTDB=$T/ro/outcomes.db write_conf "$T/ro.conf" none
RUNAS=()
[ -n "$USERLINE" ] && RUNAS=(runuser -u nobody --)
"${RUNAS[@]}" "$DANEPOLD" -n -c "$T/ro.conf" > /dev/null 2> "$T/e"; rc=$?
check "-n as the daemon's user: unwritable outcome_db with exim_socket is exit 71 with reason and remedy" \
	eval "[ $rc = 71 ] && grep -q 'outcome_db $T/ro/outcomes.db: cannot be created in $T/ro: Permission denied; needed by exim_socket .*StateDirectory=danepol.*outcome_db = none' '$T/e'"
timeout 30 "$DANEPOLD" -f -c "$T/ro.conf" > /dev/null 2> "$T/e"; rc=$?
check "start-up: unwritable outcome_db with exim_socket is exit 71 with reason, never ready" \
	eval "[ $rc = 71 ] && grep -q 'error: outcome_db $T/ro/outcomes.db: cannot be created' '$T/e' && ! grep -q 'danepold ready' '$T/e'"
OUTDB=none write_conf "$T/nodb.conf" none
"${RUNAS[@]}" "$DANEPOLD" -n -c "$T/nodb.conf" > /dev/null 2> "$T/e"; rc=$?
check "-n: outcome_db = none with exim_socket is fine (no outcomes, by choice)" [ $rc = 0 ]

# ------------------------------------------------------------ start-up
write_conf "$CONF" none
: > "$T/err"
"$DANEPOLD" -f -c "$CONF" 2> "$T/err" & DPID=$!
if ! wait_for 20 grep -q "danepold ready" "$T/err"; then
	not_ok "danepold (milter_socket = none) logs 'danepold ready'" "$(cat "$T/err")"; finish
fi
ok "danepold (milter_socket = none) logs 'danepold ready'"
check "the socketmap socket has mode 0660" [ "$(stat -c %a "$SM")" = 660 ]
check "the Exim socket has mode 0660" [ "$(stat -c %a "$EX")" = 660 ]
[ -n "$USERLINE" ] && check "... and belongs to the unprivileged user" \
	[ "$(stat -c %U "$SM")" = nobody ]

client sockmap "$SM"
client exim "$EX"
client many "$SM" "$EX" 50

# --------------------------------------------------------------- audit
python3 "$TOP_SRCDIR/tests/e2e/validate_audit.py" schema "$TOP_SRCDIR/doc" "$T/audit.log" > "$T/py.out" 2>&1; rc=$?
if grep -q "ModuleNotFoundError\|No module named" "$T/py.out"; then
	echo "# python3-jsonschema missing: schema check skipped"
else
	check "every audit line is valid against doc/audit.schema.json" [ $rc = 0 ]
	[ $rc = 0 ] || sed 's/^/#   /' "$T/py.out"
fi
check "socketmap queries are audited" [ "$(count '"event":"socketmap"' "$T/audit.log")" -ge 120 ]
check "the socketmap audit line of secure.example" \
	grep -q '"event":"socketmap",.*"key":"secure.example","reply":"OK dane-only",.*"decision":{"domain":"secure.example",' "$T/audit.log"
check "each of the 6000 pipelined requests has its audit line (their lines are written in batches)" \
	[ "$(count '"event":"socketmap","time":"[^"]*","map":"tlspolicy","key":".x[0-9]*.example","reply":"NOTFOUND "' "$T/audit.log")" = 5994 ]
check "parent-domain lookups are audited with a null decision" \
	grep -q '"key":".secure.example","reply":"NOTFOUND ",.*"decision":null}$' "$T/audit.log"
check "Exim queries are audited" \
	grep -q '"event":"exim-query",.*"request":"rcpt user@secure.example","destination":"secure.example"' "$T/audit.log"
check "Exim events are audited with their fields" \
	grep -q '"event":"exim","name":"msg:delivery",.*"fields":{"domain":"secure.example","host":"mx1 \\"q\\" \\\\","ip":"127.0.0.1"}' "$T/audit.log"

# -------------------------------------------------------------- reload
check "before the reload: insecure.example -> OK may" \
	[ "$(python3 "$CLIENT" query "$SM" insecure.example)" = "OK may" ]
printf 'insecure.example dane-only\nsecure.example encrypt\n' > "$T/policy"
r0=$(count "configuration reloaded" "$T/err")
kill -HUP "$DPID"
check "SIGHUP reloads" wait_for 10 eval "[ \$(count 'configuration reloaded' '$T/err') -gt $r0 ]"
r=$(python3 "$CLIENT" query "$SM" insecure.example)
check "after the reload: insecure.example -> TEMP (dane-only, no DANE)" \
	eval "case '$r' in 'TEMP '*) true;; *) false;; esac"
check "after the reload: secure.example -> OK encrypt" \
	[ "$(python3 "$CLIENT" query "$SM" secure.example)" = "OK encrypt" ]

# ----------------------------------------------------------------- stop
dm_stop
check "the socket files are removed at exit" eval "[ ! -e '$SM' ] && [ ! -e '$EX' ]"
check "the Exim event's TLS outcome is in outcome_db (queued, written at the latest at stop)" \
	[ "$(outcomes "$T/outcomes.db")" = 1 ]

# ------------------------------- outcome_db down: danepold starts, decides
# Decisions never wait for the outcome store: with an outcome_db that
# cannot be opened yet (writable, but not a database), danepold starts,
# answers, holds the outcome of an event line, and writes it once the
# file is usable (the queue's writer retries with backoff).
mkdir -m 0777 "$T/down"
echo "not a database" > "$T/down/outcomes.db"
chmod 0666 "$T/down/outcomes.db"
OUTDB=$T/down/outcomes.db write_conf "$T/down.conf" none "control_socket = unix:$T/control.sock"
: > "$T/err"
"$DANEPOLD" -f -c "$T/down.conf" 2> "$T/err" & DPID=$!
if wait_for 20 grep -q "danepold ready" "$T/err"; then
	ok "danepold starts while outcome_db cannot be opened"
	check "... and answers decisions" \
		[ "$(python3 "$CLIENT" query "$SM" secure.example)" = "OK encrypt" ]	# the policy table of the reload above
	check "an Exim event line is answered at once" [ "$(python3 "$CLIENT" exline "$EX" \
		'event msg:delivery domain=secure.example host=mx1.secure.example ip=127.0.0.1 cipher=TLS1.3')" = ok ]
	check "the writer logs the store unreachable once, the outcome held" \
		wait_for 20 grep -q "outcome store $T/down/outcomes.db unreachable: .*(1 now, at most 100000)" "$T/err"
	check_eq "stats: 1 held of 100000, 0 written, the database down" \
		"$(qstats '(q["held"], q["max"], q["written"], q["dropped"], q["db_up"])')" "(1, 100000, 0, 0, False)"
	rm -f "$T/down/outcomes.db"	# the database is back
	check "the writer logs it back with the number waiting" \
		wait_for 40 grep -q "outcome store $T/down/outcomes.db reachable again: 1 outcome waiting" "$T/err"
	check "... and the held outcome is written" \
		wait_for 20 eval "[ \"\$(outcomes '$T/down/outcomes.db')\" = 1 ]"
	check "the store was reported unreachable once, not per retry" \
		[ "$(count "outcomes are held in memory" "$T/err")" = 1 ]
	# the row commits before the counters move: waited for
	check "stats: 0 held, 1 written, the database up" wait_for 10 eval \
		"[ \"\$(qstats '(q[\"held\"], q[\"written\"], q[\"dropped\"], q[\"rejected\"], q[\"db_up\"])')\" = '(0, 1, 0, 0, True)' ]"
	dm_stop
else
	not_ok "danepold starts while outcome_db cannot be opened" "$(cat "$T/err")"
fi

# ------------------------------- with a milter, and a stale socket file
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SM"
# as an earlier danepold leaves it: the user's (the probe runs as the user)
[ -n "$USERLINE" ] && chown nobody "$SM"
write_conf "$CONF" "unix:$T/milter.sock"
: > "$T/err"
"$DANEPOLD" -f -c "$CONF" 2> "$T/err" & DPID=$!
if wait_for 20 grep -q "danepold ready" "$T/err"; then
	ok "danepold with all three sockets starts over a stale socket file"
	check "the stale file was reported" grep -q "removed a stale socket file" "$T/err"
	check "socketmap answers next to the milter" \
		[ "$(python3 "$CLIENT" query "$SM" secure.example)" = "OK encrypt" ]
	"$DANEPOLD" -f -c "$CONF" > /dev/null 2> "$T/e2"; rc=$?
	check "a second instance refuses the live sockets (exit 71)" eval "[ $rc = 71 ]"
	kill -TERM "$DPID"; wait "$DPID"; rc=$?; DPID=
	check "stopped with status 0" [ $rc = 0 ]
else
	not_ok "danepold with all three sockets" "$(cat "$T/err")"
fi
finish
