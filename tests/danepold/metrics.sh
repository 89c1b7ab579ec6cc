#!/usr/bin/env bash
# tests/danepold/metrics.sh - danepold's Prometheus metrics (metrics_socket):
# scraped with curl, every scrape read by the reference parser of
# python3-prometheus-client (tests/danepold/metrics_parse.py); the counters
# move as the traffic says: socketmap queries -> decisions by verdict and
# reason, cache hits and misses, DNS queries and their latency histogram,
# socketmap connections; a reload -> reloads{ok} and the config generation
# +1, a failed reload -> reloads{failed} +1 and the generation unchanged;
# the families exposed are exactly those doc/metrics.md lists; other paths
# 404, other methods 405; the same socket as unix:PATH (curl
# --unix-socket) with the sockets' mode; metrics_socket = none serves nothing.
# No MTA, no network: the offline world plus the fault responder.
#
# Environment (make check): WORLD_DIR, FAULTDNS, DANEPOLD, TOP_SRCDIR.
# Skipped (77) without the world, python3, python3-prometheus-client or curl.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOLD=${DANEPOLD:-./danepold}
CLIENT=$TOP_SRCDIR/tests/danepold/maps_client.py
PARSE=$TOP_SRCDIR/tests/danepold/metrics_parse.py

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
# shellcheck source=tests/danepold/lib.sh
. "$TOP_SRCDIR/tests/danepold/lib.sh"
command -v curl > /dev/null || { echo "SKIP: curl not installed"; exit 77; }
# Debian's python3-prometheus-client is /usr/bin/python3's, whatever python3 is first in PATH
PYPROM=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import prometheus_client' 2> /dev/null; then PYPROM=$p; break; fi
done
[ -n "$PYPROM" ] || { echo "SKIP: python3-prometheus-client not installed"; exit 77; }
dm_setup metrics

SM=$T/socketmap.sock
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
: > "$T/policy"
# write_conf FILE METRICS_SOCKET
write_conf() {
	dm_conf "milter_socket = none" "socketmap_socket = unix:$SM" "metrics_socket = $2" \
		"policy_table = $T/policy" "audit_log = $T/audit.log" "outcome_db = none" > "$1"
}
CONF=$T/danepold.conf
URL=http://127.0.0.1:$PORT/metrics

# scrape NAME: $T/NAME.prom (the body) and $T/NAME.s (parsed samples);
# not_ok when curl fails or the parser refuses the text.
scrape() {
	if ! curl -sf -o "$T/$1.prom" "${CURL_ARGS[@]}" "$URL"; then
		not_ok "scrape $1: curl $URL"; return 1
	fi
	if ! "$PYPROM" "$PARSE" samples "$T/$1.prom" > "$T/$1.s" 2> "$T/$1.err"; then
		not_ok "scrape $1: prometheus_client parses it" "$(cat "$T/$1.err")"; return 1
	fi
	ok "scrape $1: prometheus_client parses it ($(wc -l < "$T/$1.s") samples)"
}
# val NAME SAMPLE: the value of SAMPLE (NAME{labels} as metrics_parse prints it), 0 if absent
val() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$T/$1.s"; }
# delta A B SAMPLE
delta() { echo $(($(val "$2" "$3") - $(val "$1" "$3"))); }
CURL_ARGS=()

write_conf "$CONF" "inet:$PORT@127.0.0.1"
"$DANEPOLD" -f -c "$CONF" 2> "$T/err" & DPID=$!
if ! wait_for 20 grep -q "danepold ready" "$T/err"; then
	not_ok "danepold with metrics_socket logs 'danepold ready'" "$(cat "$T/err")"; finish
fi
check "the ready line names the metrics socket" grep -q "metrics inet:$PORT@127.0.0.1" "$T/err"

scrape s0 || finish
check "config generation is 1 at start" [ "$(val s0 'danepol_config_generation{}')" = 1 ]
check "no decision yet" eval "! grep -q '^danepol_decisions_total' '$T/s0.s'"

# ------------------------------------------------------- families = doc
"$PYPROM" "$PARSE" families "$T/s0.prom" | sort > "$T/fam.exposed"
"$PYPROM" "$PARSE" doc "$TOP_SRCDIR/doc/metrics.md" | sort > "$T/fam.doc"
# decisions appear with the first decision; the doc lists them all
grep -q '^danepol_decisions_total ' "$T/fam.exposed" || echo "danepol_decisions_total counter" >> "$T/fam.exposed"
sort -o "$T/fam.exposed" "$T/fam.exposed"
check "doc/metrics.md lists exactly the families danepold exposes (name and type)" \
	diff -u "$T/fam.doc" "$T/fam.exposed"

# --------------------------------------------------------------- traffic
# 3 x secure.example (1 miss, 2 hits), insecure.example, bogus.example:
# five connections (one query each), five decisions
for d in secure.example secure.example secure.example insecure.example bogus.example; do
	python3 "$CLIENT" query "$SM" "$d" >> "$T/replies"
done
check "the socketmap answered the five queries" [ "$(wc -l < "$T/replies")" = 5 ]
scrape s1 || finish
check_eq "decisions{require,dane} +3" "$(delta s0 s1 'danepol_decisions_total{reason="dane",verdict="require"}')" 3
check_eq "decisions{try,mx-insecure} +1" "$(delta s0 s1 'danepol_decisions_total{reason="mx-insecure",verdict="try"}')" 1
check_eq "decisions{defer,mx-dnssec-bogus} +1" "$(delta s0 s1 'danepol_decisions_total{reason="mx-dnssec-bogus",verdict="defer"}')" 1
total=$(awk '/^danepol_decisions_total/ { n += $2 } END { print n + 0 }' "$T/s1.s")
check_eq "no other decision counted" "$total" 5
check_eq "cache hits +2" "$(delta s0 s1 'danepol_cache_hits_total{}')" 2
check_eq "cache misses +3" "$(delta s0 s1 'danepol_cache_misses_total{}')" 3
check "cache entries: 3 (the gauge)" [ "$(val s1 'danepol_cache_entries{}')" = 3 ]
check_eq "socketmap connections +5" "$(delta s0 s1 'danepol_connections_total{door="socketmap"}')" 5
dq=$(delta s0 s1 'danepol_dns_queries_total{}')
check "DNS queries counted ($dq)" [ "$dq" -ge 3 ]
dl=$(delta s0 s1 'danepol_dns_query_duration_seconds_count{}')
check "the latency histogram counts the answers ($dl of $dq queries)" \
	eval "[ $dl -ge 1 ] && [ $dl -le $dq ]"
check_eq "histogram: +Inf bucket = count" \
	"$(val s1 'danepol_dns_query_duration_seconds_bucket{le="+Inf"}')" \
	"$(val s1 'danepol_dns_query_duration_seconds_count{}')"
check_eq "no audit write error" "$(val s1 'danepol_audit_write_errors_total{}')" 0

# ---------------------------------------------------------------- reload
r0=$(count "configuration reloaded" "$T/err")
kill -HUP "$DPID"
check "SIGHUP reloads" wait_for 10 eval "[ \$(count 'configuration reloaded' '$T/err') -gt $r0 ]"
scrape s2 || finish
check_eq "reloads{ok} +1" "$(delta s1 s2 'danepol_reloads_total{result="ok"}')" 1
check_eq "config generation +1" "$(delta s1 s2 'danepol_config_generation{}')" 1
check "the new snapshot's cache is empty" [ "$(val s2 'danepol_cache_entries{}')" = 0 ]
cp "$CONF" "$T/good.conf"
echo "no_such_key = 1" >> "$CONF"
f0=$(count "reload failed" "$T/err")
kill -HUP "$DPID"
check "a bad configuration: the reload fails" wait_for 10 eval "[ \$(count 'reload failed' '$T/err') -gt $f0 ]"
cp "$T/good.conf" "$CONF"
scrape s3 || finish
check_eq "reloads{failed} +1" "$(delta s2 s3 'danepol_reloads_total{result="failed"}')" 1
check_eq "config generation unchanged by a failed reload" "$(delta s2 s3 'danepol_config_generation{}')" 0

# ------------------------------------------------------------------ HTTP
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")
check_eq "GET / is 404" "$code" 404
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")
check_eq "POST /metrics is 405" "$code" 405
ctype=$(curl -s -o /dev/null -w '%{content_type}' "$URL")
check_eq "Content-Type of the text format 0.0.4" "$ctype" "text/plain; version=0.0.4; charset=utf-8"

dm_stop

# ------------------------------------------------------------ unix:PATH
MS=$T/metrics.sock
write_conf "$CONF" "unix:$MS"
: > "$T/err"
"$DANEPOLD" -f -c "$CONF" 2> "$T/err" & DPID=$!
if wait_for 20 grep -q "danepold ready" "$T/err"; then
	check "the unix metrics socket has mode 0660" [ "$(stat -c %a "$MS")" = 660 ]
	[ -n "$USERLINE" ] && check "... and belongs to the unprivileged user" [ "$(stat -c %U "$MS")" = nobody ]
	CURL_ARGS=(--unix-socket "$MS") URL=http://localhost/metrics
	scrape u0
	dm_stop
	check "the metrics socket file is removed at exit" [ ! -e "$MS" ]
else
	not_ok "danepold with metrics_socket = unix:PATH starts" "$(cat "$T/err")"
fi

# ------------------------------------------------------------------ none
write_conf "$CONF" none
: > "$T/err"
"$DANEPOLD" -f -c "$CONF" 2> "$T/err" & DPID=$!
if wait_for 20 grep -q "danepold ready" "$T/err"; then
	check "metrics_socket = none: the port is not served" \
		eval "! curl -s -o /dev/null 'http://127.0.0.1:$PORT/metrics'"
	check "metrics_socket = none: the ready line names no metrics socket" eval "! grep -q 'metrics ' '$T/err'"
	dm_stop
else
	not_ok "danepold with metrics_socket = none starts" "$(cat "$T/err")"
fi
finish
