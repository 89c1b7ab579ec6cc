#!/usr/bin/env bash
# tests/danepold/conns.sh - danepold's connection limits against hostile
# clients (doc/hostile-inputs.md, "Connections"), through
# tests/danepold/conns_client.py:
#   - 5,000 idle connections to the socketmap, then to the Exim socket:
#     a real query is still answered within 5 s (eviction of the longest
#     idle connection at the cap);
#   - slowloris: 300 connections send "10000:" and then a byte every
#     0.25 s: each is closed socket_request_timeout after its first byte,
#     and a real query gets through meanwhile;
#   - a Postfix-like client idle between two queries (shorter than
#     socket_idle_timeout) keeps its connection; an idle one is closed
#     after socket_idle_timeout (short values here; the ordering of the
#     defaults against Postfix's 10 s is tests/unit/conf/test_conf.c,
#     connection_timeouts);
#   - milter: a raw connection that sends a 0-length frame is closed
#     after milter_timeout (one that sends nothing at all waits for
#     libmilter's sweep of idle sessions, every 600 s: not tested here); 1,100 idle milter connections under
#     RLIMIT_NOFILE 1024 do not starve the socketmap (the descriptor
#     budget), and the warnings about it are rate-limited.
# danepold runs under prlimit(1) with a known descriptor limit.
#
# Environment (make check): WORLD_DIR, FAULTDNS, DANEPOLD, TOP_SRCDIR.
# Skipped (77) without the world, python3 or prlimit. Waiting is for a
# condition (a log line, a socket, a process ending) with a deadline.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOLD=${DANEPOLD:-./danepold}
CLIENT=$TOP_SRCDIR/tests/danepold/conns_client.py

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
# shellcheck source=tests/danepold/lib.sh
. "$TOP_SRCDIR/tests/danepold/lib.sh"
dm_setup conns	# $T, the world and its fault responder


command -v prlimit > /dev/null || { echo "SKIP: prlimit not installed"; exit 77; }

SM=$T/socketmap.sock EX=$T/exim.sock MS=$T/milter.sock
: > "$T/policy"
# write_conf FILE MILTER_SOCKET EXTRA_LINES
write_conf() {
	dm_conf "milter_socket = $2" "socketmap_socket = unix:$SM" "exim_socket = unix:$EX" \
		"policy_table = $T/policy" "outcome_db = none" "audit_log = none" "${3:-}" > "$1"
}

# start NOFILE CONF: danepold under prlimit; waits for "danepold ready"
start() {
	: > "$T/err"
	prlimit --nofile="$1:$1" "$DANEPOLD" -f -c "$2" 2> "$T/err" & DPID=$!
	if ! wait_for 20 grep -q "danepold ready" "$T/err"; then
		not_ok "danepold starts (RLIMIT_NOFILE $1)" "$(tail -5 "$T/err")"; finish
	fi
}
stop() {
	kill -TERM "$DPID"
	if wait_for 20 eval "! kill -0 $DPID 2> /dev/null"; then
		wait "$DPID"; DPID=
	else
		not_ok "SIGTERM stops danepold within 20 s"; kill -KILL "$DPID"; DPID=
	fi
}

# ------------------------------------ socketmap and Exim: floods, slowloris
write_conf "$T/a.conf" none "socket_idle_timeout = 2s
socket_request_timeout = 2s"
start 4096 "$T/a.conf"
grep "descriptors:" "$T/err" | sed 's/^/# /'
client flood sockmap "$SM" 5000
client flood exim "$EX" 5000
n=$(count "closing the longest idle one" "$T/err")
check "eviction warnings are rate-limited (<= 2 lines for 10,000 connections, got $n)" \
	eval "[ $n -ge 1 ] && [ $n -le 2 ]"
client slowloris "$SM" 300 2
n=$(count "request not complete within" "$T/err")
check "request deadline warnings are rate-limited (1..2 lines for 256 connections, got $n)" \
	eval "[ $n -ge 1 ] && [ $n -le 2 ]"
client reuse "$SM" 1.5
client idleclose "$SM" 2
stop

# ---------------------------------------------- milter: milter_timeout
write_conf "$T/b.conf" "unix:$MS" "milter_timeout = 2s"
start 4096 "$T/b.conf"
client milterraw "$MS" zero 6
stop

# ------------------------------------ milter: the descriptor budget
write_conf "$T/c.conf" "unix:$MS" "milter_timeout = 60s"
start 1024 "$T/c.conf"
grep "descriptors:" "$T/err" | sed 's/^/# /'
budget=$(sed -n 's/.*milter below descriptor \([0-9]*\).*/\1/p' "$T/err" | head -1)
client milterflood "$MS" 1100 "$SM" "${budget:-1024}"
n=$(count "closing new milter connections" "$T/err")
check "the milter budget warning is rate-limited (1..2 lines, got $n)" \
	eval "[ $n -ge 1 ] && [ $n -le 2 ]"
n=$(count "Too many open files" "$T/err")
check "no \"Too many open files\" flood (<= 2 lines, got $n)" eval "[ $n -le 2 ]"
stop
finish
