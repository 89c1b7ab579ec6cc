# shellcheck shell=bash
# tests/danepold/lib.sh - the set-up tests/danepold/maps.sh and conns.sh
# share: danepold against the offline world of tools/mkworld.sh plus the
# fault responder for its black-holed zones. Sourced (bash) after
# tests/lib/tap.sh; defines functions only.
#
#   dm_require               exit 77 (SKIP) without WORLD_DIR, FAULTDNS or python3
#   dm_tmpdir NAME           T = a fresh directory (mode 0777: the daemon may
#                            run as nobody); DPID= FPID=; an EXIT trap kills
#                            danepold (DPID) and the fault responder (FPID)
#                            and removes T
#   dm_world_faults          starts the fault responder (FPID), then writes
#                            $T/unbound.conf: the world's world.conf plus a
#                            stub-zone per fault zone; as root sets
#                            USERLINE="user = nobody" (and copies the world
#                            into $T/world when nobody cannot read it);
#                            returns 1 when the responder does not start
#   dm_setup NAME            dm_require, dm_tmpdir NAME, dm_world_faults (the
#                            test stops with not_ok when the responder fails)
#   dm_stop                  SIGTERM to danepold (DPID): ok when it exits 0
#                            within 20 s, not_ok otherwise; clears DPID
#   client ARGS...           runs python3 $CLIENT ARGS, turning its PASS/FAIL
#                            lines into ok/not_ok, the rest into comments
#   count PATTERN FILE       prints the number of lines of FILE matching

dm_require() {
	if [ -z "${WORLD_DIR:-}" ] || [ ! -f "$WORLD_DIR/world.conf" ]; then
		echo "SKIP: WORLD_DIR unset or missing (run through make check)"; exit 77
	fi
	[ -x "${FAULTDNS:-}" ] || { echo "SKIP: FAULTDNS unset (run through make check)"; exit 77; }
	command -v python3 > /dev/null || { echo "SKIP: python3 not installed"; exit 77; }
}

dm_cleanup() {
	[ -n "$DPID" ] && kill -0 "$DPID" 2> /dev/null && kill -KILL "$DPID"
	[ -n "$FPID" ] && kill -TERM "$FPID" 2> /dev/null && wait "$FPID" 2> /dev/null
	rm -rf "$T"
}

dm_tmpdir() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/danepold-$1.XXXXXX") || exit 1
	chmod 0777 "$T"
	DPID='' FPID=''
	trap dm_cleanup EXIT
}

# shellcheck disable=SC2034  # WORLD, USERLINE, FPID, port: the caller's
dm_world_faults() {
	local z
	mapfile -t FAULTS < <(awk '!/^#/ && NF == 2 { print $1 "=" $2 }' "$WORLD_DIR/fault-zones")
	coproc FAULT { exec "$FAULTDNS" -p 0 -s 300 "${FAULTS[@]}"; }
	FPID=$FAULT_PID
	read -r -t 10 word port <&"${FAULT[0]}" || word=
	[ "${word:-}" = PORT ] || return 1
	WORLD=$WORLD_DIR
	USERLINE=
	if [ "$(id -u)" = 0 ]; then
		USERLINE="user = nobody"
		if ! runuser -u nobody -- cat "$WORLD_DIR/world.conf" > /dev/null 2>&1; then
			WORLD=$T/world
			cp -r "$WORLD_DIR" "$WORLD" && chmod -R a+rX "$WORLD"
			sed -i "s|$(cd "$WORLD_DIR" && pwd -P)/|$WORLD/|g; s|$WORLD_DIR/|$WORLD/|g" "$WORLD/world.conf"
		fi
	fi
	{
		cat "$WORLD/world.conf"
		for z in "${FAULTS[@]}"; do
			printf 'stub-zone:\n\tname: "%s."\n\tstub-addr: 127.0.0.1@%s\n' "${z%%=*}" "$port"
		done
	} > "$T/unbound.conf"
}

dm_setup() {
	dm_require
	dm_tmpdir "$1"
	dm_world_faults || { not_ok "the fault responder starts"; finish; }
}

# dm_conf [LINE...]: a danepold.conf on stdout: the lines every test here
# shares (the world's trust anchor and resolver config from dm_setup, a 2 s
# decision bound, no pid file, sockets mode 0660 without a group change,
# $USERLINE), then LINE... (keys not among the shared ones; "" lines are fine).
dm_conf() {
	printf '%s\n' "trust_anchor = $(cat "$WORLD_DIR/root.ds")" "resolver_config = $T/unbound.conf" \
		"decision_timeout = 2s" "pid_file = none" "socket_group = none" "socket_mode = 0660" \
		"$USERLINE" "$@"
}

dm_stop() {
	local rc
	kill -TERM "$DPID"
	if wait_for 20 eval "! kill -0 $DPID 2> /dev/null"; then
		wait "$DPID"; rc=$?
		check "SIGTERM: exit status 0" [ $rc = 0 ]
		DPID=
	else
		not_ok "SIGTERM stops danepold within 20 s"
	fi
}

client() {
	local line
	while IFS= read -r line; do
		case $line in
		"PASS "*) ok "${line#PASS }" ;;
		"FAIL "*) not_ok "${line#FAIL }" ;;
		*) echo "# $line" ;;
		esac
	done < <(python3 "$CLIENT" "$@" 2>&1)
}

count() { grep -c -- "$1" "$2" 2> /dev/null || true; }

# qstats EXPR: a Python expression over the outcome_queue object q of the
# stats reply of the control socket $QSOCK (default $T/control.sock)
qstats() {
	python3 -c 'import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(b"stats\n"); s.shutdown(socket.SHUT_WR)
data = b""
while True:
    c = s.recv(65536)
    if not c: break
    data += c
q = json.loads(data)["outcome_queue"]
print(eval(sys.argv[2]))' "${QSOCK:-$T/control.sock}" "$1" 2> /dev/null
}
