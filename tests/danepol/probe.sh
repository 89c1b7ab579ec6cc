#!/usr/bin/env bash
# tests/danepol/probe.sh - the STARTTLS DANE probe (`danepol probe`, probe/probe*.c)
# against real receiving servers, and danepold's background probing,
# probe_defer and outcome store.
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT):
#   WORLD_DIR, FAULTDNS  the signed world (tools/mkworld.sh) and its fault responder
#   DANEPOL, DANEPOLD    the binaries under test; tests/danepol/tlsserv next to DANEPOL
#   PROBE_VALGRIND=1     also run danepol probe under valgrind (0 errors wanted)
#
# Re-executes itself under `unshare -mn` (tests/e2e/lib_delivery.sh), so that
# port 25 of 127.0.0.x is ours. In the namespace:
#   - one receiving Postfix instance with one smtpd per address:
#       127.0.0.1:25   ee-chain.crt     mismatch.example (3 1 1 of a key it lacks),
#                                       unusable.example mx1 (only unusable TLSA)
#       127.0.0.14:25  ee-chain.crt     pee (3 1 1 EE: depth 0), pname (2 1 1 CA, names lack mx.pname)
#       127.0.0.15:25  probe-chain.crt  pta (2 1 1 CA: depth 1)
#       127.0.0.16:25  probe.crt alone  pnochain (2 1 1 CA: TA not in the chain)
#       127.0.0.17:25  expired chain    pexpta (2 1 1: certificate-expired), pexpee (3 1 1: success)
#       127.0.0.18:25  no STARTTLS      pnotls
#   - tests/danepol/tlsserv on 127.0.0.19, one port per case (pocsp.example,
#     `danepol probe --port`): OCSP staples made with `openssl ocsp` (good,
#     revoked, nextUpdate passed (faketime), responder certificate expiring
#     before nextUpdate, signed by an untrusted responder, garbage, none)
#     and hostile servers (over-long line, no line end, garbage, slow drip,
#     changing reply codes, STARTTLS refused, TLS garbage);
#   - danepold (exim socket only) with probe = yes, probe_defer = yes and
#     an outcome store: background probes, the dane-auth-failed defer,
#     Exim outcome events into the store.
# Ends with "N passed, M failed"; exit 0 when nothing failed, 1 otherwise,
# 77 (skip) when not root or namespaces are not permitted.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/danepol/lib_ns.sh
. "$HERE/lib_ns.sh"

# ---------------------------------------------------------------- prerequisites
dn_need openssl faketime ip mount python3
if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR" ] || [ ! -f "$WORLD_DIR/pki/probe.crt" ]; then
	echo "SKIP: WORLD_DIR unset or without the probe PKI (run through make check)"
	exit 77
fi
dn_built "$DANEPOL" "$DANEPOLD" "$TLSSERV"

# ---------------------------------------------------------------- set-up
dl_init probe || { not_ok "temporary directory"; finish; }
step "namespace: lo up, 127.0.0.2-9 and 127.0.0.14-19" dl_net_up 14 15 16 17 18 19
step "offline world and fault responder" e2e_world

step "the world's PKI in the test directory" dl_pki

# The receiving Postfix: never relays anything (no test sends mail).
E2E_SINK_PORT=9
e2e_postfix_init "myhostname = mx.receiver.test" \
	"inet_interfaces = 127.0.0.1, 127.0.0.14, 127.0.0.15, 127.0.0.16, 127.0.0.17, 127.0.0.18" \
	"smtpd_tls_security_level = may" "smtpd_tls_loglevel = 1" \
	"smtpd_tls_cert_file = $PKI/ee-chain.crt" "smtpd_tls_key_file = $PKI/ee.key" \
	"relay_domains =" "smtpd_relay_restrictions = reject"
listener() {	# ADDR [CERT KEY | none]
	printf '%s:25 inet n - n - - smtpd\n' "$1"
	if [ "${2:-}" = none ]; then
		printf '  -o smtpd_tls_security_level=none\n'
	elif [ -n "${2:-}" ]; then
		printf '  -o smtpd_tls_cert_file=%s\n  -o smtpd_tls_key_file=%s\n' "$2" "$3"
	fi
}
{
	listener 127.0.0.1
	listener 127.0.0.14
	listener 127.0.0.15 "$PKI/probe-chain.crt" "$PKI/probe.key"
	listener 127.0.0.16 "$PKI/probe.crt" "$PKI/probe.key"
	listener 127.0.0.17 "$PKI/expired-chain.crt" "$PKI/expired.key"
	listener 127.0.0.18 none
} >> "$E2E_PF_DIR/master.cf"
step "receiving Postfix on 127.0.0.1, .14-.18 port 25" e2e_postfix_start
# shellcheck disable=SC2317  # called through e2e_wait
listening() { python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], 25), 1).close()' "$1" 2> /dev/null; }
for a in 127.0.0.1 127.0.0.14 127.0.0.15 127.0.0.16 127.0.0.17 127.0.0.18; do
	e2e_wait 10000 listening "$a" || { not_ok "smtpd listens on $a:25"; finish; }
done

# shellcheck source=tests/danepol/lib_ocsp.sh
. "$TOP/tests/danepol/lib_ocsp.sh"
step "OCSP responses (openssl ocsp; faketime for a passed nextUpdate)" make_ocsp

start_servers() {
	local c
	for c in good revoked expired early rogue garbage; do tlsserv "ocsp-$c" -o "$O/$c.der" || return 1; done
	tlsserv ocsp-none || return 1
	for c in longline nocrlf garbage drip badcode refuse tlsgarbage; do tlsserv "m-$c" -m "$c" || return 1; done
}
step "tlsserv instances on 127.0.0.19" start_servers

CONF=$E2E_T/danepol.conf
{
	echo "trust_anchor = $E2E_TRUST_ANCHOR"
	echo "resolver_config = $E2E_RESOLVER_CONF"
	echo "probe_step_timeout = 2s"
	echo "probe_helo = probe.test"
} > "$CONF"

# ---------------------------------------------------------------- helpers
# probe NAME ARGS...: run danepol probe --json, keep stdout and exit status.
declare -A J RC
probe() {
	local name=$1
	shift
	J[$name]=$("$DANEPOL" probe -c "$CONF" --json "$@" 2> "$E2E_T/probe-$name.err")
	RC[$name]=$?
}
# jq NAME PYEXPR: evaluate PYEXPR over the JSON of NAME (r = the result, a = results[0]).
jq() {
	python3 -c 'import json, sys
r = json.loads(sys.argv[1]); a = r["results"][0] if r["results"] else {}
v = eval(sys.argv[2])
print("null" if v is None else (str(v).lower() if isinstance(v, bool) else v))' "${J[$1]:-{\}}" "$2" 2>&1
}
outcome() {	# NAME: "result_type-or-success depth matched-usage"
	jq "$1" '("success" if a["success"] else (a["result_type"] or "transient")) + " " + str(a["match_depth"]) + " " + (a["matched"] or "-")[:5]'
}

# ---------------------------------------------------------------- Postfix servers
probe pee pee.example
check_eq "pee: DANE-EE 3 1 1 matched at depth 0" "$(outcome pee)" "success 0 3 1 1"
check_eq "pee: exit 0" "${RC[pee]}" 0
check_eq "pee: TLS 1.2 or later, SNI and EHLO done" "$(jq pee 'a["tls_version"] in ("TLSv1.2", "TLSv1.3") and a["starttls"] and a["helo"] == "mx.receiver.test"')" true
check_eq "pee: no staple from Postfix" "$(jq pee 'a["ocsp"]["status"]')" missing
probe pta pta.example
check_eq "pta: DANE-TA 2 1 1 matched at depth 1" "$(outcome pta)" "success 1 2 1 1"
probe mismatch mismatch.example
check_eq "mismatch: key not in TLSA -> certificate-not-trusted" "$(outcome mismatch)" "certificate-not-trusted -1 -"
check_eq "mismatch: failure-reason-code" "$(jq mismatch 'a["detail"].split(":")[0]')" X509_V_ERR_DANE_NO_MATCH
check_eq "mismatch: every DANE host failed, exit 2" "$(jq mismatch 'r["all_dane_failed"]') ${RC[mismatch]}" "true 2"
check_eq "mismatch: --json has the presented chain (leaf, CA) with its digests" \
	"$(jq mismatch 'len(a["chain"]), len(a["chain"][0]["cert_sha256"]), len(a["chain"][1]["spki_sha256"])')" "(2, 64, 64)"
probe pexpta pexpta.example
check_eq "pexpta: expired certificate under DANE-TA -> certificate-expired" "$(outcome pexpta)" "certificate-expired -1 -"
probe pexpee pexpee.example
check_eq "pexpee: expired certificate under DANE-EE -> success (expiry ignored)" "$(outcome pexpee)" "success 0 3 1 1"
probe pname pname.example
check_eq "pname: name not in the certificate under DANE-TA -> certificate-host-mismatch" "$(outcome pname)" "certificate-host-mismatch -1 -"
probe pnochain pnochain.example
check_eq "pnochain: TA missing from the chain -> certificate-not-trusted" "$(outcome pnochain)" "certificate-not-trusted -1 -"
probe pnotls pnotls.example
check_eq "pnotls: no STARTTLS -> starttls-not-supported" "$(outcome pnotls)" "starttls-not-supported -1 -"
check_eq "pnotls: stage starttls, exit 2" "$(jq pnotls 'a["stage"]') ${RC[pnotls]}" "starttls 2"
probe unusable unusable.example
check_eq "unusable: mx1 (only unusable TLSA) -> tlsa-invalid, no record handed to OpenSSL" \
	"$(jq unusable 'r["results"][0]["result_type"] + " " + str(r["results"][0]["tlsa_added"])')" "tlsa-invalid 0"
check_eq "unusable: mx2 (nothing listening) -> transient" \
	"$(jq unusable 'r["results"][1]["stage"] + " " + str(r["results"][1]["transient"]).lower()')" "connect true"
probe tlsabogus tlsabogus.example
check_eq "tlsabogus: hosts not probed -> dnssec-invalid" \
	"$(jq tlsabogus '" ".join(sorted(set(x["stage"] + "/" + str(x["result_type"]) for x in r["results"])))')" "none/dnssec-invalid"
probe bogus bogus.example
check_eq "bogus: the destination itself -> dnssec-invalid" "$(jq bogus 'a["result_type"] + " " + str(a["host"])')" "dnssec-invalid None"
probe several pee.example pta.example
check_eq "two domains: two JSON lines" "$(printf '%s\n' "${J[several]}" | wc -l)" 2

# JSON schema
J_ALL=$E2E_T/all.jsonl
printf '%s\n' "${J[pee]}" "${J[mismatch]}" "${J[unusable]}" "${J[bogus]}" "${J[pnotls]}" > "$J_ALL"
if python3 -c 'import jsonschema' 2> /dev/null; then
	v=$(python3 - "$TOP/doc/probe.schema.json" "$J_ALL" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
n = 0
for line in open(sys.argv[2]):
    jsonschema.validate(json.loads(line), schema); n += 1
print(n)
PY
)
	check_eq "JSON output validates against doc/probe.schema.json" "$v" 5
fi

# Human output
H=$("$DANEPOL" probe -c "$CONF" pta.example mismatch.example 2>&1)
hrc=$?
check_eq "human: exit status is the worst (2)" "$hrc" 2
check_eq "human: head line" "$(printf '%s\n' "$H" | grep -c '^pta.example: require (dane) - reason dane, 1 DANE host, 0 failed authentication$')" 1
check_eq "human: matched record and depth" "$(printf '%s\n' "$H" | grep -c 'mx.pta.example\[127.0.0.15\]:25  dane  success  TLSv1.[23]  matched 2 1 1 .* at depth 1')" 1
check_eq "human: failure line with its code" "$(printf '%s\n' "$H" | grep -c 'X509_V_ERR_DANE_NO_MATCH')" 1
# issue 13: a no-match shows the records published and the chain presented, in full
leaf_der=$(openssl x509 -in "$PKI/ee-chain.crt" -outform DER | sha256sum | cut -d' ' -f1 | tr 'a-f' 'A-F')
leaf_spki=$(openssl x509 -in "$PKI/ee-chain.crt" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1 | tr 'a-f' 'A-F')
published=$("$DANEPOL" check -c "$CONF" --long mismatch.example | sed -n 's/.*TLSA secure @ [^:]*: \([0-3] [01] [0-2] [0-9A-F]*\) usable.*/\1/p' | head -1)
check_eq "check --long prints the record in full (64 hex digits)" "$(printf '%s' "${published##* }" | wc -c)" 64
check_eq "no-match: the TLSA records published, in full" \
	"$(printf '%s\n' "$H" | grep -A1 '^      TLSA published at _25._tcp.mx1.mismatch.example:$' | tail -1)" "        $published"
check_eq "no-match: the leaf's certificate digest (\"0 1\", as in a TLSA record)" "$(printf '%s\n' "$H" | grep -c "^          0 1 $leaf_der\$")" 1
check_eq "no-match: the leaf's public key digest (\"1 1\")" "$(printf '%s\n' "$H" | grep -c "^          1 1 $leaf_spki\$")" 1
check_eq "no-match: the chain's depths" "$(printf '%s\n' "$H" | grep -c '^        depth [01] ')" 2
check_eq "a match prints no chain" "$(printf '%s\n' "$H" | grep -c 'mx.pta.example.*matched' ) $(printf '%s\n' "$H" | grep -c 'chain presented')" "1 1"
HL=$("$DANEPOL" probe -c "$CONF" --long pta.example 2>&1)
check_eq "probe --long: the matched record in full" "$(printf '%s\n' "$HL" | grep -c 'matched 2 1 1 [0-9A-Fa-f]\{64\} at depth 1')" 1

# ---------------------------------------------------------------- OCSP (tlsserv)
ocsp() {	# NAME WANT WHAT: probe the tlsserv NAME, want "status result"
	probe "$1" --port "${TS_PORT[$1]}" pocsp.example
	check_eq "ocsp: $3" "$(jq "$1" 'a["ocsp"]["status"] + " " + ("success" if a["success"] else str(a["result_type"]))')" "$2"
}
ocsp ocsp-good "good success" "good staple"
ocsp ocsp-revoked "revoked success" "revoked (DANE still authenticates)"
ocsp ocsp-expired "expired success" "nextUpdate passed -> expired"
ocsp ocsp-early "responder-expires success" "responder certificate expires before nextUpdate"
ocsp ocsp-rogue "invalid success" "signed by an untrusted responder -> invalid"
ocsp ocsp-garbage "invalid success" "garbage staple -> invalid"
ocsp ocsp-none "missing success" "no staple -> missing"
check_eq "ocsp: detail of the early-expiring responder" \
	"$(jq ocsp-early '"before nextUpdate" in a["ocsp"]["detail"]')" true

# ---------------------------------------------------------------- hostile servers
hostile() {	# NAME WANT-STAGE WANT-RESULT
	local t0 ms
	t0=$(date +%s%N)
	probe "$1" --port "${TS_PORT[$1]}" pocsp.example
	ms=$((($(date +%s%N) - t0) / 1000000))
	check_eq "hostile ${1#m-}: $2 / $3" "$(jq "$1" 'a["stage"] + " " + ("success" if a["success"] else (a["result_type"] or "transient"))')" "$2 $3"
	if [ "$ms" -lt 6000 ]; then ok "hostile ${1#m-}: bounded ($ms ms, step timeout 2 s)"; else not_ok "hostile ${1#m-}: bounded" "took $ms ms"; fi
}
hostile m-longline banner transient
hostile m-nocrlf banner transient
hostile m-garbage banner transient
hostile m-drip banner transient
hostile m-badcode banner transient
hostile m-refuse starttls starttls-not-supported
hostile m-tlsgarbage handshake validation-failure
check_eq "hostile nocrlf: timed out" "$(jq m-nocrlf '"within 2000 ms" in a["detail"]')" true
check_eq "hostile longline: too long" "$(jq m-longline 'a["detail"]')" "banner: reply line too long"
check_eq "only transient failures: exit 3" "${RC[m-drip]}" 3

# ---------------------------------------------------------------- valgrind (PROBE_VALGRIND=1)
if [ -n "${PROBE_VALGRIND:-}" ] && command -v valgrind > /dev/null; then
	VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
	"${VG[@]}" "$DANEPOL" probe -c "$CONF" pee.example pta.example mismatch.example pexpta.example \
		pname.example pnotls.example unusable.example tlsabogus.example bogus.example \
		> /dev/null 2> "$E2E_T/vg1"
	vrc=$?
	check_eq "valgrind: danepol probe of 9 domains, no errors ($(grep -c '==' "$E2E_T/vg1") report lines)" "$vrc" 2
	for c in ocsp-good ocsp-rogue ocsp-garbage m-tlsgarbage m-longline; do
		"${VG[@]}" "$DANEPOL" probe -c "$CONF" --json --port "${TS_PORT[$c]}" pocsp.example > /dev/null 2> "$E2E_T/vg-$c"
		vrc=$?
		if [ "$vrc" -ne 99 ]; then ok "valgrind: probe of tlsserv $c, no errors"; else not_ok "valgrind: $c" "$(head -20 "$E2E_T/vg-$c")"; fi
	done
fi

# ---------------------------------------------------------------- usage
"$DANEPOL" probe > /dev/null 2>&1
check_eq "no domain: exit 64" "$?" 64
"$DANEPOL" probe --port 70000 pee.example > /dev/null 2>&1
check_eq "bad --port: exit 64" "$?" 64

# ---------------------------------------------------------------- danepold
D=$E2E_T/d-bg
EXIM_SOCK=$D/exim.sock
DB=$D/outcomes.db
e2e_danepold_conf bg none "exim_socket = unix:$EXIM_SOCK" "probe = yes" "probe_defer = yes" \
	"probe_interval = 60s" "probe_step_timeout = 2s" "probe_helo = probe.test" "outcome_db = $DB"
e2e_danepold_start bg
step "danepold with probe = yes, probe_defer = yes, outcome store" dl_danepold_ready bg "unix:$EXIM_SOCK"
ask() {	# LINE: danepold's reply on the Exim socket
	python3 - "$EXIM_SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode()); s.shutdown(socket.SHUT_WR)
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(4096)
    if not chunk: break
    data += chunk
print(data.decode().strip())
PY
}
kv() { printf '%s\n' "$2" | python3 -c 'import shlex, sys
d = dict(x.split("=", 1) for x in shlex.split(sys.stdin.read()) if "=" in x); print(d.get(sys.argv[1], "-"))' "$1"; }
AUDIT=$D/audit.log
probed() { grep -F '"event":"probe"' "$AUDIT" 2> /dev/null | grep -qF "\"destination\":\"$1\""; }

R=$(ask "domain pnotls.example")
check_eq "danepold: pnotls before its probe: require" "$(kv verdict "$R")" require
R=$(ask "domain pee.example")
check_eq "danepold: pee before its probe: require" "$(kv verdict "$R")" require
if e2e_wait 20000 probed pnotls.example && e2e_wait 20000 probed pee.example; then
	ok "danepold: background probes of both destinations audited"
else
	not_ok "danepold: background probes audited" "$(tail -5 "$D/stderr")"
fi
R=$(ask "domain pnotls.example")
check_eq "danepold: pnotls after a failed probe: defer dane-auth-failed" "$(kv verdict "$R") $(kv reason "$R")" "defer dane-auth-failed"
check_eq "danepold: its reply" "$(kv reply "$R" | cut -c1-53)" "450 4.7.5 DANE authentication of every MX host failed"
R=$(ask "domain pee.example")
check_eq "danepold: pee after a successful probe: require" "$(kv verdict "$R") $(kv reason "$R")" "require dane"
check_eq "danepold: a probe line per destination (cached for probe_interval)" \
	"$(grep -F '"event":"probe"' "$AUDIT" | grep -cF '"destination":"pnotls.example"')" 1
R=$(ask 'event msg:delivery domain=pta.example host=mx.pta.example ip=127.0.0.15 port=25 id=1a-2b-3c data="250 ok" dane=yes cipher=TLS1.3:TLS_AES_256_GCM_SHA384:256')
check_eq "danepold: Exim msg:delivery event answered" "$R" ok
R=$(ask 'event dane:fail domain=pname.example host=mx.pname.example ip=127.0.0.14 port=25 id=1a-2b-3d data=validation-failure dane= cipher=')
check_eq "danepold: Exim dane:fail event answered" "$R" ok
ask 'event tls:cert domain=pta.example host=mx.pta.example ip=127.0.0.15 port=25 data=0' > /dev/null
e2e_danepold_stop bg
check_eq "danepold: clean stop" "$E2E_RC" 0
if command -v sqlite3 > /dev/null; then
	q() { sqlite3 "$DB" "$1" 2>&1; }
	check_eq "store: probe outcomes (pnotls failure, pee success)" \
		"$(q "select policy_domain||':'||success||':'||ifnull(result_type,'-') from outcomes where source=0 order by policy_domain")" \
		"$(printf 'pee.example:1:-\npnotls.example:0:starttls-not-supported')"
	check_eq "store: Exim outcomes (delivery success with DANE, dane:fail)" \
		"$(q "select policy_domain||':'||success||':'||have_policy||':'||ifnull(result_type,'-')||':'||receiving_ip from outcomes where source=2 order by policy_domain")" \
		"$(printf 'pname.example:0:1:validation-failure:127.0.0.14\npta.example:1:1:-:127.0.0.15')"
	check_eq "store: probe outcome carries the policy strings and EHLO name" \
		"$(q "select policy_strings like '[\"3 1 1 %' and mx_helo='mx.receiver.test' from outcomes where source=0 and policy_domain='pee.example'")" 1
fi

finish
