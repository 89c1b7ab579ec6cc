#!/usr/bin/env bash
# tests/danepold/pg_down.sh - three danepold instances (three relays) over
# one PostgreSQL outcome_db that stops and comes back under load: a
# private PostgreSQL cluster (tests/lib/pgcluster.sh), each danepold with
# its Exim socket writing the TLS outcomes of event lines,
# outcome_queue_max = 50.
#   - database up: 20 events to each relay at once, 60 rows, each relay's
#     under its relay_name;
#   - database stopped: 70 more events to relay 1, 10 to relay 2, every
#     one answered at once; relay 1 holds 50 and drops exactly 20, relay
#     2 holds 10 and drops none, counted in the control sockets' stats,
#     the drops logged;
#   - database started again: the held rows arrive (120 in all), none
#     twice, the store reported back.
# Waiting is for conditions, with deadlines. Exit 77 (SKIP) without the
# PostgreSQL server package or the test world.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOLD=${DANEPOLD:-./danepold}
CLIENT=$TOP_SRCDIR/tests/danepold/maps_client.py

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
# shellcheck source=tests/danepold/lib.sh
. "$TOP_SRCDIR/tests/danepold/lib.sh"
# shellcheck source=tests/lib/pgcluster.sh
. "$TOP_SRCDIR/tests/lib/pgcluster.sh"
pg_bindir > /dev/null || { echo "SKIP: no PostgreSQL server (package postgresql)"; exit 77; }
dm_setup pgdown

PGDIR=$(mktemp -d /tmp/danepol-pgdown.XXXXXX) || exit 1
chmod 0755 "$PGDIR"
trap 'pg_stop "$PGDIR"; rm -rf "$PGDIR"; dm_cleanup' EXIT
pg_start "$PGDIR" || { not_ok "PostgreSQL started"; finish; }
pg_createdb "$PGDIR" danepol || { not_ok "database created"; finish; }
PG=$(pg_conninfo "$PGDIR" danepol)
rows() { pg_psql "$PGDIR" danepol "SELECT count(*) FROM outcomes WHERE source = 2" 2> /dev/null; }
pg_restart() { pg_as "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
	-o "-k $PGDIR -c listen_addresses='' -c fsync=off" start > /dev/null 2>&1; }

# three relays: danepold 1 (DPID, stopped by dm_stop), 2 and 3 (OTHERS)
for n in 1 2 3; do
	dm_conf "milter_socket = none" "exim_socket = unix:$T/ex$n.sock" \
		"control_socket = unix:$T/ctl$n.sock" "audit_log = none" "outcome_db = $PG" \
		"relay_name = relay-$n" "local_db = $T/local$n.db" "outcome_queue_max = 50" \
		"outcome_db_timeout = 1s" > "$T/d$n.conf"
done
OTHERS=()
trap 'for p in "${OTHERS[@]}"; do kill -KILL "$p" 2> /dev/null; done; pg_stop "$PGDIR"; rm -rf "$PGDIR"; dm_cleanup' EXIT
events() {	# events N FIRST LAST: Exim delivery event lines to danepold N; prints how many were answered ok
	python3 - "$CLIENT" "$T/ex$1.sock" "$1" "$2" "$3" <<'PY'
import subprocess, sys
client, sock, n, a, b = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
ok = 0
for i in range(a, b + 1):
    out = subprocess.run(["python3", client, "exline", sock,
        f"event msg:delivery domain=r{n}d{i}.example host=mx1.d{i}.example ip=127.0.0.1 cipher=TLS1.3"],
        capture_output=True, text=True, timeout=10).stdout.strip()
    ok += out == "ok"
print(ok)
PY
}
q() { QSOCK=$T/ctl$1.sock qstats "$2"; }

for n in 1 2 3; do
	: > "$T/err$n"
	"$DANEPOLD" -f -c "$T/d$n.conf" 2> "$T/err$n" &
	if [ $n = 1 ]; then DPID=$!; else OTHERS+=($!); fi
done
for n in 1 2 3; do
	wait_for 20 grep -q "danepold ready" "$T/err$n" ||
		{ not_ok "danepold $n started" "$(cat "$T/err$n")"; finish; }
done
ok "three danepold instances started over one PostgreSQL database"

t0=$(date +%s%N)
for n in 1 2 3; do events $n 1 20 > "$T/up$n" & done
wait_for 60 eval '[ "$(cat "$T"/up? 2> /dev/null | tr "\n" " ")" = "20 20 20 " ]'
check_eq "database up: 3 x 20 events at once, all answered" "$(cat "$T"/up? | tr '\n' ' ')" "20 20 20 "
t1=$(date +%s%N)
echo "# 60 event lines (3 relays at once) with the database up: $(( (t1 - t0) / 1000000 )) ms"
check "... and their 60 rows written" wait_for 20 eval '[ "$(rows)" = 60 ]'
check_eq "... each relay's 20 under its name" \
	"$(pg_psql "$PGDIR" danepol "SELECT relay || ':' || count(*) FROM outcomes GROUP BY relay ORDER BY relay" | tr '\n' ' ')" \
	"relay-1:20 relay-2:20 relay-3:20 "

pg_stop "$PGDIR"
t0=$(date +%s%N)
check_eq "database down: 70 events to relay 1, every one answered" "$(events 1 21 90)" 70
t1=$(date +%s%N)
echo "# 70 event lines with the database down: $(( (t1 - t0) / 1000000 )) ms"
check_eq "... 10 to relay 2, every one answered" "$(events 2 21 30)" 10
check "relay 1: 50 held, exactly 20 dropped, the database down" wait_for 20 eval \
	"[ \"\$(q 1 '(q[\"held\"], q[\"dropped\"], q[\"db_up\"])')\" = '(50, 20, False)' ]"
check "relay 2: 10 held, none dropped" wait_for 20 eval \
	"[ \"\$(q 2 '(q[\"held\"], q[\"dropped\"])')\" = '(10, 0)' ]"
check "relay 1 logs the drops" wait_for 20 grep -q "outcome queue full" "$T/err1"
pg_restart || not_ok "PostgreSQL restarted"
check "database back: the held rows arrive (60 + 50 + 10)" wait_for 60 eval '[ "$(rows)" = 120 ]'
check "relay 1: 0 held, 70 written, 20 dropped, up" wait_for 20 eval \
	"[ \"\$(q 1 '(q[\"held\"], q[\"written\"], q[\"dropped\"], q[\"db_up\"])')\" = '(0, 70, 20, True)' ]"
check "relay 2: 0 held, 30 written, 0 dropped, up" wait_for 20 eval \
	"[ \"\$(q 2 '(q[\"held\"], q[\"written\"], q[\"dropped\"], q[\"db_up\"])')\" = '(0, 30, 0, True)' ]"
check_eq "no row twice" "$(pg_psql "$PGDIR" danepol "SELECT count(DISTINCT policy_domain) FROM outcomes")" 120
check "relay 1 reports the store back" grep -q "reachable again" "$T/err1"
for p in "${OTHERS[@]}"; do kill -TERM "$p"; done
for p in "${OTHERS[@]}"; do wait "$p"; check "relay pid ${p}: SIGTERM exit status 0" [ $? = 0 ]; done
OTHERS=()
dm_stop
finish
