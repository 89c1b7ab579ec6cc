#!/bin/bash
# bench/store_pg.sh [ROWS] - the PostgreSQL outcome store: outcomes per
# second into a private PostgreSQL cluster (tests/lib/pgcluster.sh, unix
# socket, fsync off like the tests: see BENCHMARKS.md for what fsync on
# costs) from 1, 4 and 16 concurrent writer processes
# (tests/danepol/report_fill bulk: transactions of 500 outcomes, each
# writer under its own relay_name), then the time `danepol report
# --dry-run` takes to build the report of one domain and day holding 1 M
# outcomes (and its peak memory). Prints "key value" lines.
# Needs root (the server runs as postgres) and BUILD (the build dir).
set -eu
ROWS=${1:-200000}
HERE=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:?BUILD unset}"
FILL=$BUILD/tests/danepol/report_fill
# shellcheck source=tests/lib/pgcluster.sh
. "$HERE/../tests/lib/pgcluster.sh"
D=$(mktemp -d /tmp/danepol-benchpg.XXXXXX)
chmod 0755 "$D"
trap 'pg_stop "$D/pg"; rm -rf "$D"' EXIT
mkdir -m 0755 "$D/pg"
pg_start "$D/pg"
START=1740787200
ms() { echo $(( $(date +%s%N) / 1000000 )); }

for w in 1 4 16; do
	db=w$w
	pg_createdb "$D/pg" $db
	PG=$(pg_conninfo "$D/pg" $db)
	"$FILL" "$PG" add warm.example $START ok > /dev/null	# schema made outside the timing
	per=$((ROWS / w))
	t0=$(ms)
	pids=()
	for i in $(seq 1 $w); do
		FILL_RELAY=relay-$i "$FILL" "$PG" bulk w$i.example $START $per ok > /dev/null &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	t1=$(ms)
	n=$(pg_psql "$D/pg" $db "SELECT count(*) - 1 FROM outcomes")
	echo "writers_$w outcomes_per_s $(( n * 1000 / (t1 - t0 > 0 ? t1 - t0 : 1) )) ($n rows in $((t1 - t0)) ms)"
done

pg_createdb "$D/pg" report
PG=$(pg_conninfo "$D/pg" report)
pids=()
for i in 1 2 3 4; do	# 1 M outcomes of one domain and day from four relays, 1 in 50 failed
	FILL_RELAY=relay-$i "$FILL" "$PG" bulk big.example $((START + i)) 245000 ok > /dev/null &
	pids+=($!)
	FILL_RELAY=relay-$i "$FILL" "$PG" bulk big.example $((START + 5000 + i)) 5000 certificate-expired > /dev/null &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
echo "report_rows $(pg_psql "$D/pg" report "SELECT count(*) FROM outcomes")"
echo "report_table_bytes $(pg_psql "$D/pg" report "SELECT pg_total_relation_size('outcomes')")"
mkdir -p "$D/reports"
cat > "$D/danepol.conf" <<EOF
outcome_db = $PG
report_org_name = bench
report_contact = tlsrpt@bench.test
report_dir = $D/reports
EOF
t0=$(ms)
DANEPOL_REPORT_NOW=$((START + 90000)) /usr/bin/time -f "report_peak_rss_kb %M" \
	"$BUILD/danepol" -c "$D/danepol.conf" report --dry-run --domain big.example > "$D/report.out" 2> "$D/report.err"
t1=$(ms)
echo "report_1m_ms $((t1 - t0))"
grep report_peak_rss_kb "$D/report.err"
grep -o "[0-9]* sessions" "$D/report.out" | sed 's/^/report_sessions /'
