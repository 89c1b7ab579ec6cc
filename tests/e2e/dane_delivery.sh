#!/usr/bin/env bash
# tests/e2e/dane_delivery.sh - DANE at delivery time: Postfix's SMTP
# client enforcing danepold's socketmap policy (smtp_tls_policy_maps), next
# to Postfix's own smtp_tls_security_level = dane as the reference.
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT):
#   WORLD_DIR  the signed world of tools/mkworld.sh; FAULTDNS its fault responder
#   DANEPOLD   the danepold binary under test
#
# The script re-executes itself under `unshare -mn` (tests/e2e/lib_delivery.sh):
# a private network namespace (lo, 127.0.0.1..9) and mount namespace
# (a resolv.conf "nameserver 127.0.0.1 / options trust-ad edns0" bind-
# mounted over /etc/resolv.conf), so port 25 and port 53 are ours. In it:
#   - unbound on 127.0.0.1:53 serving the offline world (auth-zones, fault
#     stubs, the world's root DS as trust anchor): Postfix's own DNSSEC
#     lookups (smtp_dns_support_level = dnssec) go there;
#   - the receiving Postfix (tests/e2e/lib.sh instance) on 127.0.0.1:25
#     with the world's EE chain (matches every "3 1 1" TLSA record) and on
#     127.0.0.2:25 with the self-signed ss.crt (matches no TLSA record:
#     the mismatch case, reached through tampered.example, whose mx1
#     address is bogus, so mx2 = 127.0.0.2 is the only usable host); it
#     relays what it receives to smtp-sink (the receipt proof);
#   - danepold with socketmap_socket = unix:.../socketmap.sock, deciding
#     with its own in-process libunbound over the same world (auth-zones,
#     as every other danepold test), not through the unbound daemon;
#   - sending Postfix "sm" (127.0.0.8): smtp_tls_policy_maps =
#     socketmap:unix:SOCK:tlspolicy, default level dane;
#   - sending Postfix "dane" (127.0.0.9): smtp_tls_security_level = dane
#     only (the reference).
# One message per sender, with one recipient per world domain (every
# domain of the world, enumerated from it), is submitted; the first
# delivery attempt of each recipient is compared: status, dsn, TLS trust
# class. The differences RFC 7672 and danepol's documented choices explain
# (doc/postfix.md, "Delivery-time enforcement") are listed in EXPLAINED
# below; any other difference fails. The invariant (doc/engine.md, "Front
# doors"): the socketmap path is never worse than Postfix's own dane level
# (sent vs not sent; where both send, TLS trust not lower) for any domain
# danepold's policy table does not name.
# Ends with "N passed, M failed"; exit 0 when nothing failed, 1 otherwise,
# 77 (skip) when not root or namespaces are not permitted.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
# shellcheck source=tests/e2e/lib_delivery.sh
. "$HERE/lib_delivery.sh"
dl_begin swaks unbound unbound-checkconf drill ip mount || exit $?
# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

# ---------------------------------------------------------------- set-up
dl_init delivery || { not_ok "temporary directory"; finish; }
[ -x "$DANEPOLD" ] || { not_ok "DANEPOLD is executable ($DANEPOLD)"; finish; }
step "namespace: lo up, 127.0.0.2-9" dl_net_up
step "namespace: /etc/resolv.conf -> 127.0.0.1, trust-ad" dl_resolv
step "offline world and fault responder" e2e_world
step "unbound on 127.0.0.1:53 validates the world (secure.example MX has AD)" dl_unbound_start
if dl_dns_ad insecure.example MX; then not_ok "unbound: insecure.example MX without AD"; else ok "unbound: insecure.example MX without AD"; fi
check_eq "unbound: bogus.example MX is SERVFAIL" "$(dl_dns_rcode bogus.example MX)" SERVFAIL
step "smtp-sink" e2e_sink_start

step "the world's PKI in the test directory" dl_pki

# Receiving side: the e2e instance (relays to the sink), smtpd on port 25
# of 127.0.0.1 (EE chain: the TLSA records match) and 127.0.0.2 (ss.crt).
e2e_postfix_init "myhostname = mx.receiver.test" "inet_interfaces = 127.0.0.1, 127.0.0.2" \
	"smtpd_tls_security_level = may" "smtpd_tls_loglevel = 1" \
	"smtpd_tls_cert_file = $PKI/ee-chain.crt" "smtpd_tls_key_file = $PKI/ee.key" \
	"relay_domains =" "smtpd_relay_restrictions = permit_mynetworks, reject"
{
	printf '127.0.0.1:25 inet n - n - - smtpd\n'
	printf '127.0.0.2:25 inet n - n - - smtpd\n'
	printf '  -o smtpd_tls_cert_file=%s\n  -o smtpd_tls_key_file=%s\n' "$PKI/ss.crt" "$PKI/ss.key"
} >> "$E2E_PF_DIR/master.cf"
RECV_LOG=$E2E_T/pf/maillog
step "receiving Postfix on 127.0.0.1:25 (EE chain) and 127.0.0.2:25 (self-signed)" e2e_postfix_start

# danepold: the socketmap only (milter_socket = none), a local policy.
SOCKMAP=$E2E_T/d-sm/socketmap.sock
POLICY=$E2E_T/policy
{
	echo "# local policy: DANE required even without TLSA"
	echo "notlsa.example dane-only"
	echo "# and with an unsigned MX RRset (Postfix's dane-only defers it too)"
	echo "unsignedmxpin.example dane-only"
} > "$POLICY"
e2e_danepold_conf sm none "policy_table = $POLICY" "socketmap_socket = unix:$SOCKMAP" "decision_timeout = 1500ms"
e2e_danepold_start sm
step "danepold ready, serving only the socketmap" dl_danepold_ready sm "unix:$SOCKMAP"
check_eq "danepold: socketmap socket mode 660, group postfix" "$(stat -c '%a %G' "$SOCKMAP")" "660 postfix"
AUDIT=$E2E_T/d-sm/audit.log

# The sending instances: the main.cf lines of doc/postfix.md.
dl_postfix_init sm 127.0.0.8 \
	"smtp_tls_security_level = dane" \
	"smtp_dns_support_level = dnssec" \
	"smtp_tls_policy_maps = socketmap:unix:$SOCKMAP:tlspolicy" \
	"transport_maps = inline:{sender.test=discard:, .sender.test=discard:, down.test=smtp:[mx1.secure.example]}"
dl_postfix_init dane 127.0.0.9 \
	"smtp_tls_security_level = dane" \
	"smtp_dns_support_level = dnssec"
step "sending Postfix 'sm' (socketmap) on 127.0.0.8" dl_postfix_start sm
step "sending Postfix 'dane' (own DANE) on 127.0.0.9" dl_postfix_start dane
SM_LOG=$E2E_T/pf-sm/maillog
DANE_LOG=$E2E_T/pf-dane/maillog

# ---------------------------------------------------------------- send
# Every mail domain of the world, enumerated from it (not a hand list):
# the zones under example. (world.conf's auth-zones), the fault zones
# (fault-zones) and the plain domains of tests/world/expected.tsv (adds
# nx.example, which exists nowhere). Next hops of expected.tsv
# ("[host]", "domain:port", address literals) are not recipient domains.
# EXCLUDED: domain -> why it cannot be tried in this namespace. None
# today: the black-holed zones (blackhole, securedead) are deferred by
# both paths once the namespace's unbound gives up (SERVFAIL, about 30 s),
# the p*.example hosts (127.0.0.14-19) and own*.example hosts
# (127.0.0.21-23; no server here) refuse connections.
declare -A EXCLUDED=()
world_domains() {
	{
		sed -n -E 's/^[[:space:]]*name: "([a-z0-9-]+\.example)\."$/\1/p' "$WORLD_DIR/world.conf"
		awk '!/^#/ && NF { print $1 }' "$WORLD_DIR/fault-zones"
		awk -F '\t' '!/^#/ && $2 ~ /^[a-z0-9.-]+$/ { print $2 }' "$HERE/../world/expected.tsv"
	} | sort -u
}
DOMAINS=()
for d in $(world_domains); do
	if [ -n "${EXCLUDED[$d]:-}" ]; then
		echo "# excluded: $d: ${EXCLUDED[$d]}"
	else
		DOMAINS+=("$d")
	fi
done
# submit NAME ADDR: one message from NAME@sender.test to NAME@DOMAIN for
# every domain, through the sending instance's smtpd on ADDR:25.
submit() {
	local name=$1 addr=$2 to="" d
	for d in "${DOMAINS[@]}"; do to=$to${to:+,}$name@$d; done
	swaks_to "$addr" "$name" "$to"
}
swaks_to() {	# ADDR NAME TO,...
	swaks --server "$1:25" --helo client.sender.test --timeout 30 --from "$2@sender.test" \
		--to "$3" --h-Subject "danepol delivery test ($2)" --body "via $2" > "$E2E_T/submit-$2" 2>&1
}
t0=$(date +%s%N)
if submit sm 127.0.0.8; then ok "submitted to 'sm' (${#DOMAINS[@]} recipients)"; else not_ok "submitted to 'sm'" "$(tail -5 "$E2E_T/submit-sm")"; fi
if submit dane 127.0.0.9; then ok "submitted to 'dane' (${#DOMAINS[@]} recipients)"; else not_ok "submitted to 'dane'" "$(tail -5 "$E2E_T/submit-dane")"; fi

# Outcome of each recipient's first attempt: "status dsn relay tls".
# One bounded wait for all of them, then read (no per-recipient waits).
# shellcheck disable=SC2317  # called through e2e_wait
all_done() {
	local d
	for d in "${DOMAINS[@]}"; do
		dl_done "$SM_LOG" "sm@$d" && dl_done "$DANE_LOG" "dane@$d" || return 1
	done
}
e2e_wait 90000 all_done
declare -A OUT_SM OUT_DANE
outcome() {	# LOG RCPT [TIMEOUT_MS]
	local o tls
	o=$(dl_outcome "$1" "$2" "${3:-0}")
	tls=$(dl_tls "$1" "${o##* }")
	echo "$o $tls"
}
for d in "${DOMAINS[@]}"; do
	OUT_SM[$d]=$(outcome "$SM_LOG" "sm@$d")
	OUT_DANE[$d]=$(outcome "$DANE_LOG" "dane@$d")
done
echo "# first delivery attempts done after $((($(date +%s%N) - t0) / 1000000)) ms"

# ---------------------------------------------------------------- the socketmap path
# field N OUTCOME: 1 status, 2 dsn, 3 relay, 4 TLS class
field() { echo "$2" | awk -v n="$1" '{ print $n }'; }
sm_check() {	# DOMAIN STATUS DSN-ERE TLS-ERE WHAT
	local d=$1 o=${OUT_SM[$1]}
	check_match "socketmap: $d $5 ($o)" "$(field 1 "$o") $(field 2 "$o") $(field 4 "$o")" "^$2 $3 $4\$"
}
sm_check secure.example sent '2\.0\.0' Verified "delivered over Verified TLS"
sm_check tampered.example deferred '4\.7\.5' Untrusted "TLSA mismatch deferred, dsn=4.7.5"
sm_check mismatch.example deferred '4\.7\.5' Untrusted "TLSA 3 1 1 mismatch deferred, dsn=4.7.5"
sm_check unsignedmx.example sent '2\.0\.0' Verified "unsigned MX to DANE hosts: delivered over Verified TLS"
sm_check unsignedmxpin.example deferred '4\.7\.5' none "the same with policy dane-only: TEMP deferred"
check_match "socketmap: tampered.example reason" "$(dl_reason "$SM_LOG" sm@tampered.example)" \
	'Server certificate not verified'
sm_check bogus.example deferred '4\.[0-9.]+' none "bogus deferred, no connection"
sm_check insecure.example sent '2\.0\.0' '(Untrusted|Anonymous|none)' "delivered opportunistically"
sm_check tlsabogus.example deferred '4\.7\.5' none "socketmap TEMP deferred, dsn=4.7.5, no connection"
sm_check notlsa.example deferred '4\.7\.5' none "policy dane-only, no TLSA: TEMP deferred"

# ---------------------------------------------------------------- the reference path
dane_check() {	# DOMAIN STATUS DSN-ERE TLS-ERE WHAT
	local d=$1 o=${OUT_DANE[$1]}
	check_match "own dane: $d $5 ($o)" "$(field 1 "$o") $(field 2 "$o") $(field 4 "$o")" "^$2 $3 $4\$"
}
dane_check secure.example sent '2\.0\.0' Verified "delivered over Verified TLS"
dane_check tampered.example deferred '4\.7\.5' Untrusted "TLSA mismatch deferred, dsn=4.7.5"
dane_check bogus.example deferred '4\.[0-9.]+' none "bogus deferred, no connection"
dane_check insecure.example sent '2\.0\.0' '(Untrusted|Anonymous|none)' "delivered opportunistically"

# ---------------------------------------------------------------- receipt
# Every recipient the senders logged as sent reached the sink through the
# receiving Postfix, and nothing else did (bounces to sender.test are
# discarded by the senders themselves).
sent_rcpts() {
	grep -hE ' to=<(sm|dane)@[^>]*>,.* status=sent' "$SM_LOG" "$DANE_LOG" |
		sed -E 's/.* to=<([^>]*)>.*/\1/' | grep -v '@sender\.test$' | sort
}
sink_rcpts() { e2e_sink_recipients | grep -E '^(sm|dane)@'; }
# shellcheck disable=SC2317  # called through e2e_wait
sink_has_all() { [ "$(sink_rcpts | wc -l)" -ge "$(sent_rcpts | wc -l)" ]; }
e2e_wait 20000 sink_has_all
check_eq "receipt: the sink received exactly the recipients the senders delivered ($(sent_rcpts | wc -l))" \
	"$(sink_rcpts | tr '\n' ' ')" "$(sent_rcpts | tr '\n' ' ')"
check_match "receipt: the receiving smtpd logged TLS from the socketmap sender (127.0.0.8)" \
	"$(grep -F 'TLS connection established from' "$RECV_LOG" | grep -F '[127.0.0.8]' | head -1)" 'TLS connection established'
check_match "receipt: the receiver passed sm@secure.example on" \
	"$(grep -F 'to=<sm@secure.example>' "$RECV_LOG" | head -1)" 'status=sent'

# ---------------------------------------------------------------- audit
# audit_reply KEY: the reply danepold gave to the socketmap key KEY
# ("" when it was never asked).
audit_reply() {
	python3 - "$AUDIT" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "socketmap" and e.get("key") == sys.argv[2]:
        print(e.get("reply")); break
PY
}
check_eq "audit: secure.example -> OK dane-only" "$(audit_reply secure.example)" "OK dane-only"
check_eq "audit: insecure.example -> OK may" "$(audit_reply insecure.example)" "OK may"
check_eq "audit: unusable.example -> OK dane" "$(audit_reply unusable.example)" "OK dane"
check_eq "audit: unsignedmx.example (require, MX insecure) -> OK dane" "$(audit_reply unsignedmx.example)" "OK dane"
check_eq "audit: bogushost.example (require, MX secure) -> OK dane-only" "$(audit_reply bogushost.example)" "OK dane-only"
check_match "audit: unsignedmxpin.example (policy table dane-only) -> TEMP" "$(audit_reply unsignedmxpin.example)" \
	'^TEMP local policy requires DANE'
check_match "audit: tlsabogus.example -> TEMP with the status-table text" "$(audit_reply tlsabogus.example)" \
	'^TEMP TLSA lookup failed \(tlsabogus\.example: '
check_match "audit: notlsa.example (policy table dane-only) -> TEMP" "$(audit_reply notlsa.example)" '^TEMP .*notlsa\.example'
# Postfix asks smtp_tls_policy_maps only once it has MX hosts and
# addresses: its own DNSSEC lookups defer bogus/expired/servfail and bounce
# nullmx/nx/noaddr before the socketmap is consulted.
for d in bogus.example nullmx.example; do
	check_eq "audit: $d never asked (Postfix's own lookup decided first)" "$(audit_reply "$d")" ""
done
check_match "socketmap: Postfix logs danepold's TEMP text for tlsabogus.example" \
	"$(grep -F 'socketmap server temporary error' "$SM_LOG" | grep -F '(tlsabogus.example:' | head -1)" 'TLSA lookup failed \(tlsabogus\.example'

# ---------------------------------------------------------------- cross-check
# Differences between the two paths that RFC 7672 and danepol's documented
# choices explain (doc/postfix.md, "Delivery-time enforcement"): domain ->
# "socketmap outcome|own-dane outcome" as "status dsn TLS-class".
declare -A EXPLAINED=(
	[notlsa.example]="deferred 4.7.5 none|sent 2.0.0 Untrusted"	# danepol policy table: dane-only
	[unsignedmxpin.example]="deferred 4.7.5 none|sent 2.0.0 Verified"	# the same, unsigned MX
)
printf '# %-22s %-30s %-30s %s\n' domain "socketmap: status dsn TLS" "own dane: status dsn TLS" ""
for d in "${DOMAINS[@]}"; do
	s=${OUT_SM[$d]} o=${OUT_DANE[$d]}
	a="$(field 1 "$s") $(field 2 "$s") $(field 4 "$s")" b="$(field 1 "$o") $(field 2 "$o") $(field 4 "$o")"
	mark=same
	[ "$a" = "$b" ] || mark=DIFFERENT
	printf '# %-22s %-30s %-30s %s\n' "$d" "$a" "$b" "$mark"
	if [ "$a" = "$b" ]; then
		ok "cross-check $d: both paths $a"
	elif [ "${EXPLAINED[$d]:-}" = "$a|$b" ]; then
		ok "cross-check $d: explained difference ($a vs $b)"
	else
		not_ok "cross-check $d: socketmap '$a' vs own dane '$b'" \
			"socketmap: $(dl_reason "$SM_LOG" "sm@$d")" "own dane:  $(dl_reason "$DANE_LOG" "dane@$d")"
	fi
done

# ---------------------------------------------------------------- invariant
# The front-door rule (doc/engine.md, "Front doors"): for every world
# domain the socketmap path's delivery outcome is never worse than
# Postfix's own dane level, unless danepold's policy table has a line for
# the domain. Ranked: sent over Verified TLS 4, Trusted 3, Untrusted or
# Anonymous 2, sent without TLS 1; not sent (deferred, bounced) 0. A
# recipient without a first attempt within the bound fails the test.
rank() {	# OUTCOME ("status dsn relay tls")
	case "$(field 1 "$1") $(field 4 "$1")" in
	"sent Verified") echo 4 ;;
	"sent Trusted") echo 3 ;;
	"sent Untrusted" | "sent Anonymous") echo 2 ;;
	"sent "*) echo 1 ;;
	"deferred "* | "bounced "*) echo 0 ;;
	*) echo -1 ;;
	esac
}
in_table() { awk -v d="$1" '!/^#/ && $1 == d { f = 1 } END { exit !f }' "$POLICY"; }
for d in "${DOMAINS[@]}"; do
	rs=$(rank "${OUT_SM[$d]}") ro=$(rank "${OUT_DANE[$d]}")
	what="invariant $d: socketmap '${OUT_SM[$d]}' (rank $rs) vs own dane '${OUT_DANE[$d]}' (rank $ro)"
	if [ "$rs" -lt 0 ] || [ "$ro" -lt 0 ]; then
		not_ok "$what: no first delivery attempt"
	elif [ "$rs" -ge "$ro" ]; then
		ok "$what: not worse"
	elif in_table "$d"; then
		ok "$what: worse, as danepold's policy table asks"
	else
		not_ok "$what: worse, and no policy table line asks for it" \
			"socketmap: $(dl_reason "$SM_LOG" "sm@$d")" "own dane:  $(dl_reason "$DANE_LOG" "dane@$d")"
	fi
done

# ---------------------------------------------------------------- danepold down
# With the socketmap unreachable Postfix defers; it never delivers
# unchecked. down.test goes to [mx1.secure.example], a key the sm
# instance has not looked up yet (its smtp processes cache policies).
e2e_danepold_stop sm
check_eq "danepold: SIGTERM -> exit 0" "$E2E_RC" 0
swaks_to 127.0.0.8 down down@down.test || not_ok "submitted down@down.test" "$(tail -3 "$E2E_T/submit-down")"
o=$(outcome "$SM_LOG" down@down.test 20000)
check_match "danepold down: down@down.test deferred 4.7.5, not sent ($o)" "$o" '^deferred 4\.7\.5 none none$'
check_eq "danepold down: nothing reached the sink" "$(e2e_sink_recipients | grep -c '^down@')" 0
finish
