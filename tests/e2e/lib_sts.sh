# shellcheck shell=bash
# tests/e2e/lib_sts.sh - the MTA-STS world inside a private namespace, for
# tests/e2e/sts_oracle.sh and bench/sts.sh. Sourced after
# tests/e2e/lib_delivery.sh and tests/lib/tap.sh, inside the namespace
# (dl_netns_reexec), after dl_init.
#
#   sts_env_up           lo, resolv.conf -> 127.0.0.1, the world and a
#                        validating unbound on 127.0.0.1:53 (dl_*), the
#                        system CA bundle with the world's CA bind-mounted
#                        over /etc/ssl/certs/ca-certificates.crt (the peer
#                        trusts the system store), the world's CA alone in
#                        $STS_CA for danepold's sts_ca_file, and
#                        tests/unit/sts/policy_server.py on 127.0.0.1:443.
#                        Each part is a step (tests/e2e/lib_delivery.sh).
#   sts_hosts_up         only the last two: the CA bundle and the policy
#                        hosts (for a test that set up the rest itself).
#   sts_peer_start WHERE mta-sts-daemon (Debian's postfix-mta-sts-resolver)
#                        on WHERE: "inet:PORT" (127.0.0.1) or "unix:PATH";
#                        internal cache, strict_testing off, timeout 4 s.
#   sts_danepold NAME SOCKETPATH [LINE...]
#                        danepold serving only the socketmap on
#                        SOCKETPATH with sts = yes and the world's CA;
#                        LINEs ("key = value") replace its defaults.
# Everything started is stopped by the EXIT trap of dl_init.

# shellcheck disable=SC2317  # called through step
_sts_ca() {
	cat /etc/ssl/certs/ca-certificates.crt "$WORLD_DIR/pki/ca.crt" > "$E2E_T/ca-bundle.crt" &&
		chmod 644 "$E2E_T/ca-bundle.crt" &&
		mount --bind "$E2E_T/ca-bundle.crt" /etc/ssl/certs/ca-certificates.crt &&
		STS_CA=$E2E_T/sts-ca.crt &&
		cp "$WORLD_DIR/pki/ca.crt" "$STS_CA" && chmod 644 "$STS_CA"
}

sts_env_up() {
	step "namespace: lo up" dl_net_up
	step "namespace: /etc/resolv.conf -> 127.0.0.1, trust-ad" dl_resolv
	step "offline world and fault responder" e2e_world
	step "unbound on 127.0.0.1:53 validates the world" dl_unbound_start
	sts_hosts_up
}

sts_hosts_up() {
	step "namespace: the world's CA in the system bundle" _sts_ca
	python3 "$TOP_SRCDIR/tests/unit/sts/policy_server.py" 127.0.0.1 443 "$WORLD_DIR/pki" \
		> "$E2E_T/policy_server.out" 2> "$E2E_T/policy_server.log" &
	E2E_PIDS+=("$!")
	step "policy hosts on 127.0.0.1:443" e2e_wait 10000 grep -q '^READY ' "$E2E_T/policy_server.out"
}

sts_peer_start() {
	local where=$1 spec
	case $where in
	inet:*) printf 'host: 127.0.0.1\nport: %s\n' "${where#inet:}" ;;
	unix:*) printf 'path: "%s"\nmode: 0666\n' "${where#unix:}" ;;
	esac > "$E2E_T/mta-sts-daemon.yml"
	printf 'cache:\n  type: internal\ndefault_zone:\n  strict_testing: false\n  timeout: 4\n' \
		>> "$E2E_T/mta-sts-daemon.yml"
	mta-sts-daemon -c "$E2E_T/mta-sts-daemon.yml" -v info > "$E2E_T/peer.log" 2>&1 &
	E2E_PIDS+=("$!")
	case $where in
	inet:*) spec="inet:${where#inet:}@127.0.0.1" ;;
	*) spec=$where ;;
	esac
	step "mta-sts-daemon on $where" e2e_wait 15000 e2e_sock_connects "$spec"
}

sts_danepold() {
	local name=$1 sm=$2 conf=$E2E_T/d-$1/danepol.conf
	shift 2
	e2e_danepold_conf "$name" none "socketmap_socket = unix:$sm" "sts = yes" \
		"sts_ca_file = $STS_CA"
	# LINEs replace the instance's own lines of the same keys
	{ cat "$conf"; printf '%s\n' "$@"; } | e2e_maincf > "$conf.new" && mv "$conf.new" "$conf"
	e2e_danepold_start "$name"
	step "danepold '$name' with sts = yes" dl_danepold_ready "$name" "unix:$sm"
}
