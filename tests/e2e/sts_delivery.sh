#!/usr/bin/env bash
# tests/e2e/sts_delivery.sh - MTA-STS through a real Postfix, and the TLS
# reports of what it did.
#
# Inside `unshare -mn` (tests/e2e/lib_sts.sh): the offline world behind a
# validating unbound, the policy hosts (tests/unit/sts/policy_server.py on
# 127.0.0.1:443), danepold with sts = yes serving the socketmap, a
# receiving Postfix on 127.0.0.1:25 with the world's EE chain (it names
# mx1.stsok.example, not mx1.stsnocert.example), and a sending Postfix
# whose smtp_tls_policy_maps is danepold's socketmap as doc/postfix.md
# says, trusting the world's CA (smtp_tls_CAfile). Asserted from the
# sending Postfix's own log:
#   stsok.example      enforce, the MX names match: sent, Verified TLS
#   stsnocert.example  enforce, the MX certificate does not name the MX
#                      host: deferred 4.7.5, never sent (not in cleartext)
#   stsmismatch.example enforce, no MX host matches: deferred 4.7.5 by
#                      the policy lookup, no connection at all
#   stscrlf.example    testing: sent with opportunistic TLS
#   insecure.example   no policy: sent
# Then `danepol report --ingest-postfix --dry-run` reads that log: the
# reports carry sts policies (the policy's lines, mx-host) with the
# sessions' results (stsnocert's a failure), insecure.example's a
# no-policy-found one, every report valid against doc/tlsrpt.schema.json.
# Ends with "N passed, M failed"; 77 when it cannot run.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
# shellcheck source=tests/e2e/lib_delivery.sh
. "$HERE/lib_delivery.sh"
dl_begin --world pki/sts.crt swaks unbound drill python3 mount || exit $?
# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

# ---------------------------------------------------------------- set-up
dl_init stsdelivery || { not_ok "temporary directory"; finish; }
# shellcheck source=tests/e2e/lib_sts.sh
. "$HERE/lib_sts.sh"
sts_env_up
dl_receiver_up
SM=$E2E_T/d-sts/socketmap.sock
D=$E2E_T/d-sts
sts_danepold sts "$SM" "decision_timeout = 10s" "outcome_db = $D/outcomes.db"
dl_postfix_init snd 127.0.0.8 "smtp_tls_security_level = dane" \
	"smtp_tls_policy_maps = socketmap:unix:$SM:tlspolicy" "smtp_tls_CAfile = $PKI/ca.crt"
step "sending Postfix with danepold's socketmap" dl_postfix_start snd
LOG=$E2E_T/pf-snd/maillog

# ---------------------------------------------------------------- deliveries
RCPTS=(a@stsok.example b@stsnocert.example c@stsmismatch.example d@stscrlf.example e@insecure.example)
to=$(IFS=,; echo "${RCPTS[*]}")
swaks --server 127.0.0.8:25 --helo client.sender.test --from s@sender.test --to "$to" \
	--timeout 30 > "$E2E_T/swaks" 2>&1 || not_ok "submitted" "$(tail -5 "$E2E_T/swaks")"
check_match "stsok.example (enforce, names match): sent" "$(dl_outcome "$LOG" a@stsok.example)" \
	'^sent 2\.0\.0 mx1\.stsok\.example\[127\.0\.0\.1\]:25$'
check_eq "... over Verified TLS" "$(dl_tls "$LOG" 'mx1.stsok.example[127.0.0.1]:25')" Verified
check_match "stsnocert.example (enforce, the certificate names another host): deferred 4.7.5" \
	"$(dl_outcome "$LOG" b@stsnocert.example)" '^deferred 4\.7\.5 mx1\.stsnocert\.example'
check_eq "... because the server certificate was not verified" \
	"$(dl_reason "$LOG" b@stsnocert.example)" "Server certificate not verified"
check "... and never sent" eval "! grep -F ' to=<b@stsnocert.example>,' '$LOG' | grep -q status=sent"
check_match "stsmismatch.example (no MX host matches): deferred 4.7.5, no connection" \
	"$(dl_outcome "$LOG" c@stsmismatch.example)" '^deferred 4\.7\.5 none$'
check_match "stscrlf.example (testing): sent" "$(dl_outcome "$LOG" d@stscrlf.example)" '^sent 2\.0\.0 '
check_match "insecure.example (no policy): sent" "$(dl_outcome "$LOG" e@insecure.example)" '^sent 2\.0\.0 '
sink_has3() { [ "$(e2e_sink_recipients | grep -cE '^(a@stsok|d@stscrlf|e@insecure)\.example$')" -eq 3 ]; }
check "the receiver passed on stsok's, stscrlf's and insecure's mail" e2e_wait 30000 sink_has3
check "... and nothing of stsnocert or stsmismatch" eval '! e2e_sink_recipients | grep -qE "@sts(nocert|mismatch)\.example$"'

# ---------------------------------------------------------------- probes
# danepol probe verifies the MX hosts of an MTA-STS destination as RFC 8461
# section 4.2 says (PKIX, the certificate naming the MX host).
RC=0
"$DANEPOL" -c "$D/danepol.conf" probe --json stsok.example stsnocert.example \
	> "$E2E_T/probe.json" 2> "$E2E_T/probe.err" || RC=$?
check_eq "danepol probe: exit 1 (an RFC 8460 failure)" "$RC" 1
py_results <(python3 - "$E2E_T/probe.json" "$TOP_SRCDIR/doc/probe.schema.json" <<'PY' 2>&1
import json, sys
import jsonschema
schema = json.load(open(sys.argv[2]))
def res(ok, what): print(("PASS " if ok else "FAIL ") + what)
by = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    jsonschema.validate(r, schema)
    by[r["domain"]] = [a for a in r["results"] if a["address"] == "127.0.0.1"]
ok, nc = by.get("stsok.example", []), by.get("stsnocert.example", [])
res(len(ok) == 1 and ok[0]["sts"] and ok[0]["authenticated"] and ok[0]["success"],
    "stsok.example's MX: an MTA-STS host, verified: %s" % ok)
res(len(nc) == 1 and nc[0]["sts"] and not nc[0]["success"] and
    nc[0]["result_type"] == "certificate-host-mismatch",
    "stsnocert.example's MX: certificate-host-mismatch: %s" % nc)
PY
) "probe: "

# ---------------------------------------------------------------- reports
REP=$E2E_T/reports
{ cat "$D/danepol.conf"; printf '%s\n' "postfix_log = $LOG" "report_org_name = danepol sts e2e" \
	"report_contact = tlsrpt@sender.test" "report_dir = $REP"; } > "$E2E_T/report.conf"
"$DANEPOL" -c "$E2E_T/report.conf" report --ingest-postfix --dry-run --date "$(date -u +%F)" \
	> "$E2E_T/report.out" 2>&1
check_match "danepol report --ingest-postfix --dry-run: reports written" \
	"$(cat "$E2E_T/report.out")" '[0-9]+ written'
py_results <(python3 - "$TOP_SRCDIR" "$REP" <<'PY' 2>&1
import sys
sys.path.insert(0, sys.argv[1] + "/tests/lib")
from tlsrpt_files import load, res, policies as pol_of
reps = load(sys.argv[2], sys.argv[1] + "/doc/tlsrpt.schema.json")
def pols(d, t):
    return pol_of(reps, d, t)
def summary(p):
    return (p["summary"]["total-successful-session-count"], p["summary"]["total-failure-session-count"])
ok = pols("stsok.example", "sts")
res(len(ok) == 1 and summary(ok[0]) == (1, 0) and
    ok[0]["policy"].get("policy-string", [])[:2] == ["version: STSv1", "mode: enforce"] and
    ok[0]["policy"].get("mx-host") == ["mx1.stsok.example", "*.stsok.example"],
    "stsok.example: an sts policy (its lines, mx-host), 1 successful session: %s" % ok)
nc = pols("stsnocert.example", "sts")
rows = nc[0].get("failure-details", []) if nc else []
res(len(nc) == 1 and summary(nc[0]) == (0, 1) and len(rows) == 1 and
    rows[0]["result-type"] == "certificate-host-mismatch" and
    rows[0].get("failure-reason-code") == "X509_V_ERR_HOSTNAME_MISMATCH" and
    rows[0].get("receiving-mx-hostname") == "mx1.stsnocert.example",
    "stsnocert.example: the failed session under its sts policy: %s" % nc)
t = pols("stscrlf.example", "sts")
res(len(t) == 1 and "mode: testing" in t[0]["policy"].get("policy-string", []),
    "stscrlf.example: its testing policy: %s" % t)
res(pols("insecure.example", "sts") == [] and len(pols("insecure.example", "no-policy-found")) == 1,
    "insecure.example: no-policy-found only")
res(not any(pols(d, "tlsa") for d in ("stsok.example", "stsnocert.example", "stscrlf.example")),
    "no STS session counted as DANE")
PY
) "report: "
finish
