#!/usr/bin/env bash
# tests/e2e/milter_postfix.sh - danepold behind a real, private Postfix.
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT):
#   WORLD_DIR  the signed world of tools/mkworld.sh; FAULTDNS its fault responder
#   DANEPOLD   the danepold binary under test
#   TOP_SRCDIR source tree (doc/audit.schema.json, doc/decision.schema.json)
#
# Set-up (tests/e2e/lib.sh): the offline world, smtp-sink, five danepold
# instances (main: unix socket; audit-only: inet socket; use_rcpt_host;
# reload; stop) and one Postfix instance with one smtpd listener per
# danepold instance, milter_default_action = tempfail, relaying to the sink.
# Asserts, as the SMTP client sees them: the RCPT replies per verdict
# (secure, insecure, bogus, black-holed within decision_timeout, null MX,
# IDN as A-label and as SMTPUTF8 U-label, local part only, address
# literal), that accepted recipients reach the sink and deferred ones do
# not, a transaction whose recipients are all deferred, audit_only,
# use_rcpt_host with a transport and the relayhost, danepold stopped ->
# Postfix's tempfail, SIGHUP reload inside an open SMTP session (and a
# broken reload keeping the old configuration), SIGUSR1 reopen after a
# rename. Every audit line must validate against doc/audit.schema.json and
# join (by sender and queue id) with what the client saw.
# Ends with "N passed, M failed"; exit 0 when nothing failed, 77 (skip)
# when not root or Postfix/swaks are missing and cannot be installed.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
e2e_paths
VALIDATE=$HERE/validate_audit.py
CLIENT=$HERE/smtp_client.py
TIMEOUT_MS=1500		# decision_timeout of the instances

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

# ---------------------------------------------------------------- prerequisites
PATH=$PATH:/usr/sbin:/sbin
# postfix and swaks come from tools/setup.sh deps; this test installs nothing
if why=$(e2e_skip_reason) || ! command -v swaks > /dev/null; then
	echo "SKIP: ${why:-swaks not installed (tools/setup.sh deps installs it)}"
	exit 77
fi
if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR" ]; then
	echo "SKIP: WORLD_DIR unset or missing (run through make check)"
	exit 77
fi

e2e_init milter || { not_ok "temporary directory"; finish; }
[ -x "$DANEPOLD" ] || { not_ok "DANEPOLD is executable ($DANEPOLD)"; finish; }
if e2e_world; then ok "offline world and fault responder"; else not_ok "offline world and fault responder"; finish; fi
if e2e_sink_start; then ok "smtp-sink on 127.0.0.1:$E2E_SINK_PORT"; else not_ok "smtp-sink"; finish; fi

HUP_POLICY=$E2E_T/hup-policy
printf '# policy table of the reload instance: empty at start\n' > "$HUP_POLICY"
T="decision_timeout = ${TIMEOUT_MS}ms"
e2e_danepold_conf main unix "$T"
e2e_danepold_conf inet inet "$T" "audit_only = yes"
e2e_danepold_conf rhost unix "$T" "use_rcpt_host = yes"
e2e_danepold_conf hup unix "$T" "policy_table = $HUP_POLICY"
e2e_danepold_conf stop unix "$T"
NAMES=(main inet rhost hup stop)
for n in "${NAMES[@]}"; do e2e_danepold_start "$n"; done
for n in "${NAMES[@]}"; do
	if e2e_danepold_ready "$n" 2> "$E2E_T/ready.err"; then
		ok "danepold '$n' ready on ${E2E_DSOCK[$n]}"
	else
		not_ok "danepold '$n' ready on ${E2E_DSOCK[$n]}" "$(cat "$E2E_T/ready.err")"
		finish
	fi
done
AUDIT_MAIN=$E2E_T/d-main/audit.log

# Postfix: the implicit.example transport makes {rcpt_host} differ from the
# recipient's domain ([mx1.tampered.example]: address-dnssec-bogus).
e2e_postfix_init "transport_maps = inline:{ implicit.example=smtp:[mx1.tampered.example] }"
P_MAIN=$(e2e_postfix_listener "${E2E_DSOCK[main]}")
P_INET=$(e2e_postfix_listener "${E2E_DSOCK[inet]}")
P_RHOST=$(e2e_postfix_listener "${E2E_DSOCK[rhost]}")
P_HUP=$(e2e_postfix_listener "${E2E_DSOCK[hup]}")
P_STOP=$(e2e_postfix_listener "${E2E_DSOCK[stop]}")
if e2e_postfix_start 2> "$E2E_T/pf.err"; then
	ok "private Postfix started"
else
	not_ok "private Postfix started" "$(head -20 "$E2E_T/pf.err")"
	finish
fi

EXPECT=$E2E_T/expect-main.tsv	# for validate_audit.py join
: > "$EXPECT"

# sw NAME PORT FROM TO,... [swaks options]: run swaks, keep the transcript
# in $E2E_T/NAME.sw and the per-RCPT replies in $E2E_T/NAME.r; sets SW_RC.
sw() {
	local name=$1 port=$2 from=$3 to=$4
	shift 4
	e2e_swaks "$port" --from "$from" --to "$to" "$@" > "$E2E_T/$name.sw"
	SW_RC=$?
	e2e_swaks_replies "$E2E_T/$name.sw" > "$E2E_T/$name.r"
}
reply_of() { awk -F'\t' -v r="$2" '$1 == r { print $2; exit }' "$E2E_T/$1.r"; }
qid_of() { awk -F'\t' '$1 == "queued" { print $2; exit }' "$E2E_T/$1.r"; }

# expect_rcpt NAME SENDER RCPT WANT_PREFIX VERDICT REASON [ACTION]: the
# client's reply to RCPT starts with WANT_PREFIX; records the audit
# expectation.
expect_rcpt() {
	local name=$1 sender=$2 rcpt=$3 want=$4 got
	got=$(reply_of "$name" "$rcpt")
	check_prefix "$name: RCPT <$rcpt> -> $want" "$got" "$want"
	printf 'rcpt\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sender" "$rcpt" "$got" "$5" "$6" "${7:-*}" >> "$EXPECT"
}

# ---------------------------------------------------------------- the stop instance works, then stop it
sw stop0 "$P_STOP" stop0@client.e2e.test s@secure.example --quit-after RCPT
check_prefix "stop instance: RCPT <s@secure.example> accepted while running" "$(reply_of stop0 s@secure.example)" "250 "
e2e_danepold_signal stop TERM	# libmilter takes seconds to exit: waited for at the end

# ---------------------------------------------------------------- one message, every kind of recipient
S1=t1@client.e2e.test
R_SEC=a@secure.example R_INS=b@insecure.example R_BOG=c@bogus.example
R_BH=d@blackhole.example R_NULL=e@nullmx.example R_IDN=f@xn--bcher-kva.example
R_LOCAL=localuser R_LIT='g@[192.0.2.1]'
t0=$(date +%s%N)
sw t1 "$P_MAIN" "$S1" "$R_SEC,$R_INS,$R_BOG,$R_BH,$R_NULL,$R_IDN,$R_LOCAL,$R_LIT"
T1_MS=$((($(date +%s%N) - t0) / 1000000))
check_eq "t1: swaks exit 0 (some recipients accepted)" "$SW_RC" 0
expect_rcpt t1 "$S1" "$R_SEC" "250 " require dane
expect_rcpt t1 "$S1" "$R_INS" "250 " try mx-insecure
expect_rcpt t1 "$S1" "$R_BOG" "450 4.7.5 " defer mx-dnssec-bogus
case $(reply_of t1 "$R_BOG") in
*bogus.example*) ok "t1: the 450 text names bogus.example" ;;
*) not_ok "t1: the 450 text names bogus.example" "got '$(reply_of t1 "$R_BOG")'" ;;
esac
expect_rcpt t1 "$S1" "$R_BH" "451 4.4.3 " defer dns-timeout
expect_rcpt t1 "$S1" "$R_NULL" "250 " reject null-mx continue
expect_rcpt t1 "$S1" "$R_IDN" "250 " try '*'
expect_rcpt t1 "$S1" "$R_LOCAL" "250 " '*' '*'
expect_rcpt t1 "$S1" "$R_LIT" "250 " try address-literal
QID1=$(qid_of t1)
if [ -n "$QID1" ]; then ok "t1: message queued as $QID1"; else not_ok "t1: message queued" "$(tail -5 "$E2E_T/t1.sw")"; fi
printf 'txn\t%s\t%s\teom\n' "$S1" "${QID1:--}" >> "$EXPECT"
# issue 13: the deferral's log line carries Postfix's queue id (the
# queue file exists once the first recipient was accepted), like Postfix's
# and OpenDKIM's own lines
if [ -n "$QID1" ] && e2e_wait 5000 eval "grep -q '^danepold: $QID1: defer: door=milter session=[0-9a-f]* to=<$R_BOG> domain=bogus.example verdict=defer .*reason=mx-dnssec-bogus action=tempfail code=450 dsn=4.7.5 ' '$E2E_T/d-main/stderr'"; then
	ok "t1: danepold's log line for <$R_BOG> starts with Postfix's queue id $QID1"
else
	not_ok "t1: danepold's log line for <$R_BOG> starts with Postfix's queue id ${QID1:-?}" "$(grep 'defer:' "$E2E_T/d-main/stderr" | tail -3)"
fi
if [ "$T1_MS" -le $((TIMEOUT_MS + 3000)) ]; then
	ok "t1: whole session in ${T1_MS} ms (black-holed domain bounded by decision_timeout ${TIMEOUT_MS} ms)"
else
	not_ok "t1: whole session within $((TIMEOUT_MS + 3000)) ms" "took ${T1_MS} ms"
fi

# ---------------------------------------------------------------- all recipients deferred: no DATA, still a message line
S2=t2@client.e2e.test
sw t2 "$P_MAIN" "$S2" "h@bogus.example,i@expired.example"
check_eq "t2: swaks exit 24 (all recipients refused)" "$SW_RC" 24
expect_rcpt t2 "$S2" h@bogus.example "450 4.7.5 " defer mx-dnssec-bogus
expect_rcpt t2 "$S2" i@expired.example "450 4.7.5 " defer mx-dnssec-bogus
if grep -q '^danepold: NOQUEUE: defer: door=milter .* to=<h@bogus.example> ' "$E2E_T/d-main/stderr"; then
	ok "t2: a deferral before any accepted recipient logs NOQUEUE, as Postfix does"
else
	not_ok "t2: a deferral before any accepted recipient logs NOQUEUE" "$(grep 'defer:' "$E2E_T/d-main/stderr" | tail -3)"
fi
printf 'txn\t%s\t-\tabort,close\n' "$S2" >> "$EXPECT"

# ---------------------------------------------------------------- IDN as a U-label (SMTPUTF8), two transactions in one session
S3=t3@client.e2e.test S3B=t3b@client.e2e.test
"$CLIENT" "$P_MAIN" "ehlo client.e2e.test" "mail $S3 SMTPUTF8" "rcpt j@bücher.example" "rcpt k@bogus.example" \
	"rset" "mail $S3B" "rcpt l@insecure.example" quit > "$E2E_T/t3.out" 2>&1
R3=$(awk -F'\t' '$1 == "rcpt" && $2 == "j@bücher.example" { print $3 }' "$E2E_T/t3.out")
check_prefix "t3: RCPT <j@bücher.example> (SMTPUTF8) -> 250" "$R3" "250 "
printf 'rcpt\t%s\tj@bücher.example\t%s\ttry\t*\t*\n' "$S3" "$R3" >> "$EXPECT"
R3=$(awk -F'\t' '$1 == "rcpt" && $2 == "k@bogus.example" { print $3 }' "$E2E_T/t3.out")
check_prefix "t3: RCPT <k@bogus.example> after an IDN one -> 450 4.7.5" "$R3" "450 4.7.5 "
printf 'rcpt\t%s\tk@bogus.example\t%s\tdefer\tmx-dnssec-bogus\t*\n' "$S3" "$R3" >> "$EXPECT"
printf 'txn\t%s\t-\tabort,close\n' "$S3" >> "$EXPECT"
R3=$(awk -F'\t' '$1 == "rcpt" && $2 == "l@insecure.example" { print $3 }' "$E2E_T/t3.out")
check_prefix "t3: second transaction (after RSET): RCPT <l@insecure.example> -> 250" "$R3" "250 "
printf 'rcpt\t%s\tl@insecure.example\t%s\ttry\tmx-insecure\t*\n' "$S3B" "$R3" >> "$EXPECT"
printf 'txn\t%s\t-\tabort,close\n' "$S3B" >> "$EXPECT"
if grep -q '^error' "$E2E_T/t3.out"; then not_ok "t3: session ran" "$(cat "$E2E_T/t3.out")"; fi
if python3 - "$AUDIT_MAIN" > "$E2E_T/t3.dest" 2>&1 <<'PY'
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(l)
    if o.get("event") == "rcpt" and "j@" in o.get("recipient", ""):
        print(o.get("destination"))
PY
then check_eq "t3: audit destination of the U-label is its A-label" "$(cat "$E2E_T/t3.dest")" xn--bcher-kva.example
else not_ok "t3: audit destination of the U-label" "$(cat "$E2E_T/t3.dest")"; fi

# ---------------------------------------------------------------- over-long recipient through Postfix
# 1500-byte local part: longer than the recipient parser takes (RCPT_MAX_LEN);
# Postfix passes it on; danepold defers it as invalid-domain (never decides a
# fragment of it) and audits it without harm.
S3C=t3c@client.e2e.test
LONGRCPT=$(printf 'a%.0s' {1..1500})@secure.example
"$CLIENT" "$P_MAIN" "ehlo client.e2e.test" "mail $S3C" "rcpt $LONGRCPT" "rcpt n@secure.example" quit > "$E2E_T/t3c.out" 2>&1
R3=$(awk -F'\t' '$1 == "rcpt" && length($2) > 1000 { print $3 }' "$E2E_T/t3c.out")
case $R3 in
"450 4.1.2 "*) ok "t3c: ${#LONGRCPT}-byte recipient deferred as invalid (${R3:0:9})" ;;
*) not_ok "t3c: ${#LONGRCPT}-byte recipient answered 450 4.1.2 (invalid-domain)" "got '${R3:0:200}'" ;;
esac
printf 'rcpt\t%s\t*\t%s\t*\t*\t*\n' "$S3C" "$R3" >> "$EXPECT"
R3=$(awk -F'\t' '$1 == "rcpt" && $2 == "n@secure.example" { print $3 }' "$E2E_T/t3c.out")
check_prefix "t3c: next RCPT in that session -> 250" "$R3" "250 "
printf 'rcpt\t%s\tn@secure.example\t%s\trequire\tdane\t*\n' "$S3C" "$R3" >> "$EXPECT"
printf 'txn\t%s\t-\tabort,close\n' "$S3C" >> "$EXPECT"

# ---------------------------------------------------------------- contrast for use_rcpt_host: main decides on the domain
S4=t4@client.e2e.test
sw t4 "$P_MAIN" "$S4" m@implicit.example --quit-after RCPT
expect_rcpt t4 "$S4" m@implicit.example "250 " require dane
printf 'txn\t%s\t-\tabort,close\n' "$S4" >> "$EXPECT"

# ---------------------------------------------------------------- delivery: accepted reach the sink, deferred do not
if [ -n "$QID1" ]; then
	got=$(e2e_postfix_delivered "$QID1" | tr '\n' ' ')
	want=$(printf '%s\n' "$R_SEC" "$R_INS" "$R_NULL" "$R_IDN" "$R_LOCAL@mx.e2e.test" "$R_LIT" | sort | tr '\n' ' ')
	check_eq "t1: maillog status=sent for exactly the accepted recipients" "$got" "$want"
	sink=$(e2e_sink_recipients)
	for r in "$R_SEC" "$R_INS" "$R_NULL" "$R_IDN" "$R_LIT"; do
		if grep -qxF -- "$r" <<< "$sink"; then ok "sink received <$r>"; else not_ok "sink received <$r>" "sink has: $sink"; fi
	done
	for r in "$R_BOG" "$R_BH" h@bogus.example i@expired.example k@bogus.example; do
		if grep -qxF -- "$r" <<< "$sink"; then not_ok "sink never saw deferred <$r>"; else ok "sink never saw deferred <$r>"; fi
	done
fi

# ---------------------------------------------------------------- audit_only (inet socket): never tempfail, audit the verdict
EXPECT_MAIN=$EXPECT
EXPECT=$E2E_T/expect-inet.tsv
: > "$EXPECT"
S5=t5@client.e2e.test
sw t5 "$P_INET" "$S5" "n@secure.example,o@bogus.example,p@insecure.example"
expect_rcpt t5 "$S5" n@secure.example "250 " require dane audit-only
expect_rcpt t5 "$S5" o@bogus.example "250 " defer mx-dnssec-bogus audit-only
expect_rcpt t5 "$S5" p@insecure.example "250 " try mx-insecure audit-only
QID5=$(qid_of t5)
printf 'txn\t%s\t%s\teom\n' "$S5" "${QID5:--}" >> "$EXPECT"
printf 'count\trcpt\t3\ncount\tmessage\t1\n' >> "$EXPECT"
"$VALIDATE" join "$E2E_T/d-inet/audit.log" "$EXPECT" > "$E2E_T/v.out" 2>&1
py_results "$E2E_T/v.out"

# ---------------------------------------------------------------- use_rcpt_host: decide on Postfix's next hop
EXPECT=$E2E_T/expect-rhost.tsv
: > "$EXPECT"
S6=t6@client.e2e.test
sw t6 "$P_RHOST" "$S6" "q@bogus.example,r@implicit.example" --quit-after RCPT
expect_rcpt t6 "$S6" q@bogus.example "250 " try address-literal
expect_rcpt t6 "$S6" r@implicit.example "450 4.7.5 " defer address-dnssec-bogus
printf 'txn\t%s\t-\tabort,close\n' "$S6" >> "$EXPECT"
"$VALIDATE" join "$E2E_T/d-rhost/audit.log" "$EXPECT" > "$E2E_T/v.out" 2>&1
py_results "$E2E_T/v.out"
dests=$(python3 -c 'import json,sys
print(" ".join(json.loads(l)["destination"] for l in open(sys.argv[1]) if json.loads(l).get("event") == "rcpt"))' \
	"$E2E_T/d-rhost/audit.log" 2>&1)
check_eq "use_rcpt_host: audit destinations are the next hops" "$dests" "[127.0.0.1]:$E2E_SINK_PORT [mx1.tampered.example]"

# ---------------------------------------------------------------- SIGHUP: reload inside an open session
HUP_PID=${E2E_DPID[hup]}
# One open SMTP session across the reload: transaction 1 decides
# insecure.example (try; now cached), the client sends HUP, new sessions
# are polled until the reload shows (bounded), transaction 1 goes on with
# the snapshot it started with (milter/milter.c: "a transaction holds
# one runtime snapshot from start to end") and is queued; transaction 2,
# still in the same session, gets the new table. (The table file is read
# only at a reload, so it can be written before the session starts.)
printf 'insecure.example dane-only\n' > "$HUP_POLICY"
"$CLIENT" "$P_HUP" "ehlo client.e2e.test" "mail t8@client.e2e.test" "rcpt w@secure.example" \
	"rcpt s@insecure.example" "signal $HUP_PID HUP" "poll x@insecure.example 450 10000" \
	"rcpt y@insecure.example" data "mail t8b@client.e2e.test" "rcpt z@insecure.example" \
	"rcpt v@secure.example" data quit > "$E2E_T/t8.out" 2>&1
r8() { awk -F'\t' -v r="$1" '$1 == "rcpt" && $2 == r { print $3 }' "$E2E_T/t8.out"; }
check_prefix "HUP: RCPT <w@secure.example> before the reload -> 250" "$(r8 w@secure.example)" "250 "
check_prefix "HUP: RCPT <s@insecure.example> before the reload -> 250" "$(r8 s@insecure.example)" "250 "
if e2e_alive "$HUP_PID"; then ok "HUP: danepold still running"; else not_ok "HUP: danepold still running"; fi
poll8=$(awk -F'\t' '$1 == "poll" { print $3 }' "$E2E_T/t8.out")
check_prefix "HUP: new sessions see insecure.example dane-only -> 450 4.7.5" "$poll8" "450 4.7.5 "
check_prefix "HUP: the transaction begun before the reload keeps its snapshot (RCPT -> 250)" "$(r8 y@insecure.example)" "250 "
check_prefix "HUP: the session opened before the reload, next transaction: new table (RCPT -> 450 4.7.5)" \
	"$(r8 z@insecure.example)" "450 4.7.5 "
check_prefix "HUP: that session was not dropped (RCPT <v@secure.example> -> 250)" "$(r8 v@secure.example)" "250 "
check_eq "HUP: both transactions of that session queued" "$(grep -c '^queued' "$E2E_T/t8.out")" 2
grep -q '^error' "$E2E_T/t8.out" && not_ok "HUP: client ran without errors" "$(cat "$E2E_T/t8.out")"

# A broken configuration on HUP: logged with file:line, the old one stays.
HUP_CONF=$E2E_T/d-hup/danepol.conf
cp "$HUP_CONF" "$E2E_T/hup.conf.good"
echo "no_such_key = 1" >> "$HUP_CONF"
BAD_LINE=$(wc -l < "$HUP_CONF")
e2e_danepold_signal hup HUP
if e2e_wait 5000 e2e_file_has "$HUP_CONF:$BAD_LINE" "$E2E_T/d-hup/stderr"; then
	ok "HUP with a broken config: '$HUP_CONF:$BAD_LINE' logged"
else
	not_ok "HUP with a broken config: '$HUP_CONF:$BAD_LINE' logged" "$(tail -5 "$E2E_T/d-hup/stderr")"
fi
"$CLIENT" "$P_HUP" "ehlo client.e2e.test" "mail t9@client.e2e.test" "rcpt a1@insecure.example" quit > "$E2E_T/t9.out" 2>&1
check_prefix "HUP with a broken config: the old policy still applies (insecure.example -> 450 4.7.5)" \
	"$(awk -F'\t' '$1 == "rcpt" { print $3 }' "$E2E_T/t9.out")" "450 4.7.5 "
cp "$E2E_T/hup.conf.good" "$HUP_CONF"

# ---------------------------------------------------------------- SIGUSR1: reopen the audit log after a rename
A=$E2E_T/d-hup/audit.log
mv "$A" "$A.1"
before=$(wc -l < "$A.1")
e2e_danepold_signal hup USR1
e2e_wait 5000 test -e "$A" || echo "# $A not created by the reopen itself (created on the next write?)"
"$CLIENT" "$P_HUP" "ehlo client.e2e.test" "mail t10@client.e2e.test" "rcpt b1@secure.example" quit > "$E2E_T/t10.out" 2>&1
e2e_wait 5000 e2e_file_has '"event":"message"' "$A"
if e2e_file_has t10@client.e2e.test "$A" && ! e2e_file_has t10@client.e2e.test "$A.1"; then
	ok "USR1: new lines go to the reopened $A"
else
	not_ok "USR1: new lines go to the reopened audit log" "new: $(head -3 "$A" 2> /dev/null)"
fi
check_eq "USR1: the renamed file got no new lines" "$(wc -l < "$A.1")" "$before"

# ---------------------------------------------------------------- danepold stopped: milter_default_action = tempfail
e2e_danepold_stop stop
check_eq "stop instance: SIGTERM -> exit 0" "$E2E_RC" 0
sw stop1 "$P_STOP" stop1@client.e2e.test s@secure.example --quit-after RCPT
# Postfix finds the milter gone at MAIL FROM (or RCPT) time.
check_prefix "danepold stopped: Postfix applies milter_default_action = tempfail" \
	"$(awk -F'\t' '$2 !~ /^250 / { print $2; exit }' "$E2E_T/stop1.r")" "451 4.7.1 "

# ---------------------------------------------------------------- audit logs: one line per event, joined, schema-valid
EXPECT=$EXPECT_MAIN
printf 'count\trcpt\t%d\n' "$(grep -c '^rcpt' "$EXPECT")" >> "$EXPECT"
printf 'count\tmessage\t%d\n' "$(grep -c '^txn' "$EXPECT")" >> "$EXPECT"
"$VALIDATE" join "$AUDIT_MAIN" "$EXPECT" > "$E2E_T/v.out" 2>&1
py_results "$E2E_T/v.out"
python3 - "$AUDIT_MAIN" "$TIMEOUT_MS" > "$E2E_T/bh.out" 2>&1 <<'PY'
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(l)
    if o.get("event") == "rcpt" and "blackhole" in o.get("recipient", ""):
        print(o.get("elapsed_ms"))
PY
bh=$(head -1 "$E2E_T/bh.out")
if [ -n "$bh" ] && [ "$bh" -ge 0 ] 2> /dev/null && [ "$bh" -le $((TIMEOUT_MS + 500)) ]; then
	ok "audit: blackhole.example decided in ${bh} ms (decision_timeout ${TIMEOUT_MS} ms)"
else
	not_ok "audit: blackhole.example decided within $((TIMEOUT_MS + 500)) ms" "elapsed_ms: $(cat "$E2E_T/bh.out")"
fi
if python3 -c 'import jsonschema' 2> /dev/null; then
	LOGS=()
	for n in main inet rhost hup; do LOGS+=("$E2E_T/d-$n/audit.log"); done
	LOGS+=("$E2E_T/d-hup/audit.log.1")
	"$VALIDATE" schema "$TOP_SRCDIR/doc" "${LOGS[@]}" > "$E2E_T/v.out" 2>&1
	py_results "$E2E_T/v.out"
else
	not_ok "python3-jsonschema installed (audit schema validation)"
fi

# ---------------------------------------------------------------- clean stop
for n in main inet rhost hup; do e2e_danepold_signal "$n" TERM; done
for n in main inet rhost hup; do
	e2e_danepold_stop "$n"
	check_eq "danepold '$n': SIGTERM -> exit 0" "$E2E_RC" 0
done
for n in main inet rhost hup stop; do
	if grep -qiE 'assert|sanitizer|segmentation|double free' "$E2E_T/d-$n/stderr"; then
		not_ok "danepold '$n' stderr free of crashes" "$(grep -iE 'assert|sanitizer|segmentation|double free' "$E2E_T/d-$n/stderr" | head -3)"
	fi
done
finish
