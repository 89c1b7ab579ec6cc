#!/usr/bin/env bash
# tests/danepol/selfcheck.sh - the operator's own DANE: `danepol selfcheck`
# (own/selfcheck*.c), `danepol rollover` (own/rollover.c, store/seen.c)
# and danepold's selfcheck_interval, against real receiving servers and the
# signed offline world's own*.example domains (tests/world/README.md).
#
# Environment (make check): WORLD_DIR, FAULTDNS, DANEPOL, DANEPOLD; tlsserv
# next to DANEPOL.
#
# Re-executes itself under `unshare -mn` (tests/e2e/lib_delivery.sh). In
# the namespace, one receiving Postfix instance (inet_protocols = all):
#   127.0.0.21:25 and [::1]:25  ee-chain.crt   ownok (3 1 1 EE + 2 1 1 CA),
#                                              ownnext, ownsig, ownnotlsa mx1
#   127.0.0.22:25               ee-chain.crt   ownbad (3 1 1 of ss.crt), ownnotlsa mx2
#   127.0.0.23:25               probe.crt alone ownta (2 1 1 CA: TA not sent)
#   127.0.0.17:25               expired chain  pexpee (3 1 1 of an expired leaf)
# and tests/danepol/tlsserv on 127.0.0.19 stapling an OCSP response whose
# responder certificate expires before its nextUpdate (pocsp.example).
# The rollover history's clock is moved with faketime.
# Ends with "N passed, M failed"; exit 0/1, 77 when it cannot run.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/danepol/lib_ns.sh
. "$HERE/lib_ns.sh"

# ---------------------------------------------------------------- prerequisites
dn_need openssl faketime ip python3 curl
if [ -z "${WORLD_DIR:-}" ] || [ ! -f "$WORLD_DIR/pki/next.key" ]; then
	echo "SKIP: WORLD_DIR unset or without the own-domain PKI (run through make check)"
	exit 77
fi
dn_built "$DANEPOL" "$DANEPOLD" "$TLSSERV"

# ---------------------------------------------------------------- set-up
dl_init selfcheck || { not_ok "temporary directory"; finish; }
step "namespace: lo up, 127.0.0.17, .19, .21-.23" dl_net_up 17 19 21 22 23
step "namespace: ::1 on lo" eval "ip -6 addr show dev lo | grep -q '::1/128'"
step "offline world and fault responder" e2e_world

step "the world's PKI in the test directory" dl_pki

E2E_SINK_PORT=9
e2e_postfix_init "myhostname = mx.receiver.test" "inet_protocols = all" \
	"inet_interfaces = 127.0.0.21, [::1], 127.0.0.22, 127.0.0.23, 127.0.0.17" \
	"smtpd_tls_security_level = may" \
	"smtpd_tls_chain_files = $PKI/ee.key, $PKI/ee-chain.crt" \
	"relay_domains =" "smtpd_relay_restrictions = reject"
listener() {	# ADDR [KEY CERT]
	printf '%s:25 inet n - n - - smtpd\n' "$1"
	[ -n "${2:-}" ] && printf '  -o smtpd_tls_chain_files=%s,%s\n' "$2" "$3"
	return 0
}
{
	listener 127.0.0.21
	listener '[::1]'
	listener 127.0.0.22
	listener 127.0.0.23 "$PKI/probe.key" "$PKI/probe.crt"
	listener 127.0.0.17 "$PKI/expired.key" "$PKI/expired-chain.crt"
} >> "$E2E_PF_DIR/master.cf"
step "receiving Postfix on 127.0.0.21 [::1] .22 .23 .17, port 25" e2e_postfix_start
# shellcheck disable=SC2317  # called through e2e_wait
listening() { python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], 25), 1).close()' "$1" 2> /dev/null; }
for a in 127.0.0.21 ::1 127.0.0.22 127.0.0.23 127.0.0.17; do
	e2e_wait 10000 listening "$a" || { not_ok "smtpd listens on $a:25"; finish; }
done

# shellcheck source=tests/danepol/lib_ocsp.sh
. "$TOP/tests/danepol/lib_ocsp.sh"
step "OCSP responses (openssl ocsp)" make_ocsp
step "tlsserv stapling an OCSP response of an early-expiring responder" tlsserv early -o "$O/early.der"

CONF=$E2E_T/danepol.conf
DB=$E2E_T/outcomes.db
{
	echo "trust_anchor = $E2E_TRUST_ANCHOR"
	echo "resolver_config = $E2E_RESOLVER_CONF"
	echo "probe_step_timeout = 2s"
	echo "probe_helo = selfcheck.test"
	echo "outcome_db = $DB"
} > "$CONF"

# ---------------------------------------------------------------- helpers
declare -A OUT RC
sc() {	# NAME ARGS...: danepol selfcheck -c CONF ARGS, keep stdout and status
	local name=$1
	shift
	OUT[$name]=$("$DANEPOL" selfcheck -c "$CONF" "$@" 2> "$E2E_T/sc-$name.err")
	RC[$name]=$?
}
has() {	# NAME REGEX: a line of OUT[NAME] matches
	grep -qE -- "$2" <<< "${OUT[$1]}"
}
check_has() {	# LABEL NAME REGEX
	if has "$2" "$3"; then ok "$1"; else not_ok "$1" "no line /$3/ in: ${OUT[$2]}"; fi
}
check_not() {	# LABEL NAME REGEX
	if has "$2" "$3"; then not_ok "$1" "unexpected /$3/ in: ${OUT[$2]}"; else ok "$1"; fi
}

# ---------------------------------------------------------------- healthy
sc ok --no-cert-files ownok.example
check_eq "ownok: exit 0 (OK)" "${RC[ok]}" 0
check_has "ownok: plugin state line with perfdata" ok \
	"^DANE SELFCHECK OK - 1 domain: 0 critical, 0 warning, 0 unknown \| 'ownok.example dane_hosts'=1 .*'ownok.example addresses_ok'=2 'ownok.example addresses'=2 .*'ownok.example tlsa_ttl'=3600s"
check_has "ownok: IPv4 address authenticated (3 1 1 at depth 0)" ok \
	'^OK ownok.example dane-ok mx1.ownok.example\[127.0.0.21\]:25: DANE authenticated \(TLSv1\.[23]\): matched 3 1 1 '
check_has "ownok: IPv6 address authenticated" ok '^OK ownok.example dane-ok mx1.ownok.example\[::1\]:25: '
check_not "ownok: nothing above OK" ok '^(WARNING|CRITICAL|UNKNOWN) '

sc okjson --json --no-cert-files ownok.example
check_eq "ownok --json: exit 0" "${RC[okjson]}" 0
check "ownok --json: valid against doc/selfcheck.schema.json" python3 -c '
import json, sys, jsonschema
s = json.load(open(sys.argv[1])); d = json.loads(sys.argv[2])
jsonschema.validate(d, s)
r = d["domains"][0]
assert d["state"] == "OK" and d["exit"] == 0 and r["addresses_ok"] == 2 and r["tlsa_ttl"] == 3600, d
assert r["rrsig_expires"] and r["cert_expires"], r' "$TOP/doc/selfcheck.schema.json" "${OUT[okjson]}"

PROM=$E2E_T/prom/danepol.prom
mkdir -p "$E2E_T/prom"
sc prom --no-cert-files --prometheus "$PROM" ownok.example ownbad.example
check "Prometheus textfile: state per domain" grep -qx 'danepol_selfcheck_state{domain="ownok.example"} 0' "$PROM"
check "Prometheus textfile: ownbad critical" grep -qx 'danepol_selfcheck_state{domain="ownbad.example"} 2' "$PROM"
check "Prometheus textfile: no temporary file left" test "$(find "$E2E_T/prom" -type f | wc -l)" -eq 1

# ---------------------------------------------------------------- broken
sc bad --no-cert-files ownbad.example
check_eq "ownbad: exit 2 (CRITICAL)" "${RC[bad]}" 2
check_has "ownbad: dane-mismatch at the address, with what to do" bad \
	'^CRITICAL ownbad.example dane-mismatch mx1.ownbad.example\[127.0.0.22\]:25: DANE authentication failed: .* -> publish the record of the key the server uses'

sc ta --no-cert-files ownta.example
check_eq "ownta: exit 2" "${RC[ta]}" 2
check_has "ownta: the DANE-TA's CA is not in the served chain" ta \
	'^CRITICAL ownta.example ta-not-in-chain mx1.ownta.example\[127.0.0.23\]:25: .*-> configure the MTA to send the issuing CA'

sc notlsa --no-cert-files ownnotlsa.example
check_eq "ownnotlsa: exit 2" "${RC[notlsa]}" 2
check_has "ownnotlsa: mx2 has no TLSA" notlsa '^CRITICAL ownnotlsa.example tlsa-missing mx2.ownnotlsa.example: .*-> publish TLSA records for the host'
check_has "ownnotlsa: mx1 still authenticates" notlsa '^OK ownnotlsa.example dane-ok mx1.ownnotlsa.example\[127.0.0.21\]:25'

sc sig --no-cert-files ownsig.example
check_eq "ownsig: RRSIGs expire in < 2 days: exit 2" "${RC[sig]}" 2
check_has "ownsig: rrsig-expiring CRITICAL over the MX RRset" sig '^CRITICAL ownsig.example rrsig-expiring ownsig.example: the RRSIG over ownsig.example MX expires '
echo "selfcheck_sig_crit_days = 1" > "$E2E_T/sig1.conf"
cat "$CONF" >> "$E2E_T/sig1.conf"
OUT[sig1]=$("$DANEPOL" selfcheck -c "$E2E_T/sig1.conf" --no-cert-files ownsig.example 2> /dev/null)
RC[sig1]=$?
check_eq "ownsig, critical window 1 day: exit 1 (WARNING)" "${RC[sig1]}" 1
check_has "ownsig: rrsig-expiring WARNING" sig1 '^WARNING ownsig.example rrsig-expiring '

sc exp --no-cert-files pexpee.example
check_eq "pexpee (expired leaf, DANE-EE): exit 2" "${RC[exp]}" 2
check_has "pexpee: DANE-EE still authenticates" exp '^OK pexpee.example dane-ok '
check_has "pexpee: cert-expired, PKIX senders fail" exp '^CRITICAL pexpee.example cert-expired mx.pexpee.example\[127.0.0.17\]:25: the served certificate expired 2020-02-01'

sc ocsp --no-cert-files --port "${TS_PORT[early]}" pocsp.example
check_eq "pocsp (responder expires before nextUpdate): exit 1" "${RC[ocsp]}" 1
check_has "pocsp: ocsp-signer-expires WARNING" ocsp '^WARNING pocsp.example ocsp-signer-expires mx.pocsp.example\[127.0.0.19\]:[0-9]+: OCSP staple responder-expires'

# ---------------------------------------------------------------- files
sc fok --cert "$PKI/ee-chain.crt" --no-probe ownok.example
check_eq "ownok, ee-chain.crt: exit 0" "${RC[fok]}" 0
check_has "ownok: the file matches before deployment" fok "^OK ownok.example cert-file-ok $PKI/ee-chain.crt for mx1.ownok.example: matches the published 3 1 1 "
sc fbad --cert "$PKI/next.crt" --no-probe ownok.example
check_eq "ownok, next.crt not yet published: exit 2" "${RC[fbad]}" 2
check_has "ownok: cert-file-mismatch says publish first" fbad \
	"^CRITICAL ownok.example cert-file-mismatch $PKI/next.crt for mx1.ownok.example: does not match .* -> publish the file's record first"
sc fnext --cert "$PKI/next.crt" --no-probe ownnext.example
check_eq "ownnext (next key published), next.crt: exit 0" "${RC[fnext]}" 0
sc fta --cert "$PKI/probe.crt" --no-probe ownta.example
check_has "ownta, probe.crt alone: cert-file-ta-missing" fta "^CRITICAL ownta.example cert-file-ta-missing $PKI/probe.crt "
sc ftaok --cert "$PKI/probe-chain.crt" --no-probe ownta.example
check_eq "ownta, probe-chain.crt (CA included): exit 0" "${RC[ftaok]}" 0
sc pconf --postfix-config "$E2E_PF_DIR" --no-probe ownok.example
check_has "postconf: smtpd_tls_chain_files of the Postfix instance checked" pconf "^OK ownok.example cert-file-ok $PKI/ee-chain.crt "
# Debian's main.cf names the snakeoil certificate in smtpd_tls_cert_file;
# an operator adds smtpd_tls_chain_files, which takes precedence in smtpd.
mkdir -p "$E2E_T/pfdeb" "$E2E_T/pflegacy"
{ cat "$E2E_PF_DIR/main.cf"; echo "smtpd_tls_cert_file = $PKI/ss.crt"; echo "smtpd_tls_key_file = $PKI/ss.key"; } |
	e2e_maincf > "$E2E_T/pfdeb/main.cf"
sc pdeb --postfix-config "$E2E_T/pfdeb" --no-probe ownok.example
check_eq "postconf: chain_files set, the legacy snakeoil cert_file is not served, not checked" "${RC[pdeb]}" 0
check_not "... no finding about the legacy file" pdeb "ss\.crt"
grep -v '^smtpd_tls_chain_files' "$E2E_T/pfdeb/main.cf" > "$E2E_T/pflegacy/main.cf"
sc plegacy --postfix-config "$E2E_T/pflegacy" --no-probe ownok.example
check_has "postconf: without chain_files, the legacy cert_file is checked" plegacy "^CRITICAL ownok.example cert-file-mismatch $PKI/ss.crt "

# ---------------------------------------------------------------- hostile input
printf 'garbage\n-----BEGIN CERTIFICATE-----\nnot base64\n' > "$E2E_T/garbage.pem"
head -c 10485760 /dev/urandom > "$E2E_T/big.pem"
: > "$E2E_T/empty.pem"
for f in garbage big empty; do
	sc "h$f" --cert "$E2E_T/$f.pem" --no-probe ownok.example
	check_eq "--cert $f.pem: exit 3 (UNKNOWN), no crash" "${RC[h$f]}" 3
	check_has "--cert $f.pem: cert-file-unreadable names the file" "h$f" "^UNKNOWN ownok.example cert-file-unreadable $E2E_T/$f.pem: "
done
sc inval --no-cert-files 'bad..name'
check_eq "invalid domain: exit 3" "${RC[inval]}" 3
OUT[none]=$("$DANEPOL" selfcheck -c "$CONF" 2>&1)
check_eq "no domain and no selfcheck_domains: exit 3" "$?" 3
check_has "no domain: says what is missing" none 'selfcheck_domains is not set'
"$DANEPOL" selfcheck --bogus-option > /dev/null 2>&1
check_eq "bad option: exit 3 (UNKNOWN, not OK)" "$?" 3

# ---------------------------------------------------------------- rollover
# moved WHEN CMD...: CMD with the clock at WHEN (libfaketime preloaded).
# An ASan build refuses to start when its runtime is not the first
# library loaded; verify_asan_link_order=0 lets it run after libfaketime.
moved() {
	local when=$1
	shift
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 faketime -f "$when" "$@"
}
ro() {	# NAME FAKETIME ARGS...: danepol rollover at a moved clock
	local name=$1 when=$2
	shift 2
	OUT[$name]=$(moved "$when" "$DANEPOL" rollover -c "$CONF" "$@" 2> "$E2E_T/ro-$name.err")
	RC[$name]=$?
}
T0=$(date -u +%s)
at() { date -u -d "@$((T0 + $1))" '+@%Y-%m-%d %H:%M:%S'; }
rm -f "$DB"
ro r0 "$(at 0)" check --next-key "$PKI/next.key" ownnext.example
check_eq "rollover check, first sight: exit 1 (wait)" "${RC[r0]}" 1
check_has "rollover: WAIT line" r0 '^DANE ROLLOVER WAIT - ownnext.example: 0 ready, 1 waiting, 0 missing'
check_has "rollover: says when it will be ready (2 x 3600 s)" r0 "next-key-too-recent _25._tcp.mx1.ownnext.example.: 3 1 1 .* ready at $(date -u -d "@$((T0 + 7200))" '+%Y-%m-%d %H:%M')"
ro r1 "$(at 3600)" check --next-key "$PKI/next.key" ownnext.example
check_eq "rollover check after 1 h: still wait" "${RC[r1]}" 1
ro r2 "$(at 7260)" check --next-key "$PKI/next.key" ownnext.example
check_eq "rollover check after 2 h 1 min (no gap > 2 TTLs): exit 0 (go)" "${RC[r2]}" 0
check_has "rollover: GO line" r2 '^DANE ROLLOVER GO - ownnext.example: 1 ready'
ro r3 "$(at 7260)" check --next-cert "$PKI/next.crt" ownnext.example
check_eq "rollover check --next-cert: go as well" "${RC[r3]}" 0
ro rgap "$(at 30000)" check --next-key "$PKI/next.key" ownnext.example
check_eq "rollover check after a 6 h gap without a look: history restarts, wait" "${RC[rgap]}" 1
ro rmiss "$(at 30000)" check --next-key "$PKI/next.key" ownok.example
check_eq "rollover check, next key not published: exit 2 (no)" "${RC[rmiss]}" 2
check_has "rollover: next-key-missing says publish" rmiss '^CRITICAL ownok.example next-key-missing _25._tcp.mx1.ownok.example.: .*-> publish the next key'
ro rbad "$(at 30000)" check --next-key "$E2E_T/garbage.pem" ownnext.example
check_eq "rollover check, garbage key file: exit 3" "${RC[rbad]}" 3
ro rnone "$(at 30000)" check ownnext.example
check_eq "rollover check without a next key: exit 3 (usage)" "${RC[rnone]}" 3

# selfcheck runs build the same history (the timer's job)
rm -f "$DB"
for h in 0 3600; do
	moved "$(at $((40000 + h)))" "$DANEPOL" selfcheck -c "$CONF" --no-cert-files --no-probe ownnext.example > /dev/null 2>&1
done
ro rsc "$(at 47300)" check --next-key "$PKI/next.key" ownnext.example
check_eq "history built by two hourly selfcheck runs: rollover check says go" "${RC[rsc]}" 0

ro plan "$(at 47300)" plan --next-key "$PKI/next.key" ownnext.example
check_eq "rollover plan: exit 0" "${RC[plan]}" 0
EE=$(cat "$WORLD_DIR/pki/ee.spki") NEXT=$(cat "$WORLD_DIR/pki/next.spki")
check_has "plan: the served key is kept" plan "^_25._tcp.mx1.ownnext.example. 3600 IN TLSA 3 1 1 ${EE^^} ; keep: the key served now"
check_has "plan: the next key is ready" plan "^_25._tcp.mx1.ownnext.example. 3600 IN TLSA 3 1 1 ${NEXT^^} ; next key: ready"
ro plan2 "$(at 47300)" plan --next-key "$PKI/next.key" ownok.example
check_has "plan: a missing next key is to be published" plan2 "^_25._tcp.mx1.ownok.example. 3600 IN TLSA 3 1 1 ${NEXT^^} ; publish now: the next key"

# ---------------------------------------------------------------- README
# The worked example of README.md ("Watch your own MX") is this world's
# real output: each block after "<!-- snippet: output NAME -->" holds
# "$ danepol ..." lines and the output of the runs below. Compared after
# readme_norm: the world's keys, dates and expiry counts differ per build,
# and README names the files as an operator has them.
readme_norm() {
	sed -E -e "s|$PKI/ee-chain.crt|/etc/postfix/chain.pem|g; s|$PKI/next.key|/etc/postfix/next-key.pem|g" \
		-e 's/[0-9A-F]{64}/HEX/g; s/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(:[0-9]{2})?/DATE/g' \
		-e "s/(_days'=)[0-9]+/\1N/g; s/in [0-9]+ days/in N days/g; s/\(TLSv1\.[23]\)/(TLSv1.x)/g"
}
readme_check() {	# NAME RUN...: README's output block NAME is the output of the runs
	local name=$1 want got r
	shift
	want=$(doc_snippet "$TOP/README.md" "output $name" | grep -v '^\$ ' | readme_norm)
	got=$(for r in "$@"; do printf '%s\n' "${OUT[$r]}"; done | readme_norm)
	if [ -n "$want" ] && [ "$want" = "$got" ]; then ok "README example '$name' is real output"; return; fi
	# the raw output, to mend README from (kept with E2E_KEEP=1)
	for r in "$@"; do printf '%s\n' "${OUT[$r]}"; done > "$E2E_T/readme-$name.out"
	not_ok "README example '$name' is real output" \
		"$(diff <(echo "$want") <(echo "$got") | head -30; echo "raw output: $E2E_T/readme-$name.out")"
}
# shellcheck source=tests/lib/doc_snippet.sh
. "$TOP/tests/lib/doc_snippet.sh"
sc rdok --cert "$PKI/ee-chain.crt" ownok.example
sc rdbad --cert "$PKI/ee-chain.crt" ownbad.example
readme_check selfcheck-ok rdok
readme_check selfcheck-bad rdbad
readme_check rollover r0 r2
readme_check rollover-plan plan

# ---------------------------------------------------------------- danepold
MPORT=$(e2e_free_port)
AUDIT=$E2E_T/danepold/audit.jsonl
DCONF=$E2E_T/danepold.conf
{
	grep -v '^outcome_db' "$CONF"
	echo "outcome_db = $E2E_T/danepold/outcomes.db"
	echo "milter_socket = none"
	echo "exim_socket = inet:$(e2e_free_port)@127.0.0.1"
	echo "metrics_socket = inet:$MPORT@127.0.0.1"
	echo "pid_file = none"
	echo "user = ${E2E_USER:-nobody}"
	echo "audit_log = $AUDIT"
	echo "selfcheck_domains = ownok.example, ownbad.example"
	echo "selfcheck_interval = 3600s"
	echo "selfcheck_cert_files = $PKI/ee-chain.crt"
} > "$DCONF"
mkdir -p "$E2E_T/danepold" && chown "${E2E_USER:-nobody}" "$E2E_T/danepold"
"$DANEPOLD" -f -c "$DCONF" > "$E2E_T/danepold.out" 2>&1 &
E2E_PIDS+=("$!")
# shellcheck disable=SC2317  # called through e2e_wait
selfchecked() { grep -q '"event":"selfcheck"' "$AUDIT" 2> /dev/null; }
if e2e_wait 30000 selfchecked; then ok "danepold: a selfcheck audit line after start"
else not_ok "danepold: a selfcheck audit line after start" "$(tail -5 "$E2E_T/danepold.out")"; fi
check "danepold: every audit line is valid (doc/audit.schema.json)" \
	python3 "$TOP/tests/e2e/validate_audit.py" schema "$TOP/doc" "$AUDIT"
check "danepold: the selfcheck line has ownok OK and ownbad CRITICAL" python3 -c '
import json, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] == "selfcheck":
        st = {d["domain"]: d["state"] for d in ev["result"]["domains"]}
        assert st == {"ownok.example": "OK", "ownbad.example": "CRITICAL"}, st
        break
else:
    sys.exit("no selfcheck line")' "$AUDIT"
METRICS=$(curl -s "http://127.0.0.1:$MPORT/metrics")
check "danepold /metrics: ownok OK" grep -qx 'danepol_selfcheck_state{domain="ownok.example"} 0' <<< "$METRICS"
check "danepold /metrics: ownbad CRITICAL" grep -qx 'danepol_selfcheck_state{domain="ownbad.example"} 2' <<< "$METRICS"
check "danepold mail log: ownbad named with what to run" grep -q 'selfcheck ownbad.example: CRITICAL, 2 critical.*danepol selfcheck ownbad.example says what to do' "$E2E_T/danepold.out"

finish
