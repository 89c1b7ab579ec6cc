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
step "namespace: lo up" dl_net_up
step "namespace: /etc/resolv.conf -> 127.0.0.1, trust-ad" dl_resolv
step "offline world and fault responder" e2e_world
step "unbound on 127.0.0.1:53 validates the world" dl_unbound_start
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
finish
