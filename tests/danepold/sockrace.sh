#!/usr/bin/env bash
# tests/danepold/sockrace.sh - the unix sockets cannot be turned against
# root (danepol issue 11, item 6). danepold is started as root with
# user = nobody, its three unix sockets (milter, socketmap, Exim) in a
# directory that nobody owns - as /run/danepol belongs to danepol. A
# racer running as nobody loops: whenever a socket file appears, it
# renames a symbolic link to a root-owned 0600 canary over it. danepold
# is started and killed RACE_STARTS times (default 100, bounded by
# RACE_SECONDS, default 120); after every start the canary's owner,
# group and mode must be unchanged. Then, without the racer, the sockets
# must be born nobody:nogroup with socket_mode, checked with stat.
#
# Environment (make check): WORLD_DIR, DANEPOLD. Skipped (77) when not
# root (the race needs a second user), without the world, without the
# user nobody / group nogroup or without setpriv(1).
# Waiting is for a condition with a deadline, never a bare sleep.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOLD=${DANEPOLD:-./danepold}
STARTS=${RACE_STARTS:-100}
SECONDS_MAX=${RACE_SECONDS:-120}

[ "$(id -u)" = 0 ] || { echo "SKIP: not root: the race needs root and a second user"; exit 77; }
if [ -z "${WORLD_DIR:-}" ] || [ ! -f "$WORLD_DIR/world.conf" ]; then
	echo "SKIP: WORLD_DIR unset or missing (run through make check)"; exit 77
fi
getent passwd nobody > /dev/null && getent group nogroup > /dev/null ||
	{ echo "SKIP: no user nobody or group nogroup to race as"; exit 77; }
command -v setpriv > /dev/null || { echo "SKIP: setpriv (util-linux) missing"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "SKIP: python3 missing"; exit 77; }

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
TAP_WAIT_STEP=0.02	# wait_for polls every 20 ms

T=$(mktemp -d "${TMPDIR:-/tmp}/danepold-race.XXXXXX") || exit 1
chmod 0755 "$T"
S=$T/run			# the socket directory: nobody's, like /run/danepol
mkdir "$S" && chown nobody:nogroup "$S" && chmod 0755 "$S"
CANARY=$T/canary		# root's, out of nobody's reach
printf 'secret\n' > "$CANARY" && chmod 0600 "$CANARY"
RACER=
cleanup() {
	[ -n "$RACER" ] && kill "$RACER" 2> /dev/null
	if [ -s "$S/d.pid" ]; then kill -KILL "$(cat "$S/d.pid")" 2> /dev/null; fi
	[ -n "${KEEP:-}" ] && cp "$T/race.err" /tmp/sockrace.err; rm -rf "$T"
}
trap cleanup EXIT

# gone PID: the process has exited (a zombie counts: its files are closed).
gone() { [ ! -e "/proc/$1/stat" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2> /dev/null)" = Z ]; }

cat > "$T/d.conf" <<CONF
trust_anchor = $(cat "$WORLD_DIR/root.ds")
resolver_config = $WORLD_DIR/world.conf
milter_socket = unix:$S/milter.sock
socketmap_socket = unix:$S/socketmap.sock
exim_socket = unix:$S/exim.sock
user = nobody
socket_group = nogroup
socket_mode = 0660
outcome_db = none
pid_file = $S/d.pid
audit_log = $S/audit.log
CONF

canary_state() { stat -c '%U:%G %a' "$CANARY"; }
want=$(canary_state)

# The racer: as nobody, swap every socket file that appears for a link
# to the canary (rename(2) replaces it atomically).
setpriv --reuid=nobody --regid=nogroup --clear-groups -- /usr/bin/python3 - "$S" "$CANARY" "$SECONDS_MAX" <<'PY' &
import os, stat, sys, time
d, canary, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
end = time.monotonic() + limit + 10
names = ["milter.sock", "socketmap.sock", "exim.sock"]
while time.monotonic() < end:
    for n in names:
        p = os.path.join(d, n)
        try:
            if not stat.S_ISSOCK(os.lstat(p).st_mode):
                continue
            tmp = p + ".link"
            try:
                os.symlink(canary, tmp)
            except FileExistsError:
                pass
            os.rename(tmp, p)
        except OSError:
            pass
PY
RACER=$!

t0=$(date +%s) n=0 ready=0 broken= swapped=0
while [ $n -lt "$STARTS" ] && [ $(( $(date +%s) - t0 )) -lt "$SECONDS_MAX" ]; do
	n=$((n + 1))
	find "$S" -mindepth 1 -type l -delete	# a fresh start: no links left over
	"$DANEPOLD" -c "$T/d.conf" > /dev/null 2>> "$T/race.err"; rc=$?
	if [ $rc = 0 ]; then
		ready=$((ready + 1))
		pid=$(cat "$S/d.pid")
		kill -KILL "$pid"	# start-up is under test; a clean stop takes 5 s (libmilter)
		wait_for 20 gone "$pid" || { not_ok "danepold $pid stops"; finish; }
	fi
	for l in "$S"/*.sock; do [ -L "$l" ] && swapped=$((swapped + 1)); done
	if [ "$(canary_state)" != "$want" ]; then
		broken=$n
		break
	fi
done
kill "$RACER" 2> /dev/null; wait "$RACER" 2> /dev/null; RACER=
hits=$(grep -c 'replaced while being set up\|not a UNIX domain socket\|is not a socket' "$T/race.err")
echo "# $n starts in $(( $(date +%s) - t0 )) s, $ready reached ready, $hits refused a swapped path, $swapped sockets swapped for a link"
if [ -n "$broken" ]; then
	not_ok "the canary is untouched after $n racing starts" \
		"start $broken: $want became $(canary_state)"
	finish
fi
ok "the canary is untouched after $n racing starts ($want)"
check "the racer did hit: sockets were swapped for links to the canary" \
	[ $((hits + swapped)) -gt 0 ]

# Without the racer: the sockets are born with the right owner and mode.
find "$S" -mindepth 1 -delete
: > "$T/err"
"$DANEPOLD" -c "$T/d.conf" > /dev/null 2>> "$T/err"; rc=$?
check "danepold starts without the racer" [ $rc = 0 ]
for s in milter socketmap exim; do
	check "$s.sock is nobody:nogroup 0660 (stat)" \
		[ "$(stat -c '%U:%G %a %F' "$S/$s.sock" 2> /dev/null)" = "nobody:nogroup 660 socket" ]
done
[ $rc = 0 ] && kill -TERM "$(cat "$S/d.pid")"
check "the sockets are removed at stop" wait_for 20 \
	eval "[ ! -e '$S/milter.sock' ] && [ ! -e '$S/socketmap.sock' ] && [ ! -e '$S/exim.sock' ]"

# A set-group-ID directory of another group: the socket is born with
# that group and given socket_group on its own inode (never by path).
chgrp root "$S" && chmod 2755 "$S"
wait_for 20 eval "! [ -s '$S/d.pid' ] || gone \$(cat '$S/d.pid')"
"$DANEPOLD" -c "$T/d.conf" > /dev/null 2> "$T/err"; rc=$?
check "danepold starts in a set-group-ID directory" [ $rc = 0 ]
for s in milter socketmap exim; do
	check "$s.sock is still nobody:nogroup 0660 there" \
		[ "$(stat -c '%U:%G %a' "$S/$s.sock" 2> /dev/null)" = "nobody:nogroup 660" ]
done
[ $rc = 0 ] && kill -KILL "$(cat "$S/d.pid")"
finish
