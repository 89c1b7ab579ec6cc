#!/usr/bin/env bash
# tests/danepol/report.sh - `danepol report`: RFC 8460 report files and their
# delivery, end to end.
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT):
#   WORLD_DIR  the signed world (tools/mkworld.sh): secure.example has
#              "_smtp._tls TXT v=TLSRPTv1; rua=mailto:tlsrpt@secure.example",
#              mixed.example "rua=https://127.0.0.1:8461/tlsrpt" (two strings),
#              notlsa.example no TLSRPT record; pki/ the server certificate
#   FAULTDNS   the world's fault responder; DANEPOL the binary under test
#   TOP_SRCDIR doc/tlsrpt.schema.json
#   REPORT_FILL tests/danepol/report_fill (the default, relative to the
#              build directory), which writes outcomes into the store
#
# Runs in a private network namespace (unshare -n) so that the fixed
# https port of the world is free; without one, the port must be free.
# A store is filled with outcomes of 2025-03-01 (and one of the next day),
# the clock of danepol report is set with DANEPOL_REPORT_NOW (test-only),
# the world's CA is trusted through DANEPOL_REPORT_CAFILE (test-only).
#   (a) --dry-run: one correctly named .json.gz per domain, each a gzip of
#       JSON valid against doc/tlsrpt.schema.json with the right counts;
#       nothing delivered, no queue;
#   (b) mailto through a REAL private Postfix: report_sendmail is a wrapper
#       running Postfix's sendmail -C <instance>, pickup relays to
#       smtp-sink; the delivered message's envelope, headers (TLS-Report-
#       Domain, TLS-Report-Submitter, Subject, TLS-Required: No,
#       multipart/report; report-type="tlsrpt") and attachment (base64 ->
#       the very file -> gunzip -> the report) are checked;
#   (c) https POST to a local TLS server (tests/danepol/https_sink.py):
#       body = the file, Content-Type application/tlsrpt+gzip;
#   (d) endpoint down: queued (exit 1), not retried before the backoff,
#       retried and failed again, delivered once the server is back;
#       another one given up after report_retry;
#   (e) no report about reports: failed deliveries add no outcome, and
#       the private Postfix's own log of the report mail, ingested, makes
#       no report.
# Ends with "N passed, M failed"; exit 0 when nothing failed, 77 (skip)
# when not root or Postfix is missing.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
DANEPOL=${DANEPOL:-./danepol}
case $DANEPOL in /*) ;; *) DANEPOL=$PWD/$DANEPOL ;; esac
FILL=${REPORT_FILL:-$PWD/tests/danepol/report_fill}
case $FILL in /*) ;; *) FILL=$PWD/$FILL ;; esac
export DANEPOL FILL TOP_SRCDIR
HTTPS_PORT=8461		# fixed in tools/mkworld.sh (mixed.example's rua)

# ---------------------------------------------------------------- namespace
PATH=$PATH:/usr/sbin:/sbin
if [ -z "${REPORT_NETNS:-}" ] && [ "$(id -u)" -eq 0 ] && command -v unshare > /dev/null &&
	unshare -n true 2> /dev/null; then
	REPORT_NETNS=1 exec unshare -n -- bash "$0" "$@"
fi
if [ -n "${REPORT_NETNS:-}" ]; then
	ip link set lo up 2> /dev/null || { echo "SKIP: cannot bring up lo in the namespace"; exit 77; }
fi

# shellcheck source=tests/e2e/lib.sh
. "$TOP_SRCDIR/tests/e2e/lib.sh"

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
has() { if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no '$3' in:" "$(head -c 2000 "$2")"; fi; }

if why=$(e2e_skip_reason); then echo "SKIP: $why"; exit 77; fi
if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR" ]; then
	echo "SKIP: WORLD_DIR unset or missing (run through make check)"; exit 77
fi
[ -x "$FILL" ] || { echo "SKIP: $FILL not built (make check builds it)"; exit 77; }
if [ -z "${REPORT_NETNS:-}" ] && e2e_sock_connects "inet:$HTTPS_PORT@127.0.0.1"; then
	echo "SKIP: no private network namespace and 127.0.0.1:$HTTPS_PORT is taken"; exit 77
fi

e2e_init report || { not_ok "temporary directory"; finish; }
e2e_world || { not_ok "offline world"; finish; }
e2e_sink_start || { not_ok "smtp-sink"; finish; }
e2e_postfix_init
e2e_postfix_start || { not_ok "private Postfix"; finish; }

T=$E2E_T
DB=$T/outcomes.db
RDIR=$T/reports
START=1740787200		# 2025-03-01T00:00:00Z
END=$((START + 86400))
NOW=$((END + 3600))		# "yesterday" is 2025-03-01
SCHEMA=$TOP_SRCDIR/doc/tlsrpt.schema.json
HTTPS_OUT=$T/https
HTTPS_PID=
mkdir -p "$HTTPS_OUT"

cat > "$T/sendmail" <<EOF
#!/bin/sh
# report_sendmail of the test: Postfix's sendmail on the private instance
exec /usr/sbin/sendmail -C "$E2E_PF_DIR" "\$@"
EOF
chmod 755 "$T/sendmail"

write_conf() {	# write_conf FILE RETRY
	cat > "$1" <<EOF
trust_anchor = $E2E_TRUST_ANCHOR
resolver_config = $E2E_RESOLVER_CONF
outcome_db = $DB
postfix_log = $T/pf/maillog
report_org_name = danepol test reporter
report_contact = tlsrpt@sender.test
report_from = tlsrpt@sender.test
report_dir = $RDIR
report_sendmail = $T/sendmail
report_retry = $2
EOF
}
write_conf "$T/danepol.conf" 1h
export DANEPOL_REPORT_CAFILE=$WORLD_DIR/pki/ca.crt

# report OUT [NOW] ARGS...: run danepol report, stdout to OUT, stderr to OUT.err; sets RC
report() {
	local out=$1 now=$2
	shift 2
	RC=0
	DANEPOL_REPORT_NOW=$now "$DANEPOL" -c "$T/danepol.conf" report "$@" > "$out" 2> "$out.err" || RC=$?
}
https_start() {	# https_start STATUS
	: > "$T/https.ready"
	python3 "$HERE/https_sink.py" 127.0.0.1 $HTTPS_PORT "$WORLD_DIR/pki/ee.crt" \
		"$WORLD_DIR/pki/ee.key" "$HTTPS_OUT" "$1" > "$T/https.ready" 2>> "$T/https.log" &
	HTTPS_PID=$!
	E2E_PIDS+=("$HTTPS_PID")
	e2e_wait 10000 e2e_file_has READY "$T/https.ready"
}
https_stop() { [ -n "$HTTPS_PID" ] && kill "$HTTPS_PID" 2> /dev/null && wait "$HTTPS_PID" 2> /dev/null; HTTPS_PID=; }
queue_rows() {	# queue_rows: "attempts<TAB>policy_domain" per queued report
	python3 - "$DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
try:
    for a, d in db.execute("SELECT attempts, policy_domain FROM report_queue ORDER BY id"):
        print(f"{a}\t{d}")
except sqlite3.OperationalError:
    pass
PY
}

# ---------------------------------------------------------------- outcomes
EE=$(cat "$WORLD_DIR/pki/ee.spki")
fill_ok=1
for i in 1 2 3; do
	"$FILL" "$DB" add secure.example $((START + 100 * i)) ok "3 1 1 $EE" || fill_ok=0
done
"$FILL" "$DB" add secure.example $((START + 400)) certificate-not-trusted "3 1 1 $EE" || fill_ok=0
"$FILL" "$DB" add secure.example $((END + 10)) ok "3 1 1 $EE" || fill_ok=0
"$FILL" "$DB" add mixed.example $((START + 500)) ok "3 1 1 $EE" || fill_ok=0
"$FILL" "$DB" add mixed.example $((START + 600)) ok "3 1 1 $EE" || fill_ok=0
"$FILL" "$DB" add mixed.example $((START + 700)) starttls-not-supported || fill_ok=0
"$FILL" "$DB" add notlsa.example $((START + 800)) ok || fill_ok=0
check_eq "store filled with 9 outcomes" "$fill_ok" 1
"$FILL" "$DB" domains 0 9999999999 | sort > "$T/domains.before"
check_eq "store lists 3 domains" "$(wc -l < "$T/domains.before")" 3

# ---------------------------------------------------------------- (a) dry run
report "$T/a.out" $NOW --dry-run
check_eq "(a) dry run exits 0" "$RC" 0
has "(a) summary: 3 written, nothing delivered" "$T/a.out" "3 written, 0 delivered, 0 queued"
mapfile -t FILES < <(cd "$RDIR" 2> /dev/null && ls)
check_eq "(a) three report files" "${#FILES[@]}" 3
bad=
for f in "${FILES[@]}"; do
	[[ $f =~ ^sender\.test!(secure|mixed|notlsa)\.example!$START!$((END - 1))![0-9a-f]{16}\.json\.gz$ ]] || bad="$bad $f"
done
check_eq "(a) RFC 8460 file names sender!domain!begin!end!uid.json.gz" "${bad:-none}" none
python3 - "$RDIR" "$SCHEMA" > "$T/a.py" 2>&1 <<'PY'
import glob, gzip, json, os, sys
rdir, schema_path = sys.argv[1], sys.argv[2]
def res(ok, what): print(("PASS " if ok else "FAIL ") + what)
try:
    import jsonschema
    schema = json.load(open(schema_path))
    validator = jsonschema.Draft202012Validator(schema) if "2020-12" in schema.get("$schema", "") \
        else jsonschema.validators.validator_for(schema)(schema)
except Exception as e:
    validator = None
    res(False, f"(a) schema {schema_path} loads ({e})")
want = {"secure.example": (3, 1), "mixed.example": (2, 1), "notlsa.example": (1, 0)}
for path in sorted(glob.glob(os.path.join(rdir, "*.json.gz"))):
    dom = os.path.basename(path).split("!")[1]
    raw = open(path, "rb").read()
    res(raw[:2] == b"\x1f\x8b", f"(a) {dom}: gzip magic")
    rep = json.loads(gzip.decompress(raw))
    if validator is not None:
        errs = [e.message for e in validator.iter_errors(rep)]
        res(not errs, f"(a) {dom}: valid against tlsrpt.schema.json {errs[:2]}")
    s = sum(p["summary"]["total-successful-session-count"] for p in rep["policies"])
    f = sum(p["summary"]["total-failure-session-count"] for p in rep["policies"])
    res((s, f) == want.get(dom), f"(a) {dom}: {s} successful, {f} failed sessions (want {want.get(dom)})")
    res(rep["date-range"]["start-datetime"].startswith("2025-03-01T00:00:00"), f"(a) {dom}: day 2025-03-01")
    pds = {p["policy"].get("policy-domain") for p in rep["policies"]}
    res(pds <= {dom}, f"(a) {dom}: policy-domain {pds}")
PY
py_results "$T/a.py"
check_eq "(a) dry run: no queue entry" "$(queue_rows | wc -l)" 0
check_eq "(a) dry run: nothing mailed" "$(e2e_sink_recipients | wc -l)" 0

# ---------------------------------------------------------------- (b)+(c) delivery
https_start 201 || not_ok "https server started"
rm -rf "$RDIR"
report "$T/b.out" $NOW
check_eq "(b) run exits 0 (all delivered or without rua)" "$RC" 0
has "(b) secure.example delivered by mail" "$T/b.out" "secure.example: delivered to mailto:tlsrpt@secure.example (rua secure)"
has "(c) mixed.example delivered by https" "$T/b.out" "mixed.example: delivered to https://127.0.0.1:$HTTPS_PORT/tlsrpt (rua secure)"
has "(b) notlsa.example has no rua: kept" "$T/b.out" "notlsa.example: no TLSRPT rua (no TLSRPT record, secure)"
has "(b) summary" "$T/b.out" "3 written, 2 delivered, 0 queued, 0 given up, 1 without rua, 0 failed, 0 sent by other relays or runs"
e2e_wait 20000 e2e_file_has "X-Rcpt-Args: <tlsrpt@secure.example>" "$E2E_SINK_DUMP" ||
	not_ok "(b) report mail reached smtp-sink" "$(tail -5 "$T/pf/maillog")"
e2e_wait 5000 test -s "$HTTPS_OUT/1.path" || not_ok "(c) https server got a request"
python3 - "$E2E_SINK_DUMP" "$RDIR" "$HTTPS_OUT" > "$T/b.py" 2>&1 <<'PY'
import email, email.policy, glob, gzip, json, os, sys
dump, rdir, hout = sys.argv[1:4]
def res(ok, what): print(("PASS " if ok else "FAIL ") + what)
files = {os.path.basename(p).split("!")[1]: p for p in glob.glob(os.path.join(rdir, "*.json.gz"))}
msg = email.message_from_bytes(open(dump, "rb").read(), policy=email.policy.compat32)
res(msg["X-Mail-Args"].startswith("<tlsrpt@sender.test>"), "(b) envelope sender is report_from")
res(msg["TLS-Report-Domain"] == "secure.example", "(b) TLS-Report-Domain: secure.example")
res(msg["TLS-Report-Submitter"] == "sender.test", "(b) TLS-Report-Submitter: sender.test")
res(msg["TLS-Required"] == "No", "(b) TLS-Required: No")
subj = " ".join(msg["Subject"].split())
res(subj.startswith("Report Domain: secure.example Submitter: sender.test Report-ID: <")
    and subj.endswith("@sender.test>"), f"(b) Subject: {subj}")
res(msg["Message-ID"] is not None and msg["Date"] is not None, "(b) Message-ID and Date")
res(msg.get_content_type() == "multipart/report" and msg.get_param("report-type") == "tlsrpt",
    f"(b) Content-Type multipart/report; report-type=tlsrpt ({msg['Content-Type']})")
parts = msg.get_payload()
res(len(parts) == 2 and parts[0].get_content_type() == "text/plain", "(b) a text part first")
att = parts[-1]
res(att.get_content_type() == "application/tlsrpt+gzip", "(b) attachment application/tlsrpt+gzip")
res(att.get_filename() == os.path.basename(files.get("secure.example", "")), "(b) attachment named as the file")
raw = att.get_payload(decode=True)
res(raw == open(files["secure.example"], "rb").read(), "(b) attachment decodes to the report file")
rep = json.loads(gzip.decompress(raw))
res(rep["policies"][0]["policy"]["policy-domain"] == "secure.example", "(b) attachment gunzips to the report")
res(rep["report-id"] in subj, "(b) Subject carries the report-id")
res(open(os.path.join(hout, "1.ctype")).read() == "application/tlsrpt+gzip", "(c) Content-Type application/tlsrpt+gzip")
res(open(os.path.join(hout, "1.path")).read() == "/tlsrpt", "(c) POST to the rua path")
res(open(os.path.join(hout, "1.body"), "rb").read() == open(files["mixed.example"], "rb").read(),
    "(c) POST body is the mixed.example report file")
res(not os.path.exists(os.path.join(hout, "2.path")), "(c) exactly one POST")
PY
py_results "$T/b.py"
check_eq "(b) nothing queued" "$(queue_rows | wc -l)" 0

# ---------------------------------------------------------------- (d) retries
https_stop
report "$T/d0.out" $NOW --domain mixed.example
check_eq "(d) the day's report again: exit 0" "$RC" 0
has "(d) sent already: not sent again" "$T/d0.out" "mixed.example: the report of 2025-03-01 is handled by relay"
has "(d) sent already: counted" "$T/d0.out" "0 written, 0 delivered, 0 queued, 0 given up, 0 without rua, 0 failed, 1 sent by other relays or runs"
report "$T/d1.out" $NOW --domain mixed.example --again
check_eq "(d) endpoint down: exit 1" "$RC" 1
has "(d) endpoint down: queued" "$T/d1.out" "mixed.example: not delivered"
check_eq "(d) one queue entry, 1 attempt" "$(queue_rows)" "$(printf '1\tmixed.example')"
report "$T/d2.out" $((NOW + 299)) --retry-only
check_eq "(d) not due before the backoff: exit 0" "$RC" 0
has "(d) not due: nothing tried" "$T/d2.out" "0 written, 0 delivered, 0 queued"
report "$T/d3.out" $((NOW + 300)) --retry-only
check_eq "(d) retry while down: exit 1" "$RC" 1
has "(d) retry 2 failed, backoff doubled" "$T/d3.out" "retry 2 failed"
check_eq "(d) queue entry now at 2 attempts" "$(queue_rows)" "$(printf '2\tmixed.example')"
rm -f "$HTTPS_OUT"/*
https_start 200 || not_ok "(d) https server restarted"
report "$T/d4.out" $((NOW + 900)) --retry-only
check_eq "(d) retry with the server back: exit 0" "$RC" 0
has "(d) delivered on retry" "$T/d4.out" "mixed.example: delivered to https://127.0.0.1:$HTTPS_PORT/tlsrpt"
check_eq "(d) queue empty after delivery" "$(queue_rows | wc -l)" 0
e2e_wait 5000 test -s "$HTTPS_OUT/1.path" || true
if cmp -s "$HTTPS_OUT/1.body" "$(ls "$RDIR"/*'!mixed.example!'*)"; then ok "(d) the retried POST carries the report"
else not_ok "(d) the retried POST carries the report"; fi
https_stop
report "$T/d5.out" $NOW --domain mixed.example --again
check_eq "(d) queued again" "$(queue_rows | wc -l)" 1
report "$T/d6.out" $((NOW + 3600)) --retry-only
check_eq "(d) given up after report_retry: exit 1" "$RC" 1
has "(d) given up after report_retry" "$T/d6.out" "given up after 1 attempts"
check_eq "(d) queue empty after giving up" "$(queue_rows | wc -l)" 0
write_conf "$T/danepol.conf" 0s
report "$T/d7.out" $NOW --domain mixed.example --again
has "(d) report_retry = 0: not queued" "$T/d7.out" "report_retry = 0: not retried"
check_eq "(d) report_retry = 0: queue stays empty" "$(queue_rows | wc -l)" 0
write_conf "$T/danepol.conf" 1h

# ---------------------------------------------------------------- (e) no report about reports
"$FILL" "$DB" domains 0 9999999999 | sort > "$T/domains.after"
if cmp -s "$T/domains.before" "$T/domains.after"; then
	ok "(e) failed report deliveries added no outcome"
else
	not_ok "(e) failed report deliveries added no outcome" "$(diff "$T/domains.before" "$T/domains.after")"
fi
# The private Postfix's own log of the mailed report, ingested for the real today.
TODAY=$(date -u +%Y-%m-%d)
rm -rf "$RDIR"
report "$T/e.out" "$(date +%s)" --ingest-postfix --date "$TODAY" --dry-run
check_eq "(e) ingesting the report mail's Postfix log: exit 0" "$RC" 0
has "(e) the Postfix log was read" "$T/e.out" "from $T/pf/maillog ("
mapfile -t FILES < <(cd "$RDIR" 2> /dev/null && ls)
check_eq "(e) no report about the report delivery to secure.example" "${#FILES[@]}" 0

# ---------------------------------------------------------------- hostile command line
report "$T/u1.out" $NOW --date 2025-02-30
check_eq "--date 2025-02-30: usage error" "$RC" 64
report "$T/u2.out" $NOW --dry-run --retry-only
check_eq "--dry-run with --retry-only: usage error" "$RC" 64
printf 'outcome_db = %s\nreport_dir = %s\n' "$DB" "$RDIR" > "$T/noorg.conf"
RC=0; "$DANEPOL" -c "$T/noorg.conf" report --dry-run > /dev/null 2>&1 || RC=$?
check_eq "no report_org_name: configuration error" "$RC" 78

finish
