#!/usr/bin/env bash
# tests/danepold/danepold.sh - danepold as a process: options and exit
# statuses, the milter protocol through miltertest, the audit log against
# doc/audit.schema.json, and the signals (SIGHUP reload, a broken reload,
# a signal burst, SIGUSR1 reopen, SIGTERM stop). No Postfix (that is
# tests/e2e/), no network: the offline world of tools/mkworld.sh.
#
# Environment (make check): WORLD_DIR, DANEPOLD, TOP_SRCDIR. Skipped (77)
# without the world or without miltertest.
# Waiting is always for a condition (a log line, a file, a process
# ending), polled with a deadline - never a bare sleep.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOLD=${DANEPOLD:-./danepold}
LUA=$TOP_SRCDIR/tests/danepold/rcpt.lua

if [ -z "${WORLD_DIR:-}" ] || [ ! -f "$WORLD_DIR/world.conf" ]; then
	echo "SKIP: WORLD_DIR unset or missing (run through make check)"; exit 77
fi
command -v miltertest > /dev/null || { echo "SKIP: miltertest not installed"; exit 77; }

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
# shellcheck source=tests/danepold/lib.sh
. "$TOP_SRCDIR/tests/danepold/lib.sh"	# count, dm_stop

T=$(mktemp -d "${TMPDIR:-/tmp}/danepold-test.XXXXXX") || exit 1
chmod 0777 "$T"		# the daemon may run as nobody (started as root)
DPID=
cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2> /dev/null; then kill -KILL "$DPID"; fi
	rm -rf "$T"
}
trap cleanup EXIT

PORT=$(( 20000 + $$ % 20000 ))
SOCK="inet:$PORT@127.0.0.1"
USERLINE=; [ "$(id -u)" = 0 ] && USERLINE="user = nobody"
# write_conf FILE [EXTRA LINE]
write_conf() {
	cat > "$1" <<CONF
trust_anchor = $(cat "$WORLD_DIR/root.ds")
resolver_config = $WORLD_DIR/world.conf
decision_timeout = 2s
milter_socket = $SOCK
pid_file = $T/danepold.pid
audit_log = $T/audit.log
socket_group = none
$USERLINE
${2:-}
CONF
}
CONF=$T/danepold.conf
write_conf "$CONF"

# ------------------------------------------------------------- options
"$DANEPOLD" -n -c "$CONF" > "$T/o" 2> "$T/e"; rc=$?
check "-n on a good configuration exits 0" [ $rc = 0 ]
printf 'milter_socket = inet:25@127.0.0.1\nno_such_key = 1\n' > "$T/bad.conf"
"$DANEPOLD" -n -c "$T/bad.conf" > "$T/o" 2> "$T/e"; rc=$?
check "-n on a broken configuration exits 78" [ $rc = 78 ]
check "the error names file:line" grep -q "$T/bad.conf:2:" "$T/e"
"$DANEPOLD" -n -c "$T/missing.conf" > /dev/null 2>&1; rc=$?
check "-c on a missing file exits 78" [ $rc = 78 ]
write_conf "$T/st.conf" "status.mx-dnssec-bogus = 250 2.0.0 not a defer"
"$DANEPOLD" -n -c "$T/st.conf" > /dev/null 2> "$T/e"; rc=$?
check "-n: a bad status override exits 78 with its line" \
	eval "[ $rc = 78 ] && grep -q '$T/st.conf:9:' '$T/e'"
# the trust anchor must validate the DNSKEY of its zone (here the world's root)
"$DANEPOLD" -n -c "$CONF" > /dev/null 2> "$T/e"
check "-n says the trust anchor validates" \
	grep -q "info: trust anchor .* validates the DNSKEY of \.$" "$T/e"
sed "s/^trust_anchor = .*/trust_anchor = . IN DS 1 8 2 00/" "$CONF" > "$T/ta.conf"
"$DANEPOLD" -n -c "$T/ta.conf" > /dev/null 2> "$T/e"; rc=$?
check "-n: a trust anchor that validates nothing exits 78" [ $rc = 78 ]
check "... naming the anchor, libunbound's reason and what to do" \
	grep -q 'error: trust anchor ". IN DS 1 8 2 00" does not validate the DNSKEY of \. (bogus: validation failure.*unbound-anchor' "$T/e"
# no answer at all (offline at boot: no network, no local zones) is a warning
if unshare -n true 2> /dev/null; then
	printf 'trust_anchor = %s\n%s\n' "$(cat "$WORLD_DIR/root.ds")" "$USERLINE" > "$T/offline.conf"
	t0=$(date +%s%N)
	unshare -n "$DANEPOLD" -n -c "$T/offline.conf" > /dev/null 2> "$T/e"; rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	check "-n offline: the unchecked anchor is a warning, exit 0, in ${ms} ms (bound 7000)" \
		eval "[ $rc = 0 ] && [ $ms -le 7000 ] && grep -q 'warning: trust anchor .* not checked: no answer' '$T/e'"
else
	ok "# SKIP offline trust anchor check: unshare -n not permitted"
fi
# libunbound's own diagnostics come through danepold's log, not raw stderr
printf 'server:\n\tno-such-option: 1\n' > "$T/bad-unbound.conf"
sed "s|^resolver_config = .*|resolver_config = $T/bad-unbound.conf|" "$CONF" > "$T/ub.conf"
"$DANEPOLD" -n -c "$T/ub.conf" > /dev/null 2> "$T/e"; rc=$?
check "-n: a broken resolver_config exits 69 with libunbound's line in the log as file:line: reason" \
	eval "[ $rc = 69 ] && grep -q '^danepold: error: $T/bad-unbound.conf:2: unknown keyword .no-such-option. (libunbound)\$' '$T/e' && ! grep -qv '^danepold: ' '$T/e'"
ubline=$(grep -n '^resolver_config' "$T/ub.conf" | cut -d: -f1)
check "-n: ... and the danepol.conf line that named it" \
	grep -q "^danepold: error: $T/ub.conf:$ubline: resolver_config $T/bad-unbound.conf: syntax error" "$T/e"
sed "s/^trust_anchor = .*/trust_anchor = garbage/" "$CONF" > "$T/ta2.conf"
"$DANEPOLD" -n -c "$T/ta2.conf" > /dev/null 2> "$T/e"; rc=$?
check "-n: an unparsable trust anchor: libunbound's parse error in the log" \
	eval "[ $rc = 69 ] && grep -q '^danepold: error: libunbound: error parsing trust anchor garbage' '$T/e' && ! grep -qv '^danepold: ' '$T/e'"
"$DANEPOLD" -p -c "$CONF" > "$T/o" 2>&1; rc=$?
check "-p prints the effective configuration" \
	eval "[ $rc = 0 ] && grep -q '^milter_socket = $SOCK\$' '$T/o'"
"$DANEPOLD" -x > /dev/null 2>&1; rc=$?
check "an unknown option exits 64" [ $rc = 64 ]
# issue 11, item 10: world-accessible sockets and writable settings
write_conf "$T/w.conf" "socket_mode = 0666"
"$DANEPOLD" -n -c "$T/w.conf" > /dev/null 2> "$T/e"; rc=$?
check "socket_mode 0666 exits 78 with file:line and the key that allows it" \
	eval "[ $rc = 78 ] && grep -q '$T/w.conf:9: socket_mode 0666 .*socket_world_access = yes' '$T/e'"
printf 'socket_world_access = yes\n' >> "$T/w.conf"
"$DANEPOLD" -n -c "$T/w.conf" > /dev/null 2> "$T/e"; rc=$?
check "... accepted with socket_world_access = yes" [ $rc = 0 ]
cp "$CONF" "$T/ww.conf"; chmod 0666 "$T/ww.conf"
"$DANEPOLD" -n -c "$T/ww.conf" > /dev/null 2> "$T/e"; rc=$?
check "a world-writable configuration file exits 78" \
	eval "[ $rc = 78 ] && grep -q 'writable by every user (mode 0666): refused' '$T/e'"
if [ "$(id -u)" = 0 ]; then
	chmod 0644 "$T/ww.conf"; chown nobody "$T/ww.conf"
	"$DANEPOLD" -n -c "$T/ww.conf" > /dev/null 2> "$T/e"; rc=$?
	check "as root, a configuration file of another user exits 78" \
		eval "[ $rc = 78 ] && grep -q 'owned by uid [0-9]*, not root' '$T/e'"
fi
# issue 13: errors that say what to do
write_conf "$T/h.conf" "milter_socket = inet:127.0.0.1:8891"
sed -i '/^milter_socket = inet:[0-9]*@/d' "$T/h.conf"
"$DANEPOLD" -n -c "$T/h.conf" > /dev/null 2> "$T/e"; rc=$?
check "-n: inet:HOST:PORT exits 78 with the PORT@HOST spelling as a hint" \
	eval "[ $rc = 78 ] && grep -q 'h.conf:[0-9]*: milter_socket: .*did you mean inet:8891@127.0.0.1?' '$T/e'"
write_conf "$T/k.conf" "polciy_table = $T/none"
"$DANEPOLD" -n -c "$T/k.conf" > /dev/null 2> "$T/e"; rc=$?
check "-n: an unknown key suggests the closest known one" \
	eval "[ $rc = 78 ] && grep -q 'k.conf:[0-9]*: unknown key \"polciy_table\" (did you mean \"policy_table\"?)' '$T/e'"
write_conf "$T/pt.conf" "policy_table = $T/no-such-table"
ptline=$(grep -n '^policy_table' "$T/pt.conf" | cut -d: -f1)
"$DANEPOLD" -n -c "$T/pt.conf" > /dev/null 2> "$T/e"; rc=$?
check "-n: a missing policy table names the line of danepol.conf that set it" \
	eval "[ $rc = 78 ] && grep -q '^danepold: error: $T/pt.conf:$ptline: policy_table: $T/no-such-table: cannot open' '$T/e'"
# issue 13: -n checks what start-up needs from the system
if [ "$(id -u)" = 0 ]; then
	write_conf "$T/u.conf"
	sed -i 's/^user = .*/user = no-such-user-13/' "$T/u.conf"
	"$DANEPOLD" -n -c "$T/u.conf" > /dev/null 2> "$T/e"; rc=$?
	check "-n: a user that does not exist exits 78 naming its line" \
		eval "[ $rc = 78 ] && grep -q 'u.conf:[0-9]*: user = no-such-user-13: no such user; create it' '$T/e'"
	write_conf "$T/g.conf" "socket_group = no-such-group-13"
	sed -i '/^socket_group = none/d' "$T/g.conf"
	"$DANEPOLD" -n -c "$T/g.conf" > /dev/null 2> "$T/e"; rc=$?
	check "-n: a socket_group that does not exist exits 78" \
		eval "[ $rc = 78 ] && grep -q 'g.conf:[0-9]*: socket_group = no-such-group-13: no such group' '$T/e'"
	mkdir -m 0755 "$T/rootonly"
	write_conf "$T/d.conf" "socketmap_socket = unix:$T/rootonly/map.sock"
	sed -i "s|^audit_log = .*|audit_log = $T/rootonly/audit.log|" "$T/d.conf"
	"$DANEPOLD" -n -c "$T/d.conf" > /dev/null 2> "$T/e"; rc=$?
	check "-n: socket and audit directories the user may not write exit 71, each named" \
		eval "[ $rc = 71 ] && grep -q 'd.conf:[0-9]*: socketmap_socket = unix:$T/rootonly/map.sock: user nobody may not create files in $T/rootonly' '$T/e' && grep -q 'd.conf:[0-9]*: audit_log = $T/rootonly/audit.log: user nobody may not create' '$T/e'"
	: > "$T/rootonly/audit.log"; chown nobody "$T/rootonly/audit.log"
	sed -i '/^socketmap_socket/d' "$T/d.conf"
	"$DANEPOLD" -n -c "$T/d.conf" > /dev/null 2> "$T/e"; rc=$?
	check "-n: ... an existing audit log the user may write is enough" [ $rc = 0 ]
	write_conf "$T/m.conf" "pid_file = $T/no-such-dir/danepold.pid"
	sed -i "0,/^pid_file = /{/^pid_file = /d}" "$T/m.conf"
	"$DANEPOLD" -n -c "$T/m.conf" > /dev/null 2> "$T/e"; rc=$?
	check "-n: a pid_file directory that does not exist yet is a warning" \
		eval "[ $rc = 0 ] && grep -q 'warning: .*m.conf:[0-9]*: pid_file = $T/no-such-dir/danepold.pid: directory $T/no-such-dir does not exist' '$T/e'"
else
	ok "# SKIP -n user, group and directory checks: not root"
fi

# ------------------------------------------------------------ start-up
: > "$T/err"
"$DANEPOLD" -f -c "$CONF" 2> "$T/err" & DPID=$!
if ! wait_for 20 grep -q "danepold ready" "$T/err"; then
	not_ok "danepold logs 'danepold ready'" "$(cat "$T/err")"; finish
fi
ok "danepold logs 'danepold ready'"
check "the pid file holds the daemon's pid" eval "[ \"\$(cat '$T/danepold.pid')\" = $DPID ]"
"$DANEPOLD" -f -c "$CONF" > /dev/null 2> "$T/e2"; rc=$?
check "a second instance with the same pid file exits 71" \
	eval "[ $rc = 71 ] && grep -q 'already runs' '$T/e2'"

mt() { miltertest -s "$LUA" -D sock="$SOCK" -D mode="$1" > "$T/mt.out" 2>&1; }
for mode in smtp nonsmtp plain; do
	if mt $mode; then ok "miltertest session ($mode)"; else not_ok "miltertest session ($mode)" "$(cat "$T/mt.out")"; fi
done

# --------------------------------------------------------------- audit
py_schema() {
	/usr/bin/env python3 -W ignore - "$TOP_SRCDIR/doc" "$@" <<'PY'
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(77)
doc = sys.argv[1]
aud = json.load(open(doc + "/audit.schema.json"))
dec = json.load(open(doc + "/decision.schema.json"))
res = jsonschema.RefResolver.from_schema(aud, store={dec["$id"]: dec})
v = jsonschema.Draft202012Validator(aud, resolver=res)
for path in sys.argv[2:]:
    for n, line in enumerate(open(path), 1):
        try:
            v.validate(json.loads(line))
        except Exception as e:
            print("%s:%d: %s" % (path, n, str(e).splitlines()[0])); sys.exit(1)
PY
}
py_schema "$T/audit.log" > "$T/py.out" 2>&1; rc=$?
case $rc in
0) ok "every audit line is valid against doc/audit.schema.json" ;;
77) echo "# python3-jsonschema missing: schema check skipped" ;;
*) not_ok "every audit line is valid against doc/audit.schema.json" "$(cat "$T/py.out")" ;;
esac
check "3 sessions x 5+1 recipient lines (+1 all-deferred) = 19 rcpt lines" \
	[ "$(count '"event":"rcpt"' "$T/audit.log")" = 19 ]
check "one message line per transaction (3+2+2 = 7)" \
	[ "$(count '"event":"message"' "$T/audit.log")" = 7 ]
check "bogus.example was tempfailed with 450 4.7.5 (smtp and plain)" \
	[ "$(count '"recipient":"bob@bogus.example","destination":"bogus.example","action":"tempfail","reply":"450 4.7.5 ' "$T/audit.log")" = 2 ]
check "non-SMTP mail is audit-only" \
	[ "$(count '"recipient":"bob@bogus.example","destination":"bogus.example","action":"audit-only"' "$T/audit.log")" = 1 ]
check "the all-deferred transaction still has its message line" \
	grep -q '"recipients":\[{"recipient":"frank@expired.example","destination":"expired.example","verdict":"defer","action":"tempfail"}\],"recipients_omitted":0,"accepted":0,"deferred":1' "$T/audit.log"

# ------------------------------------------------------------- signals
reloads() { count "configuration reloaded" "$T/err"; }
r0=$(reloads)
write_conf "$CONF" "status.mx-dnssec-bogus = 451 4.7.5 reloaded-one"
kill -HUP "$DPID"
check "SIGHUP reloads" wait_for 10 eval "[ \$(reloads) -gt $r0 ]"
check "danepold survives SIGHUP" kill -0 "$DPID"
mt smtp; check "the new status text is used after the reload" \
	grep -q '"action":"tempfail","reply":"451 4.7.5 reloaded-one' "$T/audit.log"

printf 'decision_timeout = 99 parsecs\n' >> "$CONF"
kill -HUP "$DPID"
check "a broken reload is logged with file:line" wait_for 10 grep -q "$CONF:10:" "$T/err"
check "... and the old configuration stays" kill -0 "$DPID"
: > "$T/audit.log"
mt smtp; check "the old snapshot still answers" grep -q '"reply":"451 4.7.5 reloaded-one' "$T/audit.log"

write_conf "$CONF" "status.mx-dnssec-bogus = 451 4.7.5 reloaded-two"
r0=$(reloads)
# A burst: HUP, USR1 and USR2 back to back, with sessions running.
mt smtp & MT=$!
perl -e 'for (1..200) { kill "HUP", $ARGV[0]; kill "USR1", $ARGV[0]; kill "USR2", $ARGV[0]; }' "$DPID"
wait $MT; mtrc=$?
check "a 600-signal burst of HUP/USR1/USR2 does not stop danepold" \
	eval "wait_for 10 eval '[ \$(reloads) -gt $r0 ]' && kill -0 $DPID"
check "the session during the burst completed" [ $mtrc = 0 ]
: > "$T/audit.log"
mt smtp; check "after the burst the newest configuration answers" \
	grep -q '"reply":"451 4.7.5 reloaded-two' "$T/audit.log"

mv "$T/audit.log" "$T/audit.log.1"
o0=$(count "reopened" "$T/err")
kill -USR1 "$DPID"
check "SIGUSR1 reopens the audit log" wait_for 10 eval "[ \$(count reopened '$T/err') -gt $o0 ] && [ -f '$T/audit.log' ]"
mt smtp; check "new lines go to the new file" eval "[ \$(count '\"event\":\"rcpt\"' '$T/audit.log') = 7 ]"

dm_stop
check "the pid file is removed at exit" [ ! -e "$T/danepold.pid" ]

# ---------------------------------------------------- a unix socket
USOCK=$T/milter.sock
SOCK="unix:$USOCK"
write_conf "$CONF" "socket_mode = 0660"
: > "$T/err"
"$DANEPOLD" -f -c "$CONF" 2> "$T/err" & DPID=$!
if wait_for 20 grep -q "danepold ready" "$T/err"; then
	check "the unix socket has mode 0660" [ "$(stat -c %a "$USOCK")" = 660 ]
	[ -n "$USERLINE" ] && check "... and belongs to the unprivileged user" \
		[ "$(stat -c %U "$USOCK")" = nobody ]
	mt smtp; check "a session over the unix socket" grep -q PASS "$T/mt.out"
	kill -TERM "$DPID"; wait "$DPID"; DPID=
else
	not_ok "danepold on a unix socket" "$(cat "$T/err")"
fi

# ------------------------------------------------ what the pid file finds
# (issue 11, item 7) A socketmap-only danepold stops at once on SIGTERM.
P=$T/p.pid
write_conf "$T/p.conf" "socketmap_socket = unix:$T/sm.sock"
sed -i "s|^milter_socket = .*|milter_socket = none|; s|^pid_file = .*|pid_file = $P|" "$T/p.conf"
# pid_refused DESC: danepold refuses the pid file within 20 s (exit 71)
# and says why (grep pattern $2).
pid_refused() {
	timeout -k 2 20 "$DANEPOLD" -f -c "$T/p.conf" > /dev/null 2> "$T/pe"; rc=$?
	if [ $rc = 71 ] && grep -q "$2" "$T/pe"; then
		ok "$1: refused with exit 71, not hanging"
	else
		not_ok "$1: refused with exit 71, not hanging" "exit $rc: $(head -c 300 "$T/pe")"
	fi
}
# pid_accepted DESC: danepold starts, its pid is in the file, and at stop
# the file is gone.
pid_accepted() {
	"$DANEPOLD" -f -c "$T/p.conf" 2> "$T/pe" & DPID=$!
	if wait_for 20 grep -q "danepold ready" "$T/pe"; then
		check "$1: accepted, the file now holds the pid" eval "[ \"\$(cat '$P')\" = $DPID ]"
		check "$1: ... and said so" grep -q "is stale (pid .*): replacing it" "$T/pe"
		kill -TERM "$DPID"; wait "$DPID"; DPID=
		check "$1: ... and is removed at stop" [ ! -e "$P" ]
	else
		not_ok "$1: accepted" "$(head -c 300 "$T/pe")"
		kill -KILL "$DPID" 2> /dev/null; DPID=
	fi
}
mkfifo "$P"
pid_refused "a FIFO planted as pid file" "not a regular file"
check "... the FIFO is left alone" [ -p "$P" ]
rm -f "$P"
printf 'precious\n' > "$P"; chmod 0600 "$P"
pid_refused "a 0600 file holding 'precious'" "holds something else than a pid"
check "... the file is untouched" eval "[ \"\$(cat '$P')\" = precious ] && [ \$(stat -c %a '$P') = 600 ]"
rm -f "$P"
printf 'target\n' > "$T/target"; chmod 0600 "$T/target"; ln -s "$T/target" "$P"
pid_refused "a symbolic link planted as pid file" "symbolic link"
check "... the link and its target are untouched" \
	eval "[ -L '$P' ] && [ \"\$(cat '$T/target')\" = target ] && [ \$(stat -c %a '$T/target') = 600 ]"
rm -f "$P"
printf '7\n' > "$T/target"; ln "$T/target" "$P"
pid_refused "a hard link planted as pid file" "not a regular file with one link"
check "... its other name is untouched" eval "[ \"\$(cat '$T/target')\" = 7 ]"
rm -f "$P"
printf '1\n' > "$P"
pid_accepted "a stale pid file holding 1"
sh -c 'echo $$' > "$P"
pid_accepted "a stale pid file naming a dead process"
if [ -n "$USERLINE" ]; then
	printf 'mine\n' > "$P"; chown nobody "$P"
	pid_refused "a file of the daemon user holding text" "holds something else than a pid"
	printf '42\n' > "$P"; chown daemon "$P"
	pid_refused "a file of another user" "owned by uid"
	rm -f "$P"
fi
"$DANEPOLD" -f -c "$T/p.conf" 2> "$T/pe" & DPID=$!
if wait_for 20 grep -q "danepold ready" "$T/pe"; then
	pid_refused "a second danepold on the same pid file" "already runs as pid $DPID"
	check "... the first one's pid file is kept" eval "[ \"\$(cat '$P')\" = $DPID ]"
	kill -TERM "$DPID"; wait "$DPID"; DPID=
else
	not_ok "danepold with a pid file" "$(head -c 300 "$T/pe")"
fi
finish
