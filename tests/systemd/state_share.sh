#!/usr/bin/env bash
# tests/systemd/state_share.sh - the outcome store in /var/lib/danepol is
# shared by danepold.service (User=danepol, Group=postfix) and
# danepol-report.service (User=danepol, Group=danepol), both with
# StateDirectory=danepol, StateDirectoryMode=0750 and UMask=0027.
#
# systemd gives a StateDirectory= (and, recursively, its files) the user
# and group of the unit being started, so the group of /var/lib/danepol
# and of outcomes.db, -wal and -shm alternates between postfix and danepol.
# Both processes reach the files as their owner (same user), so neither
# may depend on the group. This test plays that out with real processes
# under the units' identities (setpriv; user nobody stands in for danepol,
# groups postfix and nogroup for the two primary groups), umask 0027:
#   1. the state directory nobody:postfix 0750 (danepold's unit started);
#      danepold opens the store and writes an Exim outcome (event line on
#      its exim_socket), keeping the database, -wal and -shm open;
#   2. chgrp -R nogroup (the report unit starts while danepold runs); as
#      nobody:nogroup, `danepol report --dry-run` opens the same database
#      read-write (WAL readers write the -shm) and reports the outcome;
#   3. chgrp -R postfix (danepold restarted): the running danepold writes a
#      second outcome, the report sees both;
#   4. every file stays owner-only writable and group-readable at most
#      (0640), nothing world-readable.
#
# Environment (make check): DANEPOLD, DANEPOL. Needs root (setpriv),
# python3, the groups postfix and nogroup. "N passed, M failed"; 0/1/77.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOLD=${DANEPOLD:-./danepold}
DANEPOL=${DANEPOL:-./danepol}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: not root (setpriv to the units' identities)"; exit 77; }
for c in setpriv python3; do
	command -v "$c" > /dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
for g in postfix nogroup; do
	getent group "$g" > /dev/null || { echo "SKIP: no group $g"; exit 77; }
done
if [ ! -x "$DANEPOLD" ] || [ ! -x "$DANEPOL" ]; then echo "SKIP: DANEPOLD/DANEPOL not executable"; exit 77; fi

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/danepol-state.XXXXXX") || exit 1
chmod 755 "$T"
DPID=
# shellcheck disable=SC2317  # called from the trap
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2> /dev/null && wait "$DPID" 2> /dev/null
	rm -rf "$T"
}
trap cleanup EXIT
# as GROUP CMD...: run CMD as nobody with primary group GROUP, umask 0027
as() {
	local g=$1
	shift
	setpriv --reuid=nobody --regid="$g" --clear-groups -- sh -c 'umask 0027; exec "$@"' sh "$@"
}

S=$T/state
install -d -o nobody -g postfix -m 0750 "$S"
mkdir -m 0755 "$T/run" && chown nobody "$T/run"
DB=$S/outcomes.db
cat > "$T/danepol.conf" <<EOF
milter_socket = none
exim_socket = unix:$T/run/exim.sock
socket_group = none
pid_file = none
audit_log = none
resolver_forward = 127.0.0.1
outcome_db = $DB
report_dir = $S/reports
report_org_name = danepol test
report_contact = postmaster@sender.test
EOF
chmod 644 "$T/danepol.conf"

# 1. danepold, as its unit runs it
# (setpriv itself in the background, not the function: $! is danepold)
setpriv --reuid=nobody --regid=postfix --clear-groups -- \
	sh -c 'umask 0027; exec "$@"' sh "$DANEPOLD" -f -c "$T/danepol.conf" 2> "$T/danepold.err" &
DPID=$!
if ! wait_for 20 grep -q "danepold ready" "$T/danepold.err"; then
	not_ok "danepold (nobody:postfix) starts with outcome_db in the state directory" "$(head -5 "$T/danepold.err")"
	finish
fi
ok "danepold (nobody:postfix) starts with outcome_db in the state directory"
event() {	# HOST: one Exim delivery event for secure.example; prints the reply
	python3 - "$T/run/exim.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(("event msg:delivery domain=secure.example host=%s ip=127.0.0.1"
           " cipher=TLS_AES_256_GCM_SHA384 dane=yes\n" % sys.argv[2]).encode())
s.shutdown(socket.SHUT_WR)
print(s.recv(100).decode().strip())
PY
}
check_eq "danepold takes an Exim outcome event" "$(event mx1.secure.example)" ok
check_eq "the database, -wal and -shm exist (WAL mode, danepold keeps them open)" \
	"$(find "$S" -maxdepth 1 -name 'outcomes.db*' -printf '%f ' | tr ' ' '\n' | sort | tr '\n' ' ')" \
	"outcomes.db outcomes.db-shm outcomes.db-wal "

TODAY=$(date -u +%F)
report() {	# GROUP: danepol report --dry-run for today, secure.example
	as "$1" "$DANEPOL" report -c "$T/danepol.conf" --dry-run --date "$TODAY" --domain secure.example
}

# 2. the report unit starts: systemd chowns the directory tree to its group
chgrp -R nogroup "$S"
out=$(report nogroup 2> "$T/report.err")
check_eq "danepol report (nobody:nogroup) reads danepold's open store: 1 session" \
	"$(printf '%s' "$out" | sed -n 's/^secure.example: \([0-9]*\) sessions: .*/\1/p')" 1
[ -s "$T/report.err" ] && not_ok "danepol report: no diagnostics" "$(head -3 "$T/report.err")"

# 3. danepold's unit restarts: back to group postfix; danepold writes on
chgrp -R postfix "$S"
check_eq "danepold writes a second outcome after the group changed twice" "$(event mx2.secure.example)" ok
out=$(report nogroup 2> "$T/report.err")
check_eq "danepol report sees both outcomes" \
	"$(printf '%s' "$out" | sed -n 's/^secure.example: \([0-9]*\) sessions: .*/\1/p')" 2
check_eq "danepold logged no store error" "$(grep -c 'outcome store' "$T/danepold.err")" 0

# 4. permissions: owner nobody, group-readable at most
bad=$(find "$S" -mindepth 1 \( ! -user nobody -o -perm /0027 \) -printf '%M %u %p\n')
check_eq "every file in the state directory: owner nobody, no group write, nothing for others" "$bad" ""
check_eq "outcomes.db, -wal, -shm are 0640" \
	"$(stat -c %a "$DB" "$DB-wal" "$DB-shm" | tr '\n' ' ')" "640 640 640 "
finish
