#!/usr/bin/env bash
# tests/e2e/socketmap_attrs.sh - what the Postfix the tests run (Debian 12:
# 3.7) does with a TLS policy carrying an attribute it does not know, such
# as the TLSRPT attributes of Postfix 3.10 (policy_type, policy_domain):
# the delivery is deferred, 4.7.5 "client TLS configuration problem", with
# "invalid attribute name" in the log. doc/postfix.md relies on this: a
# front door must never add those attributes for a Postfix before 3.10.
# When this test fails, Postfix changed: re-read doc/postfix.md ("TLSRPT
# attributes").
#
# A sending Postfix instance with smtp_tls_policy_maps = inline:{...}
# (one destination with the extra attributes, one without) delivers to
# the receiving instance in a private namespace (tests/e2e/lib_delivery.sh).
# A second one asks danepold's socketmap with socketmap_tlsrpt = yes
# (danepol.conf(5)) in the MTA-STS world (tests/e2e/lib_sts.sh): the
# MTA-STS destinations it answers with the attributes (stsok.example,
# enforce: policy_type=sts; insecure.example, no policy:
# policy_type=no-policy-found) are deferred the same way, while a DANE
# destination (secure.example, plain "OK dane-only") is delivered - the
# warning of doc/postfix.md, shown.
# Ends with "N passed, M failed"; 77 when it cannot run.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
# shellcheck source=tests/e2e/lib_delivery.sh
. "$HERE/lib_delivery.sh"
dl_begin swaks unbound drill ip mount || exit $?
# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

dl_init attrs || { not_ok "temporary directory"; finish; }
# shellcheck source=tests/e2e/lib_sts.sh
. "$HERE/lib_sts.sh"
sts_env_up
dl_receiver_up
dl_postfix_init snd 127.0.0.8 "smtp_tls_security_level = may" \
	"smtp_tls_policy_maps = inline:{{secure.example = may policy_type=sts policy_domain=secure.example}, {insecure.example = may}}"
step "sending Postfix with a policy map" dl_postfix_start snd
LOG=$E2E_T/pf-snd/maillog
check_eq "Postfix is 3.7 (Debian 12), the version this fact is about" \
	"$(postconf -dh mail_version | cut -d. -f1-2)" 3.7
swaks --server 127.0.0.8:25 --helo client.sender.test --from a@sender.test \
	--to x@secure.example,y@insecure.example --timeout 30 > "$E2E_T/swaks" 2>&1
check_match "the policy with unknown attributes: deferred 4.7.5" "$(dl_outcome "$LOG" x@secure.example)" '^deferred 4\.7\.5 '
check_eq "... as a client TLS configuration problem" "$(dl_reason "$LOG" x@secure.example)" "client TLS configuration problem"
check "... with 'invalid attribute name' in the log" grep -q 'invalid attribute name: "policy_type"' "$LOG"
check_match "the same map's plain entry: delivered" "$(dl_outcome "$LOG" y@insecure.example)" '^sent 2\.0\.0 '

# danepold's socketmap with socketmap_tlsrpt = yes behind the same Postfix 3.7
SM=$E2E_T/d-tlsrpt/socketmap.sock
sts_danepold tlsrpt "$SM" "socketmap_tlsrpt = yes"
dl_postfix_init rpt 127.0.0.9 "smtp_tls_security_level = dane" "smtp_dns_support_level = dnssec" \
	"smtp_tls_policy_maps = socketmap:unix:$SM:tlspolicy"
step "sending Postfix asking danepold's socketmap" dl_postfix_start rpt
RLOG=$E2E_T/pf-rpt/maillog
swaks --server 127.0.0.9:25 --helo client.sender.test --from a@sender.test \
	--to e@stsok.example,n@insecure.example,d@secure.example --timeout 30 > "$E2E_T/swaks-rpt" 2>&1
# the replies Postfix got (danepold's audit log)
reply() {
	python3 -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "socketmap" and e.get("key") == sys.argv[2]:
        print(e["reply"]); break' "$E2E_T/d-tlsrpt/audit.log" "$1"
}
check_match "stsok.example (enforce): secure with policy_type=sts and the policy lines" \
	"$(reply stsok.example)" '^OK secure match=.* servername=hostname policy_type=sts policy_domain=stsok\.example \{ policy_string = version: STSv1 \} .* mx_host_pattern='
check_match "... deferred 4.7.5 by Postfix 3.7" "$(dl_outcome "$RLOG" e@stsok.example)" '^deferred 4\.7\.5 '
check_eq "... as a client TLS configuration problem" "$(dl_reason "$RLOG" e@stsok.example)" "client TLS configuration problem"
check_eq "insecure.example (no MTA-STS policy): policy_type=no-policy-found" \
	"$(reply insecure.example)" "OK may policy_type=no-policy-found"
check_match "... deferred 4.7.5 by Postfix 3.7 too" "$(dl_outcome "$RLOG" n@insecure.example)" '^deferred 4\.7\.5 '
check "... both with 'invalid attribute name' in the log" eval \
	'grep -q "destination \"stsok.example\": invalid attribute name: \"policy_type\"" "$RLOG" &&
	grep -q "destination \"insecure.example\": invalid attribute name: \"policy_type\"" "$RLOG"'
check_eq "secure.example (DANE): no attributes" "$(reply secure.example)" "OK dane-only"
check_match "... delivered" "$(dl_outcome "$RLOG" d@secure.example)" '^sent 2\.0\.0 '
finish
