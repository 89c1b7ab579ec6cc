#!/usr/bin/env bash
# tests/danepold/control.sh - danepold's control socket (control_socket)
# through `danepol query` and `danepol stats`: a fresh decision
# ("cached": false, age 0), the same one from the cache ("cached": true)
# whose age grows, an unknown domain (NXDOMAIN: try no-such-domain), an
# invalid one (defer, exit 2), the exit status of each verdict; malformed
# requests answered {"error": ...} (unknown verb, extra argument, control
# character, an over-long line) and the connection closed; `danepol
# stats` with the same numbers as /metrics; every reply valid against
# doc/query.schema.json; the socket's mode, a user outside its group
# refused (exit 77), a daemon not running (exit 69 naming the socket),
# control_socket = none without -S (exit 78).
#
# Environment (make check): WORLD_DIR, FAULTDNS, DANEPOLD, DANEPOL, TOP_SRCDIR.
# Skipped (77) without the world or python3.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOLD=${DANEPOLD:-./danepold}
DANEPOL=${DANEPOL:-./danepol}

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
# shellcheck source=tests/danepold/lib.sh
. "$TOP_SRCDIR/tests/danepold/lib.sh"
dm_setup control

CS=$T/control.sock
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dm_conf "milter_socket = none" "socketmap_socket = unix:$T/socketmap.sock" \
	"control_socket = unix:$CS" "metrics_socket = inet:$PORT@127.0.0.1" \
	"audit_log = $T/audit.log" "outcome_db = none" > "$T/danepold.conf"
CONF=$T/danepold.conf

"$DANEPOLD" -f -c "$CONF" 2> "$T/err" & DPID=$!
if ! wait_for 20 grep -q "danepold ready" "$T/err"; then
	not_ok "danepold with control_socket logs 'danepold ready'" "$(cat "$T/err")"; finish
fi
check "the ready line names the control socket" grep -q "control unix:$CS" "$T/err"
check "the control socket has mode 0660" [ "$(stat -c %a "$CS")" = 660 ]

# jget FILE EXPR: a Python expression over the JSON object j of FILE's one line
jget() { python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).read()); print(eval(sys.argv[2]))' "$1" "$2"; }
# ask NAME ARGS...: danepol ARGS into $T/NAME.out/.err, status in rc
ask() { local n=$1; shift; "$DANEPOL" "$@" > "$T/$n.out" 2> "$T/$n.err"; rc=$?; cp "$T/$n.out" "$T/reply.$n"; }

# ------------------------------------------------------------ query
ask q1 query -S "unix:$CS" secure.example
check_eq "query secure.example: exit 0 (require)" "$rc" 0
check_eq "... one JSON line" "$(wc -l < "$T/q1.out")" 1
check_eq "... made now: cached false, age 0" "$(jget "$T/q1.out" '(j["cached"], j["age_s"])')" "(False, 0)"
check_eq "... the decision: require, dane" "$(jget "$T/q1.out" '(j["decision"]["verdict"], j["decision"]["reason"], j["decision"]["domain"])')" "('require', 'dane', 'secure.example')"
check_eq "... generation 1" "$(jget "$T/q1.out" 'j["generation"]')" 1
ask q2 -c "$CONF" query secure.example
check_eq "again, socket from the configuration (-c): exit 0" "$rc" 0
check_eq "... from the cache: cached true" "$(jget "$T/q2.out" 'j["cached"]')" True
check_eq "... the cache hit is in the decision too" "$(jget "$T/q2.out" 'j["decision"]["cache_hit"]')" True
# the age is whole seconds since the decision was made: it reaches 1
aged() { "$DANEPOL" query -S "unix:$CS" secure.example > "$T/q3.out" 2> /dev/null; [ "$(jget "$T/q3.out" 'j["age_s"]')" -ge 1 ]; }
check "the cached decision ages (age_s reaches 1 within 5 s)" wait_for 5 aged
check_eq "... still cached" "$(jget "$T/q3.out" 'j["cached"]')" True
cp "$T/q3.out" "$T/reply.q3"

ask q4 query -S "unix:$CS" nx.example
check_eq "unknown domain nx.example: exit 1 (try)" "$rc" 1
check_eq "... try, no-such-domain, made now" "$(jget "$T/q4.out" '(j["decision"]["verdict"], j["decision"]["reason"], j["cached"])')" "('try', 'no-such-domain', False)"
ask q5 query -S "unix:$CS" bogus.example
check_eq "bogus.example: exit 2 (defer)" "$rc" 2
ask q6 query -S "unix:$CS" 'bad..domain'
check_eq "an invalid domain: exit 2, defer invalid-domain" "$rc:$(jget "$T/q6.out" 'j["decision"]["reason"]')" "2:invalid-domain"
ask q7 query -S "unix:$CS" secure.example insecure.example
check_eq "two domains: two lines, exit 1 (the most severe)" "$rc:$(wc -l < "$T/q7.out")" "1:2"
ask q8 query -S "unix:$CS" 'a b'
check_eq "a DOMAIN with a blank: exit 64, nothing sent" "$rc" 64

# ------------------------------------------------------- raw requests
# raw NAME BYTES: send BYTES (a python bytes expression) on a fresh connection and
# half-close it; the reply into $T/reply.NAME
raw() {
	python3 - "$CS" "$2" > "$T/reply.$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(eval(sys.argv[2]))  # a bytes expression of this test
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
sys.stdout.write(data.decode())
PY
}
raw r1 "b'hello\n'"
check "unknown verb: an error reply" grep -q '^{"error": *"unknown request' "$T/reply.r1"
raw r2 "b'query a.example b.example\n'"
check "two arguments: an error reply" grep -q '^{"error": *"query takes one DOMAIN"}$' "$T/reply.r2"
raw r3 "b'query sec\x01ure.example\n'"
check "a control character: an error reply" grep -q '"error": *"control character' "$T/reply.r3"
raw r4 "b'query ' + b'a' * 600 + b'\n'"
check "an over-long line: an error reply" grep -q '"error": *"request line too long"' "$T/reply.r4"
raw r5 "b'stats extra\n'"
check "stats with an argument: an error reply" grep -q '"error": *"stats takes no argument"' "$T/reply.r5"
raw r6 "b'query secure.example\r\n'"
check "CRLF is accepted" grep -q '"request": *"query"' "$T/reply.r6"
raw r7 "b'stats'"
check "a request without a line end, then EOF, is answered" grep -q '"request": *"stats"' "$T/reply.r7"
check "danepold still serves after the malformed requests" kill -0 "$DPID"

# ------------------------------------------------------------ stats
ask s1 stats -S "unix:$CS"
check_eq "danepol stats: exit 0, one line" "$rc:$(wc -l < "$T/s1.out")" "0:1"
curl -sf "http://127.0.0.1:$PORT/metrics" > "$T/m1" || not_ok "scrape /metrics"
mval() { awk -v k="$1" '$1 == k { print $2 }' "$T/m1"; }
check_eq "stats cache hits = /metrics" "$(jget "$T/s1.out" 'j["cache"]["hits"]')" "$(mval danepol_cache_hits_total)"
check_eq "stats cache misses = /metrics" "$(jget "$T/s1.out" 'j["cache"]["misses"]')" "$(mval danepol_cache_misses_total)"
check_eq "stats DNS queries = /metrics" "$(jget "$T/s1.out" 'j["dns"]["queries"]')" "$(mval danepol_dns_queries_total)"
check_eq "stats require/dane decisions = /metrics" \
	"$(jget "$T/s1.out" 'sum(d["count"] for d in j["decisions"] if d["reason"] == "dane")')" \
	"$(mval 'danepol_decisions_total{verdict="require",reason="dane"}')"
# connections: the ask()s and raw()s above (q8 sent nothing), s1 itself
check_eq "control connections counted (q1..q7: 8, raw: 7, q3 polls, stats: 1)" \
	"$(jget "$T/s1.out" 'j["connections"]["control"] >= 16')" True
check_eq "outcome_db = none: no outcome queue (max 0, db_up false), = /metrics" \
	"$(jget "$T/s1.out" '(j["outcome_queue"]["max"], j["outcome_queue"]["db_up"], j["outcome_queue"]["held"])')" \
	"($(mval danepol_outcome_queue_max), False, $(mval danepol_outcome_queue_held))"

# ------------------------------------------------------------ schema
if python3 -c 'import jsonschema' 2> /dev/null; then PYJS=python3
elif /usr/bin/python3 -c 'import jsonschema' 2> /dev/null; then PYJS=/usr/bin/python3
else PYJS=; fi
if [ -n "$PYJS" ]; then
	"$PYJS" - "$TOP_SRCDIR/doc" "$T"/reply.* > "$T/schema.out" 2>&1 <<'PY'; rc=$?
import json, os, sys
import jsonschema
docdir = sys.argv[1]
schemas = {n: json.load(open(os.path.join(docdir, n))) for n in ("query.schema.json", "decision.schema.json")}
q = schemas["query.schema.json"]
jsonschema.Draft202012Validator.check_schema(q)
store = {s["$id"]: s for s in schemas.values()}
resolver = jsonschema.RefResolver(q["$id"], q, store=store)
v = jsonschema.Draft202012Validator(q, resolver=resolver)
bad = 0
for p in sys.argv[2:]:
    for line in open(p):
        errs = list(v.iter_errors(json.loads(line)))
        if errs:
            bad += 1
            print("%s: %s" % (os.path.basename(p), errs[0].message[:300]))
print("%d files checked" % (len(sys.argv) - 2))
sys.exit(1 if bad else 0)
PY
	check "every reply is valid against doc/query.schema.json ($(tail -1 "$T/schema.out"))" [ $rc = 0 ]
	[ $rc = 0 ] || sed 's/^/#   /' "$T/schema.out"
else
	echo "# python3-jsonschema missing: schema check skipped"
fi

# ------------------------------------------------------- permissions
if [ "$(id -u)" = 0 ] && runuser -u daemon -- test -x "$DANEPOL" 2> /dev/null; then
	runuser -u daemon -- "$DANEPOL" query -S "unix:$CS" secure.example > /dev/null 2> "$T/perm.err"; rc=$?
	check_eq "a user outside the socket's group is refused: exit 77" "$rc" 77
	check "... with a message naming the socket" grep -q "control socket unix:$CS: Permission denied" "$T/perm.err"
else
	echo "# not root (or danepol not executable by user daemon): permission check skipped"
fi

dm_stop
"$DANEPOL" query -S "unix:$CS" secure.example > /dev/null 2> "$T/down.err"; rc=$?
check_eq "danepold not running: exit 69" "$rc" 69
check "... naming the socket" grep -q "cannot connect to danepold's control socket unix:$CS" "$T/down.err"
"$DANEPOL" stats -S "unix:$CS" > /dev/null 2>&1; rc=$?
check_eq "stats, danepold not running: exit 69" "$rc" 69
sed -i '/^control_socket/d' "$CONF"
"$DANEPOL" -c "$CONF" query secure.example > /dev/null 2> "$T/none.err"; rc=$?
check_eq "control_socket = none and no -S: exit 78" "$rc" 78
check "... saying so" grep -q "control_socket is none" "$T/none.err"
"$DANEPOL" query -S "unix:$CS" > /dev/null 2>&1; rc=$?
check_eq "query without DOMAIN: exit 64" "$rc" 64
finish
