#!/usr/bin/env bash
# tests/danepold/pg_down.sh - danepold over a PostgreSQL outcome_db that
# stops and comes back under load: a private PostgreSQL cluster
# (tests/lib/pgcluster.sh), danepold with its Exim socket writing the TLS
# outcomes of event lines, outcome_queue_max = 50.
#   - database up: 20 events, 20 rows under danepold's relay_name;
#   - database stopped: 70 more events, every one answered at once; the
#     queue holds 50 and drops exactly 20, counted in the control
#     socket's stats, and logged;
#   - database started again: the 50 held rows arrive (70 in all), none
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

EX=$T/exim.sock
dm_conf "milter_socket = none" "exim_socket = unix:$EX" "control_socket = unix:$T/control.sock" \
	"audit_log = none" "outcome_db = $PG" "relay_name = relay-one" "local_db = $T/local.db" \
	"outcome_queue_max = 50" "outcome_db_timeout = 1s" > "$T/danepold.conf"
events() {	# events FIRST LAST: one Exim delivery event line each; prints how many were answered ok
	python3 - "$CLIENT" "$EX" "$1" "$2" <<'PY'
import subprocess, sys
client, sock, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
n = 0
for i in range(a, b + 1):
    out = subprocess.run(["python3", client, "exline", sock,
        f"event msg:delivery domain=d{i}.example host=mx1.d{i}.example ip=127.0.0.1 cipher=TLS1.3"],
        capture_output=True, text=True, timeout=10).stdout.strip()
    n += out == "ok"
print(n)
PY
}

: > "$T/err"
"$DANEPOLD" -f -c "$T/danepold.conf" 2> "$T/err" & DPID=$!
if ! wait_for 20 grep -q "danepold ready" "$T/err"; then
	not_ok "danepold started" "$(cat "$T/err")"; finish
fi
t0=$(date +%s%N)
check_eq "database up: 20 events answered" "$(events 1 20)" 20
t1=$(date +%s%N)
echo "# 20 event lines with the database up: $(( (t1 - t0) / 1000000 )) ms"
check "... and their 20 rows written" wait_for 20 eval '[ "$(rows)" = 20 ]'
check_eq "... under the relay's name" \
	"$(pg_psql "$PGDIR" danepol "SELECT DISTINCT relay FROM outcomes")" relay-one

pg_stop "$PGDIR"
t0=$(date +%s%N)
check_eq "database down: 70 events, every one answered" "$(events 21 90)" 70
t1=$(date +%s%N)
echo "# 70 event lines with the database down: $(( (t1 - t0) / 1000000 )) ms"
check "stats: 50 held, exactly 20 dropped, the database down" wait_for 20 eval \
	"[ \"\$(qstats '(q[\"held\"], q[\"dropped\"], q[\"db_up\"])')\" = '(50, 20, False)' ]"
check "the drops are logged" wait_for 20 grep -q "outcome queue full" "$T/err"
pg_restart || not_ok "PostgreSQL restarted"
check "database back: the 50 held rows arrive (70 in all)" wait_for 60 eval '[ "$(rows)" = 70 ]'
check "stats: 0 held, 70 written, 20 dropped, up" wait_for 20 eval \
	"[ \"\$(qstats '(q[\"held\"], q[\"written\"], q[\"dropped\"], q[\"db_up\"])')\" = '(0, 70, 20, True)' ]"
check_eq "no row twice" "$(pg_psql "$PGDIR" danepol "SELECT count(DISTINCT policy_domain) FROM outcomes")" 70
check "the store is reported back" grep -q "reachable again" "$T/err"
dm_stop
finish
