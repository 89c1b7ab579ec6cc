# shellcheck shell=bash
# tests/e2e/lib_delivery.sh - sourced by tests/e2e/dane_delivery.sh,
# tests/e2e/chroot_postfix.sh and tests/danepol/probe.sh.
#
# Adds to tests/e2e/lib.sh (sourced here, unchanged) what a delivery-time
# DANE test needs: a private network and mount namespace (unshare -mn)
# with loopback addresses 127.0.0.1..127.0.0.9, a resolv.conf bind-mounted
# over /etc/resolv.conf only inside that namespace (nameserver 127.0.0.1,
# "options trust-ad edns0": Postfix's smtp_dns_support_level = dnssec
# trusts the AD bit), a validating unbound daemon on 127.0.0.1:53 serving
# the offline world (the same auth-zones and fault stubs as e2e_world, the
# world's root DS as trust anchor), and sending Postfix instances besides
# the receiving one of e2e_postfix_init.
#
# Ownership: every process started here is recorded in E2E_PIDS (stopped
# by e2e_cleanup) or, for Postfix instances, in DL_PF (stopped by
# dl_cleanup, which dl_init installs as the EXIT trap ahead of
# e2e_cleanup). Nothing outside the namespace is touched: the bind mount
# and the addresses vanish with it.
#
# Synchronisation: bounded polls (e2e_wait), never fixed sleeps.
# Errors: "e2e: ..." on stderr and a non-zero status; callers decide.

# shellcheck source=tests/e2e/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

DL_PF=()		# Postfix instance directories started by dl_postfix_start
DL_UNBOUND_PID=

# step NAME CMD...: a set-up step of a test (tests/lib/tap.sh sourced):
# ok NAME when CMD succeeds, otherwise not_ok NAME with the first lines of
# CMD's stderr, and the test stops (finish).
step() {
	local name=$1
	shift
	if "$@" 2> "$E2E_T/step.err"; then ok "$name"; else not_ok "$name" "$(head -20 "$E2E_T/step.err")"; finish; fi
}

# dl_begin [--world FILE] CMD...: the start every namespace test shares,
# right after sourcing this file: e2e_paths, sbin in PATH, the script
# re-executed under `unshare -mn` (dl_netns_reexec; its own arguments are
# not passed on: these scripts take none), then 77 with a "SKIP: why"
# line when it cannot run: e2e_skip_reason, a CMD not installed,
# WORLD_DIR unset or without FILE (default: the world itself). Source
# tests/lib/tap.sh after it (from the script: a function's sourcing
# would make tap.sh's declarations local). Use: dl_begin ... || exit $?
dl_begin() {
	local need=. why c
	if [ "${1:-}" = --world ]; then need=$2; shift 2; fi
	e2e_paths
	PATH=$PATH:/usr/sbin:/sbin
	dl_netns_reexec "$0" || return $?
	if why=$(e2e_skip_reason); then echo "SKIP: $why"; return 77; fi
	for c in "$@"; do
		command -v "$c" > /dev/null || { echo "SKIP: $c not installed (tools/setup.sh deps)"; return 77; }
	done
	if [ -z "${WORLD_DIR:-}" ] || [ ! -e "$WORLD_DIR/$need" ]; then
		echo "SKIP: WORLD_DIR unset or without $need (run through make check)"
		return 77
	fi
}

# dl_netns_reexec SCRIPT ARGS...: unless already inside (DL_NETNS set),
# re-execute SCRIPT under `unshare -mn` (private network and mount
# namespaces, private mount propagation). Returns 77 when that is
# impossible (not root, no unshare, no CAP_SYS_ADMIN); does not return
# otherwise (exec).
dl_netns_reexec() {
	local script=$1
	shift
	[ -n "${DL_NETNS:-}" ] && return 0
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: not root (namespaces, Postfix)"; return 77; }
	command -v unshare > /dev/null || { echo "SKIP: unshare not installed (util-linux)"; return 77; }
	unshare -mn true 2> /dev/null || { echo "SKIP: unshare -mn is not permitted here"; return 77; }
	DL_NETNS=1 exec unshare -mn --propagation private -- bash "$script" "$@"
}

# dl_net_up [N...]: inside the namespace, bring lo up and add
# 127.0.0.2..9/32 and 127.0.0.N/32 for each N given (Postfix binds only
# to addresses that exist on an interface).
dl_net_up() {
	local i
	# Safety: a fresh network namespace has lo and nothing else. Anything
	# more means DL_NETNS leaked in from outside: never bind-mount over
	# the host's resolv.conf or listen on its port 25/53.
	if ip -o link show | awk -F': ' '{ print $2 }' | grep -qv '^lo$'; then
		e2e_err "not in a private network namespace (interfaces besides lo)"
		return 1
	fi
	ip link set lo up || { e2e_err "ip link set lo up failed"; return 1; }
	for i in 2 3 4 5 6 7 8 9 "$@"; do
		ip addr add "127.0.0.$i/32" dev lo 2> /dev/null ||
			ip -4 addr show dev lo | grep -qF "127.0.0.$i/" ||
			{ e2e_err "cannot add 127.0.0.$i"; return 1; }
	done
}

# dl_receiver_up: the usual receiving side, as steps (tests/lib/tap.sh):
# smtp-sink, the world's PKI (dl_pki), and the tests/e2e/lib.sh instance
# on 127.0.0.1:25 (the world's MX address) serving the EE chain and
# relaying what it receives to the sink.
dl_receiver_up() {
	step "smtp-sink" e2e_sink_start
	step "the world's PKI in the test directory" dl_pki
	e2e_postfix_init "myhostname = mx.receiver.test" "inet_interfaces = 127.0.0.1" \
		"smtpd_tls_security_level = may" "smtpd_tls_cert_file = $PKI/ee-chain.crt" \
		"smtpd_tls_key_file = $PKI/ee.key" "relay_domains =" \
		"smtpd_relay_restrictions = permit_mynetworks, reject"
	printf '127.0.0.1:25 inet n - n - - smtpd\n' >> "$E2E_PF_DIR/master.cf"
	step "receiving Postfix on 127.0.0.1:25" e2e_postfix_start
}

# dl_pki: copy the world's certificates and keys to PKI=$E2E_T/pki (keys
# mode 600), where the test's servers read them; sets PKI.
dl_pki() {
	PKI=$E2E_T/pki
	mkdir -p "$PKI" && cp "$WORLD_DIR"/pki/*.crt "$WORLD_DIR"/pki/*.key "$PKI"/ && chmod 600 "$PKI"/*.key
}

# dl_resolv: bind-mount $E2E_T/resolv.conf over /etc/resolv.conf (inside
# the private mount namespace only).
dl_resolv() {
	printf 'nameserver 127.0.0.1\noptions trust-ad edns0\n' > "$E2E_T/resolv.conf"
	chmod 644 "$E2E_T/resolv.conf"
	mount --bind "$E2E_T/resolv.conf" /etc/resolv.conf ||
		{ e2e_err "cannot bind-mount /etc/resolv.conf"; return 1; }
}

# dl_unbound_start: a validating unbound daemon on 127.0.0.1:53 (UDP and
# TCP) with the world of e2e_world (run it first): its auth-zones, the
# fault stub-zones and the world's root DS as trust anchor. Log in
# $E2E_T/unbound/log. Waits (bounded) until secure.example MX answers
# with the AD bit.
dl_unbound_start() {
	local d=$E2E_T/unbound
	command -v unbound > /dev/null || { e2e_err "unbound (the daemon) is not installed"; return 1; }
	mkdir -p "$d"
	{
		echo "# validating resolver of the delivery test (tests/e2e/lib_delivery.sh)"
		echo "server:"
		printf '\tinterface: 127.0.0.1\n\tport: 53\n\tdo-ip6: no\n'
		printf '\tusername: ""\n\tchroot: ""\n\tdirectory: "%s"\n\tpidfile: ""\n' "$d"
		printf '\tuse-syslog: no\n\tlogfile: "%s/log"\n\tval-log-level: 2\n' "$d"
		printf '\taccess-control: 127.0.0.0/8 allow\n'
		printf '\ttrust-anchor: "%s"\n' "$E2E_TRUST_ANCHOR"
		printf '\tmodule-config: "validator iterator"\n'
		printf 'remote-control:\n\tcontrol-enable: no\n'
		# world.conf's own server: options and auth-zones, plus the stubs
		cat "$E2E_RESOLVER_CONF"
	} > "$d/unbound.conf"
	if ! unbound-checkconf "$d/unbound.conf" > "$d/checkconf" 2>&1; then
		e2e_err "unbound-checkconf: $(cat "$d/checkconf")"
		return 1
	fi
	unbound -d -c "$d/unbound.conf" > "$d/stderr" 2>&1 &
	DL_UNBOUND_PID=$!
	E2E_PIDS+=("$DL_UNBOUND_PID")
	# shellcheck disable=SC2317  # called through e2e_wait
	_dl_ad() { drill -D -Q secure.example MX @127.0.0.1 > /dev/null 2>&1 && dl_dns_ad secure.example MX; }
	if ! e2e_wait 10000 _dl_ad; then
		e2e_err "unbound did not answer secure.example MX with AD; stderr/log:"
		cat "$d/stderr" "$d/log" 2> /dev/null | tail -10 >&2
		return 1
	fi
}

# dl_dns_ad NAME TYPE: the unbound daemon answers NAME/TYPE with the AD
# flag set (validated secure).
dl_dns_ad() {
	drill -D "$1" "$2" @127.0.0.1 2> /dev/null | grep -qE '^;; flags: .*\bad\b'
}

# dl_dns_rcode NAME TYPE: print the rcode (NOERROR, SERVFAIL, ...) the
# unbound daemon gives for NAME/TYPE.
dl_dns_rcode() {
	drill -D "$1" "$2" @127.0.0.1 2> /dev/null | sed -n -E 's/.*rcode: ([A-Z]+).*/\1/p' | head -1
}

# dl_postfix_init NAME ADDR [MAIN.CF LINE...]: write a sending Postfix
# instance in $E2E_T/pf-NAME (etc, spool, data, maillog): smtpd on
# ADDR:25 (the test submits there), its SMTP client bound to ADDR,
# DNSSEC-validated DNS through the namespace's resolv.conf, nothing local
# (bounces to sender.test are discarded), TLS loglevel 1. Extra main.cf
# lines replace the default line of the same parameter (e2e_maincf).
# Prints nothing.
dl_postfix_init() {
	local name=$1 addr=$2 pf=$E2E_T/pf-$1 l
	shift 2
	mkdir -p "$pf/etc" "$pf/spool" "$pf/data"
	chown postfix "$pf/data"
	: > "$pf/maillog"
	sed -E 's/^([a-z]+[[:space:]]+(inet|unix|fifo|pass|unix-dgram)[[:space:]]+[-ny][[:space:]]+[-ny][[:space:]]+)[-y]/\1n/' \
		/usr/share/postfix/master.cf.dist | sed -E '/^smtp[[:space:]]+inet/s/^/#/' > "$pf/etc/master.cf"
	printf '%s:25 inet n - n - - smtpd\n' "$addr" >> "$pf/etc/master.cf"
	{
		echo "# sending Postfix instance '$name' (tests/e2e/lib_delivery.sh)"
		echo "compatibility_level = 3.6"
		echo "queue_directory = $pf/spool"
		echo "data_directory = $pf/data"
		echo "meta_directory = /etc/postfix"
		echo "myhostname = $name.sender.test"
		echo "mydomain = sender.test"
		echo "myorigin = \$myhostname"
		echo "inet_interfaces = $addr"
		echo "inet_protocols = ipv4"
		echo "smtp_bind_address = $addr"
		echo "mydestination ="
		echo "mynetworks = 127.0.0.0/8"
		echo "smtpd_relay_restrictions = permit_mynetworks, reject"
		echo "transport_maps = inline:{sender.test=discard:, .sender.test=discard:}"
		echo "disable_dns_lookups = no"
		echo "smtp_dns_support_level = dnssec"
		echo "smtp_tls_loglevel = 1"
		echo "smtp_connect_timeout = 10s"
		echo "maillog_file_prefixes = /var, /dev/stdout, $E2E_T"
		echo "maillog_file = $pf/maillog"
		echo "alias_maps ="
		echo "alias_database ="
		echo "local_recipient_maps ="
		echo "biff = no"
		echo "smtpd_banner = \$myhostname ESMTP"
		for l in "$@"; do echo "$l"; done
	} | e2e_maincf > "$pf/etc/main.cf"
}

# dl_postfix_start NAME: start instance NAME (postfix -c DIR start), wait
# (bounded) for its master.pid; dl_cleanup stops it.
dl_postfix_start() {
	local pf=$E2E_T/pf-$1 out
	if ! out=$(postfix -c "$pf/etc" start 2>&1); then
		e2e_err "postfix '$1' start failed: $out"
		command -v script > /dev/null && script -qec "postfix -c $pf/etc check" /dev/null >&2
		tail -5 "$pf/maillog" >&2
		return 1
	fi
	DL_PF+=("$pf")
	e2e_wait 10000 test -s "$pf/spool/pid/master.pid" || { e2e_err "no master.pid for '$1'"; return 1; }
}

# dl_cleanup: stop the sending instances, then everything e2e_cleanup
# stops (the receiving instance, unbound, danepold, sink, responder).
# shellcheck disable=SC2317  # called from the trap
dl_cleanup() {
	local pf
	set +e
	for pf in "${DL_PF[@]}"; do e2e_pf_stop "$pf/etc" "$pf/spool"; done
	DL_PF=()
	e2e_cleanup
}

# dl_init NAME: e2e_init plus dl_cleanup as the EXIT trap.
dl_init() {
	e2e_init "$1" || return 1
	trap dl_cleanup EXIT
}

# dl_done MAILLOG RCPT: MAILLOG shows a result of a delivery attempt to RCPT.
dl_done() { grep -F " to=<$2>," "$1" 2> /dev/null | grep -qE 'status=(sent|deferred|bounced)'; }

# dl_outcome MAILLOG RCPT [TIMEOUT_MS]: wait (bounded, default 30 s) until
# MAILLOG shows the result of the first delivery attempt to RCPT, then
# print one line: "STATUS DSN RELAY" (status sent/deferred/bounced, relay
# "none" when Postfix never connected), or "pending - -" after the bound.
dl_outcome() {
	local log=$1 rcpt=$2
	e2e_wait "${3:-30000}" dl_done "$log" "$rcpt" || { echo "pending - -"; return 0; }
	grep -F " to=<$rcpt>," "$log" | grep -E 'status=(sent|deferred|bounced)' | head -1 |
		sed -E 's/.* relay=([^,]*),.* dsn=([0-9.]*), status=([a-z]*).*/\3 \2 \1/'
}

# dl_reason MAILLOG RCPT: the parenthesised reason of RCPT's first result.
dl_reason() {
	grep -F " to=<$2>," "$1" | grep -E 'status=(sent|deferred|bounced)' | head -1 |
		sed -E 's/.* status=[a-z]+ \((.*)\)$/\1/'
}

# dl_tls MAILLOG RELAY: the TLS trust class of the first connection to
# RELAY ("host[addr]:port"): Verified, Trusted, Untrusted, Anonymous, or
# "none" (no TLS connection logged, e.g. plain text or never connected).
dl_tls() {
	local c
	c=$(grep -F "TLS connection established to $2:" "$1" 2> /dev/null | head -1 |
		sed -E 's/.*: ([A-Za-z]+) TLS connection established to .*/\1/')
	echo "${c:-none}"
}

# dl_danepold_ready NAME SOCKET: like e2e_danepold_ready, for an instance
# whose milter socket may be "none": waits (bounded) for "danepold ready"
# and for SOCKET ("unix:PATH" / "inet:PORT@HOST") to accept connections.
dl_danepold_ready() {
	local name=$1 sock=$2 d=$E2E_T/d-$1 pid=${E2E_DPID[$1]}
	# shellcheck disable=SC2317  # called through e2e_wait
	_dl_ready() { e2e_file_has "danepold ready" "$d/stderr" || ! e2e_alive "$pid"; }
	if ! e2e_wait 20000 _dl_ready || ! e2e_alive "$pid"; then
		e2e_err "danepold '$name' did not become ready; stderr:"
		sed 's/^/e2e:   /' "$d/stderr" | head -20 >&2
		return 1
	fi
	e2e_wait 5000 e2e_sock_connects "$sock" || { e2e_err "danepold '$name': $sock does not accept connections"; return 1; }
}
