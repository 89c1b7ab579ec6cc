#!/usr/bin/env bash
# tests/danepol/sts.sh - MTA-STS (RFC 8461) end to end, offline: `danepol
# check` (text and --json, against doc/decision.schema.json) and
# danepold's socketmap for the world's STS domains (tests/world/README.md),
# their policies served over HTTPS on loopback by
# tests/unit/sts/policy_server.py with the world's certificates
# (sts_ca_file = the world's CA, sts_https_port = its port).
#
# Asserted per domain: verdict, level, reason, the MTA-STS part (policy,
# mode, patterns, fetch error, note), what the socketmap and the Exim
# socket answer, and the milter's RCPT reply (miltertest, sts_rcpt.lua):
# enforce -> require/secure ("OK secure match=... servername=hostname"),
# MX hosts the policy does not name unusable; a policy naming no MX host ->
# defer 450 4.7.5 sts-mx-mismatch; testing -> try sts-testing; mode none,
# an invalid policy, a certificate for another name, a TXT record with id
# before v, no TXT record -> DANE's decision unchanged with the reason
# noted; DANE (stsdane) and a bogus TXT record (stsbogustxt) -> MTA-STS
# never overrides DANE's decision, a bogus record is a lookup failure.
#
# Environment (make check): WORLD_DIR, FAULTDNS, DANEPOL, DANEPOLD,
# TOP_SRCDIR. Skipped (77) without the world or python3.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOL=${DANEPOL:-./danepol}
DANEPOLD=${DANEPOLD:-./danepold}
CLIENT=$TOP_SRCDIR/tests/danepold/maps_client.py

command -v python3 > /dev/null || { echo "SKIP: python3 not installed"; exit 77; }
# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
# shellcheck source=tests/danepold/lib.sh
. "$TOP_SRCDIR/tests/danepold/lib.sh"
dm_setup sts	# $T, the world ($WORLD) and its fault responder
[ -f "$WORLD/pki/sts.crt" ] || { echo "SKIP: the world has no STS certificates (make check rebuilds it)"; exit 77; }

# ---------------------------------------------------------------- policy hosts
python3 "$TOP_SRCDIR/tests/unit/sts/policy_server.py" 127.0.0.1 0 "$WORLD/pki" \
	> "$T/policy_server.out" 2> "$T/policy_server.log" &
PSPID=$!
trap 'kill "$PSPID" 2> /dev/null; dm_cleanup' EXIT
wait_for 10 grep -q '^READY ' "$T/policy_server.out" ||
	{ not_ok "policy_server.py starts" "$(cat "$T/policy_server.log")"; finish; }
PSPORT=$(awk '/^READY / { print $2 }' "$T/policy_server.out")
ok "policy hosts on 127.0.0.1:$PSPORT"

SM=$T/socketmap.sock EX=$T/exim.sock
MPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dm_conf "milter_socket = inet:$MPORT@127.0.0.1" "socketmap_socket = unix:$SM" "exim_socket = unix:$EX" \
	"audit_log = $T/audit.log" "outcome_db = $T/outcomes.db" "sts = yes" \
	"sts_ca_file = $WORLD/pki/ca.crt" "sts_https_port = $PSPORT" \
	"report_org_name = danepol sts test" "report_contact = tlsrpt@sender.test" \
	"report_dir = $T/reports" "metrics_socket = unix:$T/metrics.sock" > "$T/sts.conf"

# ---------------------------------------------------------------- danepol check --json
DOMAINS=(stsok stscrlf stsmismatch stsnone stsbad stsidfirst stswrongname stsdane stsbogustxt insecure secure)
args=()
for d in "${DOMAINS[@]}"; do args+=("$d.example"); done
args+=("[mx1.stsok.example]")
"$DANEPOL" -c "$T/sts.conf" check --json "${args[@]}" > "$T/check.json" 2> "$T/check.err"
check "danepol check --json: one line per destination" [ "$(wc -l < "$T/check.json")" -eq "${#args[@]}" ]
py_results <(python3 - "$T/check.json" "$TOP_SRCDIR/doc/decision.schema.json" <<'PY' 2>&1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
try:
    import jsonschema
    schema = json.load(open(sys.argv[2]))
except ImportError:
    schema = None
by = {d["domain"]: d for d in lines}
def out(ok, desc, detail=""):
    print(("PASS " if ok else "FAIL ") + desc + ("" if ok else ": " + detail))
if schema:
    for d in lines:
        try:
            jsonschema.validate(d, schema); out(True, d["domain"] + ": valid against decision.schema.json")
        except jsonschema.ValidationError as e:
            out(False, d["domain"] + ": valid against decision.schema.json", e.message)
def want(dom, verdict, level, reason, **sts):
    d = by.get(dom)
    if d is None:
        out(False, dom + ": decided", "no line"); return
    got = (d["verdict"], d["level"], d["reason"])
    out(got == (verdict, level, reason), "%s: %s/%s/%s" % (dom, verdict, level, reason), str(got))
    s = d["sts"]
    if sts.get("absent"):
        out(s is None, dom + ": MTA-STS not consulted", json.dumps(s)); return
    if s is None:
        out(False, dom + ": MTA-STS consulted", "sts is null"); return
    for k, v in sts.items():
        if k == "note_has":
            out(v in (s["note"] or ""), "%s: note has %r" % (dom, v), str(s["note"]))
        else:
            out(s.get(k) == v, "%s: sts.%s = %r" % (dom, k, v), repr(s.get(k)))
want("stsok.example", "require", "secure", "sts-enforce", policy=True, mode="enforce",
     mx=["mx1.stsok.example", "*.stsok.example"], policy_id="ok1", txt_id="ok1", fetch_error=None)
h = {x["name"]: x for x in by["stsok.example"]["hosts"]}
out(h.get("mx1.stsok.example", {}).get("state") == "opportunistic" and
    h.get("mx1.insecure.example", {}).get("reason") == "sts-mx-mismatch",
    "stsok.example: the MX host the policy does not name is unusable", json.dumps(list(h.values()))[:300])
want("stscrlf.example", "try", "may", "sts-testing", policy=True, mode="testing")
want("stsmismatch.example", "defer", "may", "sts-mx-mismatch", policy=True, mode="enforce",
     mx=["mail.elsewhere.example"])
r = by["stsmismatch.example"]["smtp_reply"] or ""
out(r.startswith("450 4.7.5 no MX host matches the MTA-STS policy"), "stsmismatch.example: 450 4.7.5 reply", r)
want("stsnone.example", "try", "may", "mx-insecure", policy=True, mode="none")
want("stsbad.example", "try", "may", "mx-insecure", policy=False, fetch_error="sts-policy-invalid",
     note_has='mode "enforced"')
want("stsidfirst.example", "try", "may", "mx-insecure", policy=False, txt_id=None, note_has="begins with")
want("stswrongname.example", "try", "may", "mx-insecure", policy=False, fetch_error="sts-webpki-invalid",
     note_has="certificate")
want("stsdane.example", "require", "dane", "dane", absent=True)
want("stsbogustxt.example", "try", "may", "no-tlsa", policy=False, txt_id=None, note_has="lookup failed (bogus")
want("insecure.example", "try", "may", "mx-insecure", policy=False, note_has="no _mta-sts TXT record")
want("secure.example", "require", "dane", "dane", absent=True)
want("mx1.stsok.example", "try", "may", "address-insecure", absent=True)
PY
) "check --json: "
check_match "danepol check: the MTA-STS line" "$("$DANEPOL" -c "$T/sts.conf" check stsok.example 2>&1)" \
	'MTA-STS: policy ok1, mode enforce, until [0-9-]+ [0-9:]+ UTC, mx: mx1.stsok.example \*.stsok.example'
check "the policy hosts were asked only over https, for the policy path" \
	grep -q '"GET /.well-known/mta-sts.txt HTTP/1.1" 200' "$T/policy_server.log"

# ---------------------------------------------------------------- danepold socketmap
"$DANEPOLD" -f -c "$T/sts.conf" > "$T/danepold.out" 2>&1 &
DPID=$!
wait_for 20 test -S "$SM" || { not_ok "danepold serves the socketmap" "$(tail -5 "$T/danepold.out")"; finish; }
sm() { python3 "$CLIENT" query "$SM" "$1"; }
check_eq "socketmap stsok.example: secure with the policy's names" "$(sm stsok.example)" \
	"OK secure match=mx1.stsok.example:.stsok.example servername=hostname"
check_match "socketmap stsmismatch.example: TEMP with the reason" "$(sm stsmismatch.example)" '^TEMP no MX host matches the MTA-STS policy \(stsmismatch.example: '
check_eq "socketmap stscrlf.example (testing): may" "$(sm stscrlf.example)" "OK may"
check_eq "socketmap stsdane.example: DANE wins" "$(sm stsdane.example)" "OK dane-only"
check_eq "socketmap stsbad.example (invalid policy): may" "$(sm stsbad.example)" "OK may"
check_eq "socketmap stswrongname.example (policy host's certificate for another name): may" \
	"$(sm stswrongname.example)" "OK may"
# ex LINE: one request on the Exim socket, half-closed as ${readsocket} does
ex() {
	python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n"); s.shutdown(socket.SHUT_WR)
b = b""
while True:
    d = s.recv(4096)
    if not d: break
    b += d
print(b.decode().strip())' "$EX" "$1"
}
check_eq "Exim door, stsok.example: require secure sts-enforce" "$(ex "rcpt a@stsok.example")" \
	"verdict=require level=secure reason=sts-enforce destination=stsok.example"
check_match "Exim door, stsmismatch.example: defer with the 450 4.7.5 reply the RCPT ACL sends" \
	"$(ex "rcpt a@stsmismatch.example")" \
	'^verdict=defer level=may reason=sts-mx-mismatch destination=stsmismatch.example reply="450 4\.7\.5 no MX host matches the MTA-STS policy \(stsmismatch.example: '
if command -v miltertest > /dev/null; then
	if miltertest -s "$TOP_SRCDIR/tests/danepol/sts_rcpt.lua" -D sock="inet:$MPORT@127.0.0.1" > "$T/mt.out" 2>&1; then
		ok "milter: RCPT to stsok.example continues, to stsmismatch.example deferred"
	else
		not_ok "milter: RCPT to stsok.example continues, to stsmismatch.example deferred" "$(cat "$T/mt.out")"
	fi
	check "audit: the deferred recipient's line carries 450 4.7.5 sts-mx-mismatch" \
		grep -q '"event":"rcpt".*b@stsmismatch.example.*"smtp_reply":"450 4.7.5 no MX host matches the MTA-STS policy' "$T/audit.log"
else
	echo "# miltertest not installed: the milter part is skipped"
fi
check "audit: the socketmap line of stsok.example carries the policy" \
	grep -q '"event":"socketmap".*"key":"stsok.example".*"sts":{"policy":true,"mode":"enforce"' "$T/audit.log"
check "audit: an sts-fetch line for stsok.example, ok, enforce" \
	grep -q '"event":"sts-fetch".*"domain":"stsok.example","txt_id":"ok1","result":"ok","error":null,"mode":"enforce"' "$T/audit.log"
check "audit: an sts-fetch line for stsbad.example, sts-policy-invalid, with the reason" \
	grep -q '"event":"sts-fetch".*"domain":"stsbad.example".*"result":"sts-policy-invalid","error":"https://mta-sts.stsbad.example:[0-9]*/.well-known/mta-sts.txt: line:2: mode' "$T/audit.log"
check "mail log: the failed fetch is named" grep -q 'sts: policy of stsbad.example not fetched (sts-policy-invalid)' "$T/danepold.out"
py_results <(python3 "$TOP_SRCDIR/tests/e2e/validate_audit.py" schema "$TOP_SRCDIR/doc" "$T/audit.log" 2>&1) "audit schema: "

# ---------------------------------------------------------------- TLS reports of the failed fetches
# Each failed fetch is an RFC 8460 failure of the domain's sts policy
# (in the store before its audit line is written).
for d in stsbad stswrongname; do
	wait_for 20 grep -q "\"event\":\"sts-fetch\".*\"domain\":\"$d.example\"" "$T/audit.log" ||
		not_ok "danepold fetched the policy of $d.example"
done
"$DANEPOL" -c "$T/sts.conf" report --dry-run --date "$(date -u +%F)" > "$T/report.out" 2>&1
check_match "danepol report --dry-run: the reports of the failed fetches written" \
	"$(cat "$T/report.out")" '[2-9] written'
check "... one of stsbad.example, one of stswrongname.example" eval \
	'ls "$T/reports" | grep -q "!stsbad.example!" && ls "$T/reports" | grep -q "!stswrongname.example!"' 
py_results <(python3 - "$TOP_SRCDIR" "$T/reports" <<'PY' 2>&1
import sys
sys.path.insert(0, sys.argv[1] + "/tests/lib")
from tlsrpt_files import load, res, policies
reps = load(sys.argv[2], sys.argv[1] + "/doc/tlsrpt.schema.json")
res(len(reps) >= 2, "schema-valid reports: %s" % sorted(reps))
def pol(d):
    return policies(reps, d, "sts")
for d, t in (("stsbad.example", "sts-policy-invalid"), ("stswrongname.example", "sts-webpki-invalid")):
    p = pol(d)
    rows = p[0].get("failure-details", []) if p else []
    res(len(p) == 1 and "policy-string" not in p[0]["policy"] and
        p[0]["summary"]["total-failure-session-count"] >= 1 and
        {r["result-type"] for r in rows} == {t} and
        all(r.get("failure-reason-code", "").startswith("https://mta-sts." + d) for r in rows),
        "%s: an sts policy without policy-string, failures %s with the reason: %s" % (d, t, p))
res(pol("stsok.example") == [], "stsok.example (fetched fine, no session): no sts failure")
PY
) "report: "

# ---------------------------------------------------------------- metrics
metric() { curl -s --unix-socket "$T/metrics.sock" http://localhost/metrics |
	awk -v k="danepol_sts_fetches_total{result=\"$1\"}" '$1 == k { print $2 }'; }
check "metrics: the fetches that worked counted (ok >= 2)" [ "$(metric ok)" -ge 2 ]
check_eq "metrics: stsbad's invalid policy counted" "$(metric sts-policy-invalid)" 1
check_eq "metrics: stswrongname's certificate counted" "$(metric sts-webpki-invalid)" 1

# ---------------------------------------------------------------- kept across reloads and restarts
# The policy hosts go away; what danepold fetched stays in force.
kill "$PSPID"
wait "$PSPID" 2> /dev/null
check "the policy hosts are gone" eval "! python3 -c 'import socket,sys; socket.create_connection((\"127.0.0.1\", int(sys.argv[1])), 1)' $PSPORT 2> /dev/null"
kill -HUP "$DPID"
wait_for 20 grep -q "configuration reloaded" "$T/danepold.out" || not_ok "danepold reloads"
check_eq "after a reload: stsok.example still secure (the cache is kept)" "$(sm stsok.example)" \
	"OK secure match=mx1.stsok.example:.stsok.example servername=hostname"
dm_stop
check "the policies are in the outcome store" \
	[ "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from sts_policies").fetchone()[0])' "$T/outcomes.db")" -ge 2 ]
"$DANEPOLD" -f -c "$T/sts.conf" > "$T/danepold2.out" 2>&1 &
DPID=$!
wait_for 20 test -S "$SM" || { not_ok "danepold starts again" "$(tail -5 "$T/danepold2.out")"; finish; }
check_eq "after a restart, the policy hosts down: stsok.example still secure (from the store)" "$(sm stsok.example)" \
	"OK secure match=mx1.stsok.example:.stsok.example servername=hostname"
check_match "... and stsmismatch.example still deferred" "$(sm stsmismatch.example)" '^TEMP no MX host matches'
check_eq "... while a domain never fetched has no policy: may" "$(sm stsnone.example)" "OK may"
dm_stop
finish
