#!/usr/bin/env bash
# tests/e2e/exim_sts.sh - MTA-STS (RFC 8461) enforced by a real Exim 4.96
# through doc/exim.md's transport snippet and danepold's Exim socket.
#
# Re-executes itself under `unshare -mn` (tests/e2e/lib_delivery.sh): in
# the namespace a validating unbound on 127.0.0.1:53 serves the offline
# world (resolv.conf bind-mounted), tests/unit/sts/policy_server.py the
# policies on 127.0.0.1:443, and the system CA bundle with the world's CA
# added is bind-mounted over /etc/ssl/certs/ca-certificates.crt
# (tests/e2e/lib_sts.sh): the sending Exim checks certificates against
# the system store (tls_verify_certificates = system, its default).
#
# Set-up: danepold (sts = yes) serving the Exim socket; a sending Exim
# daemon (tests/e2e/exim_sts.conf.in: doc/exim.md's macro, ACL and
# transport snippets verbatim, routing by MX with DNSSEC requested); one
# receiving Exim on port 25 of the world's MX addresses, whose
# certificate depends on the address it was reached at (made here,
# signed by the world's CA unless said otherwise):
#   127.0.0.40 stsexim.example        valid for mx1.stsexim.example
#   127.0.0.41 stseximname.example    the world's EE (mx1.secure.example)
#   127.0.0.42 stseximca.example      self-signed for mx1.stseximca.example
#   127.0.0.43 stseximplain.example   no STARTTLS
#   127.0.0.44 stseximmix.example MX 10 mx1 (not named by the policy), valid
#   127.0.0.45 stseximmix.example MX 20 mx2 (named), valid
#   127.0.0.1  stsdane.example        the EE of its TLSA 3 1 1 (DANE)
# One message to a recipient at each domain through the sender's RCPT ACL
# (all accepted: verdict require; a recipient at stsmismatch.example,
# whose policy names none of its MX hosts, is deferred 450 4.7.5 there),
# then a queue run (-qff, foreground:
# every attempt is done when it returns). Asserted from the sender's and
# the receiver's logs and danepold's audit log:
#   (a) stsexim: delivered over TLS with a verified certificate (CV=yes);
#   (b) stseximname, stseximca: deferred (certificate check), nothing
#       reached the receiver;
#   (c) stseximplain: deferred (TLS required), nothing received;
#   (d) stseximmix: the tcp:connect event refused mx1 (Exim never
#       connected to 127.0.0.44), delivered to mx2 with CV=yes; the audit
#       log has the host requests (deny sts-mx-mismatch, allow
#       sts-enforce);
#   (e) stsdane: delivered with DANE (CV=dane), level=dane-only;
#   (f) danepold stopped: a second queue run falls back to what the
#       snippet did before level=secure (doc/exim.md): the deferred
#       recipients go out with opportunistic TLS or in clear, and a new
#       message to stseximmix goes to mx1 again.
# Ends with "N passed, M failed"; 77 (skip) when it cannot run (see
# tests/e2e/lib_exim.sh; unshare, unbound, drill, mount).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
EXIM_CACHE=${EXIM_CACHE:-/var/cache/danepol-tests/exim}
# shellcheck source=tests/e2e/lib_delivery.sh
. "$HERE/lib_delivery.sh"
e2e_paths

PATH=$PATH:/usr/sbin:/sbin
dl_netns_reexec "$0" "$@" || exit $?

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
UTIL=$HERE/exim_util.py

for c in unbound drill mount openssl; do
	command -v "$c" > /dev/null || { echo "SKIP: $c not installed (tools/setup.sh deps)"; exit 77; }
done
if [ -n "${WORLD_DIR:-}" ] && [ ! -f "$WORLD_DIR/pki/sts.crt" ]; then
	echo "SKIP: the world has no STS certificates (make check rebuilds it)"
	exit 77
fi
# shellcheck source=tests/e2e/lib_exim.sh
. "$HERE/lib_exim.sh"
exim_prereq

python3 "$UTIL" snippets "$TOP_SRCDIR/doc/exim.md" "$HERE/exim_sts.conf.in" > "${TMPDIR:-/tmp}/exim-sts-snip.$$"
py_results "${TMPDIR:-/tmp}/exim-sts-snip.$$"
rm -f "${TMPDIR:-/tmp}/exim-sts-snip.$$"

# ---------------------------------------------------------------- set-up
dl_init eximsts || { not_ok "temporary directory"; finish; }
# shellcheck source=tests/e2e/lib_sts.sh
. "$HERE/lib_sts.sh"
sts_env_up
step "namespace: the MX addresses 127.0.0.40..45" dl_net_up 40 41 42 43 44 45
D=$E2E_T/d-sts
EXSOCK=$D/exim.sock
AUDIT=$D/audit.log
sts_danepold sts "$D/socketmap.sock" "exim_socket = unix:$EXSOCK" "socket_group = Debian-exim" "outcome_db = $D/outcomes.db" \
	"decision_timeout = 2s"
q() { python3 "$UTIL" query "$EXSOCK" "$1" 2>&1; }
for c in "domain stsexim.example:require secure sts-enforce" "domain stseximmix.example:require secure sts-enforce" \
	"domain stsdane.example:require dane-only dane"; do
	r=$(q "${c%%:*}")
	check_eq "danepold: ${c%%:*} -> ${c#*:}" "$(python3 "$UTIL" field verdict "$r") $(python3 "$UTIL" field level "$r") $(python3 "$UTIL" field reason "$r")" "${c#*:}"
done
check_eq "danepold: host stseximmix.example mx1.stseximmix.example -> deny" \
	"$(q "host stseximmix.example mx1.stseximmix.example")" \
	"verdict=deny reason=sts-mx-mismatch destination=stseximmix.example host=mx1.stseximmix.example"

# The receiver's certificates (the world's PKI: dl_pki).
step "the world's PKI in the test directory" dl_pki
# shellcheck disable=SC2317  # called through step
mkcerts() {
	cd "$PKI" || return 1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout mx.key \
		-subj /CN=mx1.stsexim.example -out mx.csr 2> /dev/null &&
		printf '%s\n' 'basicConstraints = CA:FALSE' 'extendedKeyUsage = serverAuth' \
			'subjectAltName = DNS:mx1.stsexim.example,DNS:mx1.stseximmix.example,DNS:mx2.stseximmix.example' > mx.ext &&
		openssl x509 -req -in mx.csr -CA ca.crt -CAkey ca.key -set_serial 4242 -days 2 \
			-extfile mx.ext -out mx.crt 2> /dev/null &&
		cat mx.crt ca.crt > mx-chain.crt &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout unknown.key \
			-subj /CN=mx1.stseximca.example -addext subjectAltName=DNS:mx1.stseximca.example \
			-days 2 -out unknown.crt 2> /dev/null &&
		chown Debian-exim mx.key unknown.key ee.key && chmod 755 "$PKI"
	local rc=$?
	cd - > /dev/null || return 1
	return "$rc"
}
step "receiver certificates: mx1.stsexim/mx1,mx2.stseximmix (world CA), mx1.stseximca (self-signed)" mkcerts

RD=$E2E_T/x-recv
exim_dir "$RD"
{ echo "# receiving Exim of tests/e2e/exim_sts.sh: every MX address of the test"; exim_private "$RD"; } > "$RD/exim.conf"
cat >> "$RD/exim.conf" << EOF
primary_hostname = mx.receiver.test
daemon_smtp_ports = 25
local_interfaces = <; 127.0.0.1 ; 127.0.0.40 ; 127.0.0.41 ; 127.0.0.42 ; 127.0.0.43 ; 127.0.0.44 ; 127.0.0.45
log_selector = +smtp_connection +incoming_interface +received_recipients
tls_advertise_hosts = \${if eq{\$received_ip_address}{127.0.0.43}{}{*}}
tls_certificate = \${if match_ip{\$received_ip_address}{<; 127.0.0.1 ; 127.0.0.41}{$PKI/ee-chain.crt}{\${if eq{\$received_ip_address}{127.0.0.42}{$PKI/unknown.crt}{$PKI/mx-chain.crt}}}}
tls_privatekey = \${if match_ip{\$received_ip_address}{<; 127.0.0.1 ; 127.0.0.41}{$PKI/ee.key}{\${if eq{\$received_ip_address}{127.0.0.42}{$PKI/unknown.key}{$PKI/mx.key}}}}
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  accept
begin routers
sink:
  driver = redirect
  data = :blackhole:
EOF
exim_bg -C "$RD/exim.conf" -bdf > "$RD/out" 2>&1 &
E2E_PIDS+=("$!")

XD=$E2E_T/x-send
EXIM_PORT=$(e2e_free_port)
exim_dir "$XD"
sed -e "s|@DIR@|$XD|g; s|@SOCKET@|$EXSOCK|g; s|@PORT@|$EXIM_PORT|g" "$HERE/exim_sts.conf.in" > "$XD/exim.conf"
exim_bg -C "$XD/exim.conf" -bdf > "$XD/out" 2>&1 &
E2E_PIDS+=("$!")
# shellcheck disable=SC2317  # called through e2e_wait
_listening() {
	local a
	for a in 1 40 41 42 43 44 45; do e2e_sock_connects "inet:25@127.0.0.$a" || return 1; done
	e2e_sock_connects "inet:$EXIM_PORT@127.0.0.1"
}
if e2e_wait 10000 _listening; then
	ok "Exim daemons: sender on 127.0.0.1:$EXIM_PORT, receiver on port 25 of 127.0.0.1 and 127.0.0.40..45"
else
	not_ok "Exim daemons started" "$(cat "$XD/out" "$RD/out" | head -5)"
	finish
fi

# ---------------------------------------------------------------- one message, one queue run
RCPTS=(a@stsexim.example b@stseximname.example c@stseximca.example d@stseximplain.example
	e@stseximmix.example f@stsdane.example)
e2e_swaks "$EXIM_PORT" --from '<>' --to "$(IFS=,; echo "${RCPTS[*]}"),h@stsmismatch.example" > "$E2E_T/send.sw"
python3 "$UTIL" replies swaks "$E2E_T/send.sw" > "$E2E_T/send.r"
for r in "${RCPTS[@]}"; do
	check_eq "RCPT <$r> -> 250 (the ACL asked danepold: require)" \
		"$(awk -F'\t' -v r="$r" '$1 == r { print $2; exit }' "$E2E_T/send.r")" "250 Accepted"
done
check_prefix "RCPT <h@stsmismatch.example> (a policy naming none of its MX hosts) -> 450 4.7.5" \
	"$(awk -F'\t' '$1 == "h@stsmismatch.example" { print $2; exit }' "$E2E_T/send.r")" \
	"450 4.7.5 no MX host matches the MTA-STS policy (stsmismatch.example: "
MSGID=$(sed -n -E 's/^ *<- +250 OK id=([A-Za-z0-9-]+).*/\1/p' "$E2E_T/send.sw" | head -1)
if [ -n "$MSGID" ]; then ok "message queued as $MSGID"; else not_ok "message queued" "$(tail -5 "$E2E_T/send.sw")"; finish; fi

ML=$XD/log/mainlog
RL=$RD/log/mainlog
# the receiver's log from here on (the start-up probes connected too)
RL_FROM=$(($(wc -l < "$RL") + 1))
exim -C "$XD/exim.conf" -qff > "$E2E_T/qrun.out" 2>&1
# sent RCPT: the sender's "=>" line for RCPT in message MSGID
sent() { grep -E "^.* $1 => $2 " "$ML" | head -1; }
# deferred RCPT: the sender's "==" line
deferred() { grep -E "^.* $1 == $2 " "$ML" | head -1; }
# received ADDR RCPT: the receiver logged a message for RCPT reached at ADDR
received() { grep -E "^.* <= .* I=\[$1\]:25 .* for $2\$" "$RL" | head -1; }
# connected ADDR: the receiver logged an SMTP connection at ADDR in the queue run
# shellcheck disable=SC2317  # called through check, as are the three below
connected() { tail -n +"$RL_FROM" "$RL" | grep -qE "SMTP connection from .* I=\[$1\]:25"; }
# shellcheck disable=SC2317
not_connected() { ! connected "$1"; }
# refused ID: the sender logged the tcp:connect refusal of mx1.stseximmix.example for message ID
# shellcheck disable=SC2317
refused() { grep -qE "^.* $1 H=mx1\.stseximmix\.example \[127\.0\.0\.44\]:?[0-9]* Event requests alternate response" "$ML"; }
# shellcheck disable=SC2317
not_refused() { ! refused "$1"; }
why() { grep -F "$MSGID" "$ML" | grep -F "$1" | tail -3; }

l=$(sent "$MSGID" a@stsexim.example)
check_match "(a) a@stsexim.example delivered to mx1.stsexim.example over TLS, certificate verified (CV=yes)" \
	"$l" ' H=mx1\.stsexim\.example \[127\.0\.0\.40\] .*X=TLS[^ ]* CV=yes '
check "(a) ... and the receiver got it at 127.0.0.40" test -n "$(received 127.0.0.40 a@stsexim.example)"

# cert_refused RCPT ADDR WHAT: (b) RCPT (MX host mx1.<its domain> at ADDR,
# whose certificate is WHAT) deferred by the certificate check, and the
# receiver got nothing for it
cert_refused() {
	local l re="mx1.${1#*@}"
	l=$(deferred "$MSGID" "$1")
	check_match "(b) $1 ($3) deferred: certificate verification failed" "$l" \
		" defer .* H=${re//./\\.} \\[${2//./\\.}\\]: TLS session: \\(certificate verification failed\\)"
	[ -n "$l" ] || echo "#   $(why "${1#*@}")"
	check "(b) ... not delivered (no => line)" test -z "$(sent "$MSGID" "$1")"
	check "(b) ... the receiver got nothing for it (neither over TLS nor in clear)" \
		test -z "$(received "$2" "$1")"
}
cert_refused b@stseximname.example 127.0.0.41 "a certificate for another name"
cert_refused c@stseximca.example 127.0.0.42 "a certificate of an unknown CA"

l=$(deferred "$MSGID" d@stseximplain.example)
check_match "(c) d@stseximplain.example (no STARTTLS) deferred: TLS required" \
	"$l" ' defer .* a TLS session is required, but the server did not offer TLS support'
check "(c) ... the receiver got nothing for it (no delivery in clear)" test -z "$(received 127.0.0.43 d@stseximplain.example)"

check "(d) stseximmix: the tcp:connect event refused mx1.stseximmix.example (not named by the policy)" \
	refused "$MSGID"
check "(d) ... Exim did connect to mx2 (127.0.0.45)" connected 127.0.0.45
check "(d) ... and never to mx1 (127.0.0.44)" not_connected 127.0.0.44
l=$(sent "$MSGID" e@stseximmix.example)
check_match "(d) e@stseximmix.example delivered to mx2.stseximmix.example (MX 20, named) with CV=yes" \
	"$l" ' H=mx2\.stseximmix\.example \[127\.0\.0\.45\] .*X=TLS[^ ]* CV=yes '
check "(d) ... and the receiver got it at 127.0.0.45" test -n "$(received 127.0.0.45 e@stseximmix.example)"

l=$(sent "$MSGID" f@stsdane.example)
check_match "(e) f@stsdane.example (DANE and an MTA-STS policy) delivered with DANE (CV=dane)" \
	"$l" ' H=mx1\.stsdane\.example \[127\.0\.0\.1\] .*X=TLS[^ ]* CV=dane '

python3 "$UTIL" queries "$AUDIT" "host stseximmix.example mx1.stseximmix.example:sts-enforce" \
	"domain stsexim.example:sts-enforce" "domain stsdane.example:dane" \
	"host stsdane.example mx1.stsdane.example:dane" > "$E2E_T/queries.r"
py_results "$E2E_T/queries.r"
check "audit: the host request for mx1.stseximmix.example answered deny sts-mx-mismatch" \
	grep -qF '"request":"host stseximmix.example mx1.stseximmix.example","destination":"stseximmix.example","reply":"verdict=deny reason=sts-mx-mismatch' "$AUDIT"
check "audit: the host request for mx2.stseximmix.example answered allow sts-enforce" \
	grep -qF '"request":"host stseximmix.example mx2.stseximmix.example","destination":"stseximmix.example","reply":"verdict=allow reason=sts-enforce' "$AUDIT"
python3 "$UTIL" events "$AUDIT" "msg:delivery:stsexim.example,id=$MSGID,cipher~" \
	"msg:delivery:stseximmix.example,id=$MSGID,ip=127.0.0.45" "msg:delivery:stsdane.example,id=$MSGID,dane=yes" \
	"msg:host:defer:stseximmix.example,id=$MSGID,ip=127.0.0.44" > "$E2E_T/events.r"
py_results "$E2E_T/events.r"
# The TLS report outcomes of those deliveries: under the sts policy
# danepold kept, DANE's under tlsa. Each is queued before its audit line
# and written behind by danepold's outcome queue: waited for.
exim_outcome_domains() {
	python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(distinct policy_domain) from outcomes"
    " where source = 2 and policy_domain in (?, ?, ?)",
    ("stsexim.example", "stseximmix.example", "stsdane.example")).fetchone()[0])' "$D/outcomes.db" 2> /dev/null
}
wait_for 20 eval '[ "$(exim_outcome_domains)" = 3 ]' || echo "# the Exim outcomes were not all written within 20 s"
py_results <(python3 - "$D/outcomes.db" <<'PY' 2>&1
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def res(ok, what): print(("PASS " if ok else "FAIL ") + what)
def rows(d):
    return db.execute("select have_policy, success, policy_strings from outcomes"
                      " where source = 2 and policy_domain = ?", (d,)).fetchall()
for d in ("stsexim.example", "stseximmix.example"):
    r = rows(d)
    res(len(r) >= 1 and all(p == 2 and s == 1 and "mode: enforce" in json.loads(ps) for p, s, ps in r),
        "outcome store: %s's delivery an sts success with the policy's lines: %s" % (d, r))
r = rows("stsdane.example")
res(len(r) >= 1 and all(p == 1 and s == 1 for p, s, _ in r), "outcome store: stsdane.example's a tlsa success: %s" % r)
PY
) "exim outcomes: "

# ---------------------------------------------------------------- (f) danepold stopped
# A second message, submitted locally (no RCPT ACL, which would defer
# with danepold gone), then danepold stops and a forced queue run: the
# transport's ${readsocket}s get their empty fail strings.
printf 'Subject: danepol e2e, danepold stopped\n\nfallback\n' |
	exim -C "$XD/exim.conf" -odq -f '<>' g@stseximmix.example > "$E2E_T/submit2.out" 2>&1
MSGID2=$(sed -n -E 's/^.* ([A-Za-z0-9]{6}-[A-Za-z0-9]{6}-[A-Za-z0-9]{2}) <= .*/\1/p' "$ML" | tail -1)
check "(f) a second message queued ($MSGID2)" test -n "$MSGID2" -a "$MSGID2" != "$MSGID"
e2e_danepold_stop sts
check_eq "(f) danepold exits 0 on SIGTERM" "$E2E_RC" "0"
check "(f) the Exim socket is gone" test ! -S "$EXSOCK"
exim -C "$XD/exim.conf" -qff > "$E2E_T/qrun2.out" 2>&1
l=$(sent "$MSGID" b@stseximname.example)
check_match "(f) b@stseximname.example now delivered with opportunistic TLS, certificate not verified (CV=no)" \
	"$l" ' X=TLS[^ ]* CV=no '
l=$(sent "$MSGID" d@stseximplain.example)
check_match "(f) d@stseximplain.example now delivered (no TLS: the server has none)" "$l" ' H=mx1\.stseximplain\.example '
case $l in *" X="*) not_ok "(f) ... in clear (no X= on its line)" "$l" ;; *) ok "(f) ... in clear (no X= on its line)" ;; esac
check "(f) ... and no connection refused by the event any more" not_refused "$MSGID2"
l=$(sent "$MSGID2" g@stseximmix.example)
check_match "(f) g@stseximmix.example delivered to mx1 (no host check without danepold)" \
	"$l" ' H=mx1\.stseximmix\.example \[127\.0\.0\.44\] '

if [ -s "$XD/log/paniclog" ]; then
	not_ok "no panic log of the sending Exim" "$(head -3 "$XD/log/paniclog")"
else
	ok "no panic log of the sending Exim"
fi
python3 "$TOP_SRCDIR/tests/e2e/validate_audit.py" schema "$TOP_SRCDIR/doc" "$AUDIT" > "$E2E_T/schema.r" 2>&1
py_results "$E2E_T/schema.r" "audit schema: "
finish
