# shellcheck shell=bash
# tests/e2e/lib.sh - sourced by the end-to-end tests and tools/demo-postfix.sh.
#
# Builds a private, throw-away mail set-up in one temporary directory:
#   - the offline DNSSEC world (WORLD_DIR from tools/mkworld.sh) plus the
#     fault responder (FAULTDNS) for its black-holed/SERVFAIL/... zones,
#     exactly as tests/danepol/check.sh does;
#   - danepold instances (DANEPOLD), each with its own danepol.conf,
#     socket, audit log and stderr log;
#   - smtp-sink on 127.0.0.1:<free port>, appending every delivered
#     transaction to a dump file (X-Rcpt-Args lines show the recipients);
#   - one private Postfix instance (postfix -c DIR start) relaying
#     everything to the sink, with no DNS, logging to a file, and one
#     smtpd listener on 127.0.0.1:<free port> per milter under test.
# Everything started here is stopped, and the directory removed, by
# e2e_cleanup, which e2e_init installs as the EXIT trap (set E2E_KEEP=1 to
# keep the directory for debugging).
#
# Synchronisation is never a fixed sleep: e2e_wait polls a condition in
# short steps and gives up after a bound.
#
# Needs root (Postfix), postfix (smtp-sink, postconf), python3 (free ports).
# Errors: functions print "e2e: ..." on stderr and return non-zero; callers
# decide (the tests report "not ok" and stop, the demo exits).

E2E_T=
E2E_PIDS=()		# every background process we started (not Postfix)
E2E_PF_DIR=		# Postfix config directory once e2e_postfix_init ran
E2E_PF_STARTED=
E2E_FAULT_PID=		# set by the coproc E2E_FAULT
E2E_RC=0		# exit status of the last e2e_danepold_stop
E2E_SINK_PORT=
E2E_RESOLVER_CONF=	# unbound config: the world plus stub zones for faults
E2E_TRUST_ANCHOR=	# the world's root DS record
declare -A E2E_DPID	# danepold name -> pid
declare -A E2E_DSOCK	# danepold name -> milter socket ("unix:PATH" / "inet:PORT@HOST")

e2e_err() { printf 'e2e: %s\n' "$*" >&2; }

# e2e_paths: DANEPOLD (default ./danepold) and, when set, DANEPOL,
# WORLD_DIR and FAULTDNS made absolute (relative to the current directory)
# and exported: the tests re-execute themselves in namespaces, and
# Postfix, miltertest and danepold run them from other directories.
e2e_paths() {
	local v val
	DANEPOLD=${DANEPOLD:-./danepold}
	for v in DANEPOL DANEPOLD WORLD_DIR FAULTDNS; do
		val=${!v:-}
		case $val in "" | /*) ;; *) printf -v "$v" '%s' "$PWD/$val" ;; esac
		export "${v?}"
	done
}

# e2e_skip_reason: prints why this machine cannot run the Postfix tests
# (and returns 0), or returns 1 when it can.
e2e_skip_reason() {
	if [ "$(id -u)" -ne 0 ]; then echo "not root (a private Postfix needs root)"; return 0; fi
	local c
	for c in postfix postconf smtp-sink python3; do
		command -v "$c" > /dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$c" > /dev/null 2>&1 ||
			{ echo "$c not installed (tools/setup.sh deps)"; return 0; }
	done
	[ -f /usr/share/postfix/master.cf.dist ] || { echo "no /usr/share/postfix/master.cf.dist"; return 0; }
	return 1
}

# e2e_init NAME: create the temporary directory (world-traversable: Postfix
# and danepold drop privileges) and install the cleanup trap.
e2e_init() {
	PATH=$PATH:/usr/sbin:/sbin
	E2E_T=$(mktemp -d "${TMPDIR:-/tmp}/danepol-$1.XXXXXX") || { e2e_err "mktemp failed"; return 1; }
	chmod 755 "$E2E_T"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
}

# e2e_cleanup: stop Postfix, every process started here, remove the dir.
# shellcheck disable=SC2317  # called from the trap
e2e_cleanup() {
	local p
	set +e	# the caller's errexit must not cut the cleanup short
	e2e_postfix_stop > /dev/null 2>&1
	for p in "${E2E_PIDS[@]}"; do kill "$p" 2> /dev/null; done
	for p in "${E2E_PIDS[@]}"; do wait "$p" 2> /dev/null; done
	E2E_PIDS=()
	if [ -n "$E2E_T" ] && [ -z "${E2E_KEEP:-}" ]; then rm -rf "$E2E_T"; fi
	[ -n "${E2E_KEEP:-}" ] && [ -n "$E2E_T" ] && e2e_err "kept $E2E_T"
	return 0
}

# e2e_wait TIMEOUT_MS CMD...: run CMD every 20 ms until it succeeds (0) or
# TIMEOUT_MS (times E2E_TIME_SCALE, default 1: slow runs under valgrind)
# has passed (1). A bounded poll, never a fixed delay.
e2e_wait() {
	local limit=$(($1 * ${E2E_TIME_SCALE:-1})) t0
	shift
	t0=$(date +%s%N)
	while ! "$@"; do
		if [ $((($(date +%s%N) - t0) / 1000000)) -ge "$limit" ]; then return 1; fi
		sleep 0.02
	done
	return 0
}

# e2e_free_port: print a TCP port on 127.0.0.1 that nobody listens on now.
e2e_free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

e2e_alive() { kill -0 "$1" 2> /dev/null; }
e2e_file_has() { [ -f "$2" ] && grep -qF -- "$1" "$2"; }

# e2e_world: start the fault responder for the world's fault zones and
# write the resolver config (world.conf plus one stub-zone per fault zone),
# as tests/danepol/check.sh does. Sets E2E_RESOLVER_CONF, E2E_TRUST_ANCHOR.
# Needs WORLD_DIR and FAULTDNS.
e2e_world() {
	local f word port z
	if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR" ]; then e2e_err "WORLD_DIR unset or missing"; return 1; fi
	for f in world.conf root.ds fault-zones; do
		[ -f "$WORLD_DIR/$f" ] || { e2e_err "world file $WORLD_DIR/$f missing"; return 1; }
	done
	[ -x "${FAULTDNS:-}" ] || { e2e_err "FAULTDNS is not executable (${FAULTDNS:-unset})"; return 1; }
	mapfile -t E2E_FAULTS < <(awk '!/^#/ && NF == 2 { print $1 "=" $2 }' "$WORLD_DIR/fault-zones")
	coproc E2E_FAULT { exec "$FAULTDNS" -p 0 -s 300 "${E2E_FAULTS[@]}"; }
	E2E_PIDS+=("$E2E_FAULT_PID")
	port=
	read -r -t 10 word port <&"${E2E_FAULT[0]}" || word=
	if [ "$word" != PORT ] || [ -z "$port" ]; then
		e2e_err "fault responder did not start (got '${word:-nothing}')"
		return 1
	fi
	E2E_RESOLVER_CONF=$E2E_T/unbound.conf
	# danepold re-reads the resolver config and zone files at SIGHUP, after
	# dropping to E2E_USER: a world it cannot read (a build tree under
	# /root) is copied into the (world-readable) temporary directory.
	local world=$WORLD_DIR
	if [ "$(id -u)" -eq 0 ] && ! runuser -u "${E2E_USER:-nobody}" -- cat "$WORLD_DIR/world.conf" > /dev/null 2>&1; then
		world=$E2E_T/world
		if ! cp -r "$WORLD_DIR" "$world" || ! chmod -R a+rX "$world"; then
			e2e_err "cannot copy the world"
			return 1
		fi
		sed -i "s|$(cd "$WORLD_DIR" && pwd -P)/|$world/|g; s|$WORLD_DIR/|$world/|g" "$world/world.conf"
	fi
	{
		cat "$world/world.conf"
		for z in "${E2E_FAULTS[@]}"; do
			printf 'stub-zone:\n\tname: "%s."\n\tstub-addr: 127.0.0.1@%s\n' "${z%%=*}" "$port"
		done
	} > "$E2E_RESOLVER_CONF"
	E2E_TRUST_ANCHOR=$(cat "$WORLD_DIR/root.ds")
}

# e2e_danepold_conf NAME SOCKET [LINE...]: write $E2E_T/d-NAME/danepol.conf
# for a danepold instance on SOCKET ("unix" = a fresh unix socket in the
# instance directory, "inet" = a fresh 127.0.0.1 port, or a literal milter
# socket spec), with the audit log in $E2E_T/d-NAME/audit.log; extra LINEs
# ("key = value") are appended and override nothing (keys appear once).
# Unless a LINE names use_rcpt_host (a comment naming it keeps the default,
# yes), the config says "use_rcpt_host = no": the Postfix of
# e2e_postfix_init relays everything to smtp-sink through relayhost, a
# stand-in for the Internet, so the tests decide the recipient's domain,
# not the sink's address literal.
# Prints nothing; sets E2E_DSOCK[NAME].
e2e_danepold_conf() {
	local name=$1 sock=$2 d=$E2E_T/d-$1 l
	shift 2
	mkdir -p "$d"
	case $sock in
	unix) sock=unix:$d/milter.sock ;;
	inet) sock=inet:$(e2e_free_port)@127.0.0.1 ;;
	esac
	E2E_DSOCK[$name]=$sock
	# danepold drops to E2E_USER (default nobody) after binding: its
	# directory (audit log, renames, reopen) must be writable by it.
	[ "$(id -u)" -ne 0 ] || chown "${E2E_USER:-nobody}" "$d"
	{
		echo "# danepold instance '$name' (tests/e2e/lib.sh)"
		echo "milter_socket = $sock"
		echo "user = ${E2E_USER:-nobody}"
		echo "socket_group = postfix"
		echo "socket_mode = 0660"
		echo "pid_file = none"
		echo "audit_log = $d/audit.log"
		echo "audit_sync = flush"
		echo "trust_anchor = $E2E_TRUST_ANCHOR"
		echo "resolver_config = $E2E_RESOLVER_CONF"
		case " $* " in
		*use_rcpt_host*) ;;
		*) echo "use_rcpt_host = no" ;;
		esac
		for l in "$@"; do echo "$l"; done
	} > "$d/danepol.conf"
}

# e2e_danepold_start NAME: start DANEPOLD -f on the instance's config in
# the background, stderr to $E2E_T/d-NAME/stderr. Sets E2E_DPID[NAME].
# Follow with e2e_danepold_ready NAME (start several, then wait for all).
e2e_danepold_start() {
	local name=$1 d=$E2E_T/d-$1 pid
	[ -x "${DANEPOLD:-}" ] || { e2e_err "DANEPOLD is not executable (${DANEPOLD:-unset})"; return 1; }
	# DANEPOLD_WRAP (optional, split into words): a command prefixed to
	# danepold's, e.g. "valgrind --log-file=DIR/vg.%p" (tools/valgrind-e2e.sh).
	# shellcheck disable=SC2086  # word splitting intended
	${DANEPOLD_WRAP:-} "$DANEPOLD" -f -c "$d/danepol.conf" > "$d/stdout" 2> "$d/stderr" &
	pid=$!
	E2E_PIDS+=("$pid")
	E2E_DPID[$name]=$pid
}

# e2e_danepold_ready NAME: the bounded wait half of e2e_danepold_start (so
# several instances can start in parallel). 0 ready, 1 died or timed out.
e2e_danepold_ready() {
	local name=$1 d=$E2E_T/d-$1 pid=${E2E_DPID[$1]}
	# shellcheck disable=SC2317  # called through e2e_wait
	_e2e_ready() { e2e_file_has "danepold ready" "$d/stderr" || ! e2e_alive "$pid"; }
	if ! e2e_wait 20000 _e2e_ready || ! e2e_alive "$pid"; then
		e2e_err "danepold '$name' did not become ready; stderr:"
		sed 's/^/e2e:   /' "$d/stderr" | head -20 >&2
		return 1
	fi
	e2e_wait 5000 e2e_sock_connects "${E2E_DSOCK[$name]}" ||
		{ e2e_err "danepold '$name': ${E2E_DSOCK[$name]} does not accept connections"; return 1; }
}

# e2e_sock_connects SPEC: a milter socket ("unix:PATH" / "inet:PORT@HOST")
# accepts a connection.
e2e_sock_connects() {
	python3 - "$1" 2> /dev/null <<'PY'
import socket, sys
spec = sys.argv[1]
kind, _, rest = spec.partition(":")
if kind in ("unix", "local"):
    s = socket.socket(socket.AF_UNIX); s.connect(rest)
else:
    port, _, host = rest.partition("@")
    s = socket.create_connection((host, int(port)), 1)
s.close()
PY
}

# e2e_danepold_signal NAME SIG
e2e_danepold_signal() { kill -s "$2" "${E2E_DPID[$1]}"; }

# e2e_danepold_stop NAME: SIGTERM and wait (bounded by the process: a
# hung one is killed by the test's own timeout); sets E2E_RC to its exit
# status. Not in $(...): a subshell cannot wait for our children.
# (libmilter may take ~5 s to exit: stop instances only at the end, or
# start the stop early with e2e_danepold_signal NAME TERM.)
e2e_danepold_stop() {
	local pid=${E2E_DPID[$1]}
	E2E_RC=0
	kill -s TERM "$pid" 2> /dev/null
	# shellcheck disable=SC2034  # read by the sourcing script
	wait "$pid" 2> /dev/null || E2E_RC=$?
}

# e2e_sink_start: smtp-sink on a free port, dumping transactions to
# $E2E_T/sink/dump. Sets E2E_SINK_PORT, E2E_SINK_DUMP.
e2e_sink_start() {
	local pid
	mkdir -p "$E2E_T/sink"
	chown postfix "$E2E_T/sink"
	E2E_SINK_PORT=$(e2e_free_port)
	E2E_SINK_DUMP=$E2E_T/sink/dump
	smtp-sink -u postfix -D "$E2E_SINK_DUMP" "127.0.0.1:$E2E_SINK_PORT" 256 > "$E2E_T/sink/log" 2>&1 &
	pid=$!
	E2E_PIDS+=("$pid")
	e2e_wait 10000 e2e_sock_connects "inet:$E2E_SINK_PORT@127.0.0.1" ||
		{ e2e_err "smtp-sink did not start: $(cat "$E2E_T/sink/log")"; return 1; }
}

# e2e_postfix_init [MAIN.CF LINE...]: write the private Postfix instance
# ($E2E_T/pf/{etc,spool,data}, maillog $E2E_T/pf/maillog) relaying to the
# sink, smtpd_milters empty by default (set per listener). Extra main.cf
# lines replace the default line of the same parameter (e2e_maincf).
e2e_postfix_init() {
	local pf=$E2E_T/pf l
	E2E_PF_DIR=$pf/etc
	mkdir -p "$pf/etc" "$pf/spool" "$pf/data"
	chown postfix "$pf/data"
	: > "$pf/maillog"
	sed -E 's/^([a-z]+[[:space:]]+(inet|unix|fifo|pass|unix-dgram)[[:space:]]+[-ny][[:space:]]+[-ny][[:space:]]+)[-y]/\1n/' \
		/usr/share/postfix/master.cf.dist | sed -E '/^smtp[[:space:]]+inet/s/^/#/' > "$pf/etc/master.cf"
	{
		echo "# private Postfix instance (tests/e2e/lib.sh)"
		echo "compatibility_level = 3.6"
		echo "queue_directory = $pf/spool"
		echo "data_directory = $pf/data"
		echo "meta_directory = /etc/postfix"
		echo "myhostname = mx.e2e.test"
		echo "mydomain = e2e.test"
		echo "myorigin = \$myhostname"
		echo "inet_interfaces = loopback-only"
		echo "inet_protocols = ipv4"
		echo "mydestination ="
		echo "mynetworks = 127.0.0.0/8"
		echo "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination"
		echo "relayhost = [127.0.0.1]:$E2E_SINK_PORT"
		echo "smtp_dns_support_level = disabled"
		echo "disable_dns_lookups = yes"
		echo "maillog_file_prefixes = /var, /dev/stdout, $E2E_T"
		echo "maillog_file = $pf/maillog"
		echo "smtpd_milters ="
		echo "milter_default_action = tempfail"
		echo "milter_protocol = 6"
		echo "alias_maps ="
		echo "alias_database ="
		echo "local_recipient_maps ="
		echo "biff = no"
		echo "smtputf8_enable = yes"
		echo "smtpd_banner = \$myhostname ESMTP"
		for l in "$@"; do echo "$l"; done
	} | e2e_maincf > "$pf/etc/main.cf"
}

# e2e_maincf: copy main.cf lines from stdin to stdout, keeping only the
# last line of each parameter (at its own place). A main.cf that names a
# parameter twice makes every Postfix process log "overriding earlier
# entry"; postlogd logs that warning to its own socket and, with enough
# processes starting at once, blocks on it for good, and with it every
# smtpd before its banner (seen in tests/danepol/selfcheck.sh).
e2e_maincf() {
	awk '
	{ line[NR] = $0; key[NR] = "" }
	/^[a-z0-9_]+[ \t]*=/ { k = $0; sub(/[ \t]*=.*/, "", k); key[NR] = k; last[k] = NR }
	END { for (i = 1; i <= NR; i++) if (key[i] == "" || last[key[i]] == i) print line[i] }'
}

# e2e_postfix_listener MILTER [-o OPTION...]: add an smtpd on a fresh
# 127.0.0.1 port whose smtpd_milters is MILTER (a libmilter socket spec,
# "inet:PORT@HOST" is turned into Postfix's "inet:HOST:PORT"; or "" for
# none); prints the port.
e2e_postfix_listener() {
	local milter=$1 port o
	shift
	case $milter in
	inet:*@*) milter=inet:${milter#*@}:${milter#inet:} milter=${milter%@*} ;;
	esac
	port=$(e2e_free_port)
	{
		printf '127.0.0.1:%s inet n - n - - smtpd\n  -o smtpd_milters=%s\n' "$port" "$milter"
		for o in "$@"; do printf '  %s\n' "$o"; done
	} >> "$E2E_PF_DIR/master.cf"
	echo "$port"
}

# e2e_postfix_start: `postfix -c DIR start` (returns once master runs),
# then wait (bounded) for master.pid.
e2e_postfix_start() {
	local out
	if ! out=$(postfix -c "$E2E_PF_DIR" start 2>&1); then
		e2e_err "postfix start failed: $out"
		# No syslog here: postfix check's reason is visible through script(1).
		command -v script > /dev/null && script -qec "postfix -c $E2E_PF_DIR check" /dev/null >&2
		tail -5 "$E2E_T/pf/maillog" >&2
		return 1
	fi
	E2E_PF_STARTED=1
	e2e_wait 10000 test -s "$E2E_T/pf/spool/pid/master.pid" || { e2e_err "no master.pid"; return 1; }
}

# e2e_postfix_stop: stop the instance (e2e_pf_stop).
e2e_postfix_stop() {
	[ -n "$E2E_PF_STARTED" ] || return 0
	E2E_PF_STARTED=
	e2e_pf_stop "$E2E_PF_DIR" "$E2E_T/pf/spool"
}

# e2e_pf_stop ETC SPOOL: stop the Postfix instance of config directory ETC
# and queue directory SPOOL, bounded: `postfix stop` (at most 20 s), then
# SIGTERM to the master, then after 10 s SIGKILL to it and to every
# process whose cwd is in SPOOL (its daemons). Never hangs a test's exit.
e2e_pf_stop() {
	local etc=$1 spool=$2 pid p
	pid=$(tr -d ' ' < "$spool/pid/master.pid" 2> /dev/null)
	timeout -k 2 20 postfix -c "$etc" stop > /dev/null 2>&1 || { [ -n "$pid" ] && kill "$pid" 2> /dev/null; }
	[ -n "$pid" ] || return 0
	e2e_wait 10000 eval "! kill -0 $pid 2> /dev/null" && return 0
	e2e_err "Postfix ($etc) did not stop: SIGKILL"
	for p in /proc/[0-9]*; do
		case $(readlink "$p/cwd" 2> /dev/null) in "$spool" | "$spool"/*) kill -9 "${p#/proc/}" 2> /dev/null ;; esac
	done
	kill -9 "$pid" 2> /dev/null
	return 0
}

# e2e_postfix_delivered QID: every "to=<...>" the maillog shows as
# status=sent for queue id QID, one per line, after waiting (bounded, 20 s)
# for QID to leave the queue ("QID: removed").
e2e_postfix_delivered() {
	local qid=$1 log=$E2E_T/pf/maillog
	e2e_wait 20000 e2e_file_has "$qid: removed" "$log" || e2e_err "$qid not removed from the queue yet"
	grep -F " $qid: to=<" "$log" | grep -F 'status=sent' | sed -E 's/.* to=<([^>]*)>.*/\1/' | sort
}

# e2e_sink_recipients: the recipients (X-Rcpt-Args) the sink received so far.
e2e_sink_recipients() {
	[ -f "$E2E_SINK_DUMP" ] || return 0
	sed -n -E 's/^X-Rcpt-Args: <([^>]*)>.*/\1/p' "$E2E_SINK_DUMP" | sort
}

# e2e_swaks PORT ARGS...: run swaks against 127.0.0.1:PORT; transcript on
# stdout; swaks' exit status is returned.
e2e_swaks() {
	local port=$1
	shift
	swaks --server "127.0.0.1:$port" --helo client.e2e.test --timeout 30 \
		--h-Subject "danepol e2e" --body "danepol end-to-end test message" "$@" 2>&1
}

# e2e_swaks_replies FILE: from a swaks transcript, print "MAIL<TAB>reply"
# for MAIL FROM, one line per RCPT: "recipient<TAB>reply" (reply = the
# last line of the server's answer, without swaks' arrow), then
# "queued<TAB>QID" when the message was queued.
e2e_swaks_replies() {
	awk '
	/^ *-> MAIL FROM:/ { r = "MAIL"; want = 1; next }
	/^ *-> RCPT TO:/ { r = $0; sub(/^ *-> RCPT TO:</, "", r); sub(/>[^>]*$/, "", r); want = 1; next }
	want && /^ *<(-|\*\*) +[0-9][0-9][0-9] / {
		l = $0; sub(/^ *<(-|\*\*) +/, "", l); printf "%s\t%s\n", r, l; want = 0; next }
	/queued as / { q = $0; sub(/.*queued as /, "", q); sub(/[^A-Za-z0-9].*/, "", q); printf "queued\t%s\n", q }
	' "$1"
}
