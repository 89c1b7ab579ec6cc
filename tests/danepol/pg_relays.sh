#!/usr/bin/env bash
# tests/danepol/pg_relays.sh - three relays, one PostgreSQL outcome store
# (outcome_db = postgresql://...): a private PostgreSQL cluster from
# Debian's postgresql package (tests/lib/pgcluster.sh, unix socket only),
# the signed offline world for the rua lookup and an https endpoint
# (tests/danepol/https_sink.py) for mixed.example's rua.
#   (a) three relays write 3 x 3000 outcomes (and one failure each) at
#       the same time, each under its relay_name: every row arrives, each
#       relay's rows under its own name;
#   (b) `danepol report --dry-run` on one relay builds the report of all
#       three: the union of their outcomes (9000 successful, 3 failed);
#   (c) `danepol report` started on the three relays at once: exactly one
#       report is delivered (one POST), the other two relays say which
#       relay handles it; a second run sends nothing; --again sends again;
#       each relay's delivery queue is its own SQLite file (local_db);
#   (d) a writer killed with SIGKILL in the middle of its transactions:
#       every transaction it had committed is there, no partial one.
# Environment: as tests/danepol/report.sh (WORLD_DIR, DANEPOL, REPORT_FILL,
# TOP_SRCDIR). Exit 77 (SKIP) only without a PostgreSQL server package,
# or when not root / no world.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
DANEPOL=${DANEPOL:-./danepol}
case $DANEPOL in /*) ;; *) DANEPOL=$PWD/$DANEPOL ;; esac
FILL=${REPORT_FILL:-$PWD/tests/danepol/report_fill}
case $FILL in /*) ;; *) FILL=$PWD/$FILL ;; esac
HTTPS_PORT=8461		# fixed in tools/mkworld.sh (mixed.example's rua)

PATH=$PATH:/usr/sbin:/sbin
if [ -z "${REPORT_NETNS:-}" ] && [ "$(id -u)" -eq 0 ] && command -v unshare > /dev/null &&
	unshare -n true 2> /dev/null; then
	REPORT_NETNS=1 exec unshare -n -- bash "$0" "$@"
fi
if [ -n "${REPORT_NETNS:-}" ]; then
	ip link set lo up 2> /dev/null || { echo "SKIP: cannot bring up lo in the namespace"; exit 77; }
fi

# shellcheck source=tests/e2e/lib.sh
. "$TOP_SRCDIR/tests/e2e/lib.sh"
# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
# shellcheck source=tests/lib/pgcluster.sh
. "$TOP_SRCDIR/tests/lib/pgcluster.sh"
has() { if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no '$3' in:" "$(head -c 2000 "$2")"; fi; }

pg_bindir > /dev/null || { echo "SKIP: no PostgreSQL server (package postgresql)"; exit 77; }
if why=$(e2e_skip_reason); then echo "SKIP: $why"; exit 77; fi
if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR" ]; then
	echo "SKIP: WORLD_DIR unset or missing (run through make check)"; exit 77
fi
[ -x "$FILL" ] || { echo "SKIP: $FILL not built (make check builds it)"; exit 77; }
if [ -z "${REPORT_NETNS:-}" ] && e2e_sock_connects "inet:$HTTPS_PORT@127.0.0.1"; then
	echo "SKIP: no private network namespace and 127.0.0.1:$HTTPS_PORT is taken"; exit 77
fi

e2e_init pgrelays || { not_ok "temporary directory"; finish; }
e2e_world || { not_ok "offline world"; finish; }
T=$E2E_T
PGDIR=$(mktemp -d /tmp/danepol-pgrelays.XXXXXX) || { not_ok "cluster directory"; finish; }
chmod 0755 "$PGDIR"
pg_cleanup() { pg_stop "$PGDIR"; rm -rf "$PGDIR"; }
trap 'pg_cleanup; e2e_cleanup' EXIT
pg_start "$PGDIR" || { not_ok "PostgreSQL started"; finish; }
pg_createdb "$PGDIR" danepol || { not_ok "database created"; finish; }
PG=$(pg_conninfo "$PGDIR" danepol)
rows() { pg_psql "$PGDIR" danepol "$1"; }

START=1740787200		# 2025-03-01T00:00:00Z
END=$((START + 86400))
NOW=$((END + 3600))
export DANEPOL_REPORT_CAFILE=$WORLD_DIR/pki/ca.crt
HTTPS_OUT=$T/https
mkdir -p "$HTTPS_OUT"

# doc/store.md's snippet, with this test's database and relay names
SNIP=$(awk '/<!-- snippet: danepol.conf store -->/ { m = 1; next }
	m && /^```/ { if (in_) exit; in_ = 1; next } in_ { print }' "$TOP_SRCDIR/doc/store.md")
check "doc/store.md's snippet found" grep -q '^outcome_db = postgresql://' <<< "$SNIP"
for r in a b c; do
	mkdir -p "$T/$r/reports"
	{ sed -e "s|^outcome_db = .*|outcome_db = ${PG//&/\\&}|" -e "s|^relay_name = .*|relay_name = relay-$r|" <<< "$SNIP"
	cat <<EOF
trust_anchor = $E2E_TRUST_ANCHOR
resolver_config = $E2E_RESOLVER_CONF
local_db = $T/$r/local.db
report_org_name = danepol test reporter
report_contact = tlsrpt@sender.test
report_from = tlsrpt@sender.test
report_dir = $T/$r/reports
report_retry = 1h
EOF
	} > "$T/$r/danepol.conf"
done
report() {	# report RELAY OUT ARGS...: danepol report on relay RELAY; sets RC
	local r=$1 out=$2
	shift 2
	RC=0
	DANEPOL_REPORT_NOW=$NOW "$DANEPOL" -c "$T/$r/danepol.conf" report "$@" > "$out" 2> "$out.err" || RC=$?
}

# ---------------------------------------------------------------- (a) concurrent writers
pids=()
for r in a b c; do
	FILL_RELAY=relay-$r "$FILL" "$PG" bulk mixed.example $((START + 1000)) 3000 ok > "$T/fill.$r" 2>&1 &
	pids+=($!)
	FILL_RELAY=relay-$r "$FILL" "$PG" add mixed.example $((START + 500)) starttls-not-supported >> "$T/fill.$r.1" 2>&1 &
	pids+=($!)
done
wfail=0
for p in "${pids[@]}"; do wait "$p" || wfail=1; done
check_eq "(a) the three writers succeeded" "$wfail" 0
check_eq "(a) every row arrived" "$(rows "SELECT count(*) FROM outcomes")" 9003
check_eq "(a) each relay's rows under its name" \
	"$(rows "SELECT relay || ':' || count(*) FROM outcomes GROUP BY relay ORDER BY relay" | tr '\n' ' ')" \
	"relay-a:3001 relay-b:3001 relay-c:3001 "

# ---------------------------------------------------------------- (b) one report of all relays
report c "$T/b.out" --dry-run
check_eq "(b) dry run on relay c: exit 0" "$RC" 0
has "(b) one report of 9003 sessions" "$T/b.out" "mixed.example: 9003 sessions"
python3 - "$T/c/reports" > "$T/b.py" 2>&1 <<'PY'
import glob, gzip, json, sys
def res(ok, what): print(("PASS " if ok else "FAIL ") + what)
f = glob.glob(sys.argv[1] + "/*mixed.example*.json.gz")
res(len(f) == 1, f"(b) one report file ({len(f)})")
rep = json.loads(gzip.decompress(open(f[0], "rb").read()))
s = sum(p["summary"]["total-successful-session-count"] for p in rep["policies"])
x = sum(p["summary"]["total-failure-session-count"] for p in rep["policies"])
res((s, x) == (9000, 3), f"(b) the union of the relays: {s} successful, {x} failed")
PY
py_results "$T/b.py"
rm -f "$T"/c/reports/*

# ---------------------------------------------------------------- (c) one relay sends
: > "$T/https.ready"
python3 "$HERE/https_sink.py" 127.0.0.1 $HTTPS_PORT "$WORLD_DIR/pki/ee.crt" \
	"$WORLD_DIR/pki/ee.key" "$HTTPS_OUT" 200 > "$T/https.ready" 2>> "$T/https.log" &
E2E_PIDS+=($!)
e2e_wait 10000 e2e_file_has READY "$T/https.ready" || not_ok "(c) https endpoint started"
pids=()
for r in a b c; do
	( report $r "$T/c.$r.out" --domain mixed.example; echo "$RC" > "$T/c.$r.rc" ) &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
check_eq "(c) the three runs exit 0" "$(cat "$T"/c.?.rc | tr -d '\n')" 000
check_eq "(c) exactly one relay delivered" "$(grep -l "mixed.example: delivered to" "$T"/c.?.out | wc -l)" 1
check_eq "(c) the two others say who handles it" \
	"$(grep -l "mixed.example: the report of 2025-03-01 is handled by relay relay-" "$T"/c.?.out | wc -l)" 2
check_eq "(c) exactly one POST" "$(ls "$HTTPS_OUT" | grep -c '\.path$')" 1
sender=$(grep -l "delivered to" "$T"/c.?.out | head -1 | sed 's/.*c\.\(.\)\.out/\1/')
check_eq "(c) the claim is done, held by the sender" \
	"$(rows "SELECT holder || ' ' || done FROM claims WHERE kind = 'report'")" "relay-$sender true"
report a "$T/c2.out" --domain mixed.example
has "(c) a second run sends nothing" "$T/c2.out" "0 written, 0 delivered, 0 queued, 0 given up, 0 without rua, 0 failed, 1 sent by other relays or runs"
check_eq "(c) still one POST" "$(ls "$HTTPS_OUT" | grep -c '\.path$')" 1
report b "$T/c3.out" --domain mixed.example --again
has "(c) --again sends again" "$T/c3.out" "mixed.example: delivered to"
check_eq "(c) a second POST" "$(ls "$HTTPS_OUT" | grep -c '\.path$')" 2
check_eq "(c) each relay's own queue file (local_db)" \
	"$(ls "$T"/a/local.db "$T"/b/local.db "$T"/c/local.db 2> /dev/null | wc -l)" 3

# ---------------------------------------------------------------- (d) SIGKILL mid-write
FILL_RELAY=relay-k "$FILL" "$PG" bulk kill.example $START 400000 ok > "$T/kill.out" 2>&1 &
kp=$!
e2e_wait 60000 e2e_file_has "committed 5000" "$T/kill.out" || not_ok "(d) the writer committed 5000"
kill -KILL "$kp"
wait "$kp" 2> /dev/null
last=$(grep -o '[0-9]*$' "$T/kill.out" | tail -1)
n=$(rows "SELECT count(*) FROM outcomes WHERE policy_domain = 'kill.example'")
if [ "$n" -lt 400000 ] && [ $((n % 500)) -eq 0 ] && { [ "$n" -eq "$last" ] || [ "$n" -eq $((last + 500)) ]; }; then
	ok "(d) killed after $last committed: $n rows, whole transactions only"
else
	not_ok "(d) killed after $last committed: $n rows, whole transactions only"
fi
finish
