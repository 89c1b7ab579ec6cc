#!/usr/bin/env bash
# tests/e2e/faults.sh - danepold under faults, behind a real private Postfix.
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT): WORLD_DIR,
# FAULTDNS, DANEPOLD, TOP_SRCDIR. Needs root (Postfix, a tmpfs mount); the
# script re-runs itself inside `unshare -m` (a private mount namespace, so
# the tmpfs is seen only by the processes started here), under a 170 s
# watchdog. Set-up from tests/e2e/lib.sh: the offline world and its fault
# responder, a second fault responder for the TLSA names below, smtp-sink,
# four danepold instances and one Postfix smtpd listener each
# (milter_default_action = tempfail). The SMTP clients are
# tests/e2e/mailer.py (concurrent sessions, one JSON line per message);
# the assertions over its output, the audit logs and the sink dump are
# tests/e2e/mailer_check.py.
#
#  1. DNS faults (instance "dns", decision_timeout 1000 ms): black-holed,
#     SERVFAIL, REFUSED and slow zones; TLSA lookups of secure domains
#     black-holed, SERVFAILed and answered after 2.5 s (stub zones to the
#     second responder); a dane-only table entry whose TLSA lookup times
#     out. Each RCPT reply is the status table's, within the deadline plus
#     slack, and the audit line shows defer (never try/require) with the
#     reason and level.
#  2. Resolver restart in flight: SIGHUP (a new runtime: resolver, cache)
#     after every second RCPT reply while four sessions wait for timing-out
#     lookups; replies and bounds unchanged, at least one decision spans a
#     reload.
#  3. SIGKILL under load (instance "kill", pid_file set): six sessions send
#     messages to mixed recipients; danepold is killed, Postfix tempfails
#     (4xx) while it is down, danepold restarts on the same socket (stale
#     socket and pid file), mail flows again. No message lost or duplicated,
#     every unqueued message got a 4xx, every audit line is whole.
#  4. SIGHUP under load (instance "hup"): nine reloads during 90 messages
#     in six sessions; every message queued, every reply per verdict.
#  5. Audit log on a full disk (instance "disk", a 64 KiB tmpfs): replies
#     unchanged, the failure logged once (rate-limited) with its count,
#     danepold runs on; after freeing space and SIGUSR1 lines are written
#     again and no line is torn.
# Ends with "N passed, M failed"; exit 0 when nothing failed, 77 (skip)
# when not root or Postfix/unshare are missing.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
export TOP_SRCDIR
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
e2e_paths
MAILER=$HERE/mailer.py
CHECK=$HERE/mailer_check.py

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
# py NAME ARGS...: run mailer_check.py, turn its PASS/FAIL lines into ok/not ok.
py() {
	local name=$1
	shift
	py_results <("$CHECK" "$@" 2>&1) "$name: "
}

# ---------------------------------------------------------------- prerequisites, namespace
PATH=$PATH:/usr/sbin:/sbin
if why=$(e2e_skip_reason); then echo "SKIP: $why"; exit 77; fi
command -v unshare > /dev/null || { echo "SKIP: unshare not installed"; exit 77; }
if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR" ]; then
	echo "SKIP: WORLD_DIR unset or missing (run through make check)"
	exit 77
fi
if [ -z "${DANEPOL_FAULTS_NS:-}" ]; then
	DANEPOL_FAULTS_NS=1 exec timeout -k 5 170 unshare -m --propagation private "$0" "$@"
fi

e2e_init faults || { not_ok "temporary directory"; finish; }
DISKFS=$E2E_T/diskfs
# shellcheck disable=SC2317  # the trap: unmount the tmpfs before lib.sh removes the directory
faults_cleanup() { e2e_postfix_stop > /dev/null 2>&1; umount -l "$DISKFS" 2> /dev/null; e2e_cleanup; }
trap faults_cleanup EXIT
[ -x "$DANEPOLD" ] || { not_ok "DANEPOLD is executable ($DANEPOLD)"; finish; }
if e2e_world; then ok "offline world and fault responder"; else not_ok "offline world and fault responder"; finish; fi
if e2e_sink_start; then ok "smtp-sink on 127.0.0.1:$E2E_SINK_PORT"; else not_ok "smtp-sink"; finish; fi

# A second responder for TLSA names of secure world domains: their MX and
# addresses stay secure (auth-zones), only the TLSA lookups fail.
TLSA_FAULTS=(_tcp.mx1.nsec3.example=blackhole _tcp.mx2.nsec3.example=blackhole
	_tcp.mx1.mismatch.example=servfail _tcp.mx.pee.example=slow _tcp.mx.pta.example=blackhole)
"$FAULTDNS" -p 0 -s 2500 "${TLSA_FAULTS[@]}" > "$E2E_T/fault2.out" 2>&1 &
E2E_PIDS+=("$!")
if e2e_wait 10000 e2e_file_has PORT "$E2E_T/fault2.out"; then
	port2=$(awk '$1 == "PORT" { print $2; exit }' "$E2E_T/fault2.out")
	ok "TLSA fault responder on port $port2"
else
	not_ok "TLSA fault responder" "$(cat "$E2E_T/fault2.out")"; finish
fi
DNS_RESOLVER=$E2E_T/unbound-dns.conf
{
	cat "$E2E_RESOLVER_CONF"
	for z in "${TLSA_FAULTS[@]}"; do
		printf 'stub-zone:\n\tname: "%s."\n\tstub-addr: 127.0.0.1@%s\n' "${z%%=*}" "$port2"
	done
} > "$DNS_RESOLVER"
DNS_TABLE=$E2E_T/dns-table
printf 'pta.example dane-only\nservfail.example dane-only\n' > "$DNS_TABLE"

# The full-disk instance's audit log lives on a 64 KiB tmpfs.
mkdir -p "$DISKFS"
if mount -t tmpfs -o "size=64k,mode=0755,uid=$(id -u "${E2E_USER:-nobody}")" tmpfs "$DISKFS"; then
	ok "64 KiB tmpfs for the audit log"
else
	not_ok "64 KiB tmpfs mounted (unshare -m)"; finish
fi

DNS_TIMEOUT=1000
main_resolver=$E2E_RESOLVER_CONF
E2E_RESOLVER_CONF=$DNS_RESOLVER
e2e_danepold_conf dns unix "decision_timeout = ${DNS_TIMEOUT}ms" "policy_table = $DNS_TABLE"
E2E_RESOLVER_CONF=$main_resolver
e2e_danepold_conf kill unix "decision_timeout = 1500ms"
sed -i "s|^pid_file = .*|pid_file = $E2E_T/d-kill/danepold.pid|" "$E2E_T/d-kill/danepol.conf"
e2e_danepold_conf hup unix "decision_timeout = 1500ms"
e2e_danepold_conf disk unix "decision_timeout = 1500ms"
sed -i "s|^audit_log = .*|audit_log = $DISKFS/audit.log|" "$E2E_T/d-disk/danepol.conf"
NAMES=(dns kill hup disk)
for n in "${NAMES[@]}"; do e2e_danepold_start "$n"; done
for n in "${NAMES[@]}"; do
	if e2e_danepold_ready "$n" 2> "$E2E_T/ready.err"; then
		ok "danepold '$n' ready on ${E2E_DSOCK[$n]}"
	else
		not_ok "danepold '$n' ready" "$(cat "$E2E_T/ready.err")"; finish
	fi
done

e2e_postfix_init ""
declare -A PORT
for n in "${NAMES[@]}"; do PORT[$n]=$(e2e_postfix_listener "${E2E_DSOCK[$n]}"); done
if e2e_postfix_start 2> "$E2E_T/pf.err"; then ok "private Postfix started"; else
	not_ok "private Postfix started" "$(head -20 "$E2E_T/pf.err")"; finish
fi

# mail NAME INSTANCE ARGS...: mailer.py to INSTANCE's listener, output $E2E_T/NAME.out
mail() {
	local name=$1 inst=$2
	shift 2
	"$MAILER" "${PORT[$inst]}" "$E2E_T/$name.out" --tag "$name" "$@" 2> "$E2E_T/$name.err"
}
outcomes() { { grep -c "\"outcome\": \"$2\"" "$E2E_T/$1.out" 2> /dev/null || true; } | grep . || echo 0; }
# reloads NAME: "configuration reloaded" lines in the instance's stderr
reloads() { grep -c 'configuration reloaded' "$E2E_T/d-$1/stderr"; }

# ---------------------------------------------------------------- 1. DNS faults
# One session per domain, all at once; each RCPT bounded by decision_timeout.
DNS_DOMAINS=(blackhole.example securedead.example servfail.example refused.example slow.example
	nsec3.example mismatch.example pee.example pta.example secure.example)
t0=$(date +%s%N)
jobs_=()
for d in "${DNS_DOMAINS[@]}"; do
	mail dns1 dns --sessions 1 --messages 1 --domains "$d" &
	jobs_+=("$!")
done
for p in "${jobs_[@]}"; do wait "$p"; done
dns_ms=$((($(date +%s%N) - t0) / 1000000))
ok "ten concurrent sessions over the fault domains took ${dns_ms} ms"
SLACK=1500	# RCPT seen by the client: the deadline plus Postfix and scheduling
py dns1 replies "$E2E_T/dns1.out" --max-ms $((DNS_TIMEOUT + SLACK)) \
	blackhole.example="451 4.4.3 " securedead.example="451 4.4.3 " servfail.example="451 4.4.3 " \
	refused.example="451 4.4.3 " slow.example="250 " nsec3.example="451 4.4.3 " \
	mismatch.example="450 4.7.5 " pee.example="451 4.4.3 " pta.example="451 4.4.3 " secure.example="250 "
py dns1 decisions "$E2E_T/d-dns/audit.log" dns1 "$DNS_TIMEOUT" \
	blackhole.example=defer/dns-timeout/dane/tempfail securedead.example=defer/dns-timeout/dane/tempfail \
	servfail.example=defer/mx-lookup-failed/dane-only/tempfail refused.example=defer/mx-lookup-failed/dane/tempfail \
	slow.example=try/mx-insecure/may/continue nsec3.example=defer/dns-timeout/dane/tempfail \
	mismatch.example=defer/tlsa-lookup-failed/dane/tempfail pee.example=defer/dns-timeout/dane/tempfail \
	pta.example=defer/dns-timeout/dane-only/tempfail secure.example=require/dane/dane/continue

# ---------------------------------------------------------------- 2. reload with lookups in flight
# A transaction keeps the runtime it began with: reload once first, so the
# sessions below start on a fresh runtime with an empty cache and their
# lookups (each timing out after 1 s) are in flight at the next reloads.
DNS_PID=${E2E_DPID[dns]}
e2e_danepold_signal dns HUP
e2e_wait 5000 eval "[ \$(reloads dns) -ge 1 ]" || not_ok "dns2: first reload logged"
r0=$(reloads dns)
mail dns2 dns --sessions 4 --messages 1 --signal "$DNS_PID:HUP:2:rcpt" \
	--domains nsec3.example,pee.example,blackhole.example,securedead.example,secure.example
py dns2 replies "$E2E_T/dns2.out" --max-ms $((DNS_TIMEOUT + SLACK)) --all-queued \
	nsec3.example="451 4.4.3 " pee.example="451 4.4.3 " blackhole.example="451 4.4.3 " \
	securedead.example="451 4.4.3 " secure.example="250 "
py dns2 decisions "$E2E_T/d-dns/audit.log" dns2 "$DNS_TIMEOUT" \
	nsec3.example=defer/dns-timeout/dane/tempfail pee.example=defer/dns-timeout/dane/tempfail \
	blackhole.example=defer/dns-timeout/dane/tempfail securedead.example=defer/dns-timeout/dane/tempfail \
	secure.example=require/dane/dane/continue
py dns2 spans "$E2E_T/d-dns/audit.log" "$E2E_T/dns2.out" dns2
nhup=$(grep -c '"signal"' "$E2E_T/dns2.out")
# Signals sent while one is pending merge: between 1 and nhup reloads.
r=$(($(reloads dns) - r0))
if [ "$r" -ge 1 ] && [ "$r" -le "$nhup" ]; then ok "dns2: $nhup SIGHUPs sent, $r reloads logged"; else
	not_ok "dns2: $nhup SIGHUPs sent, between 1 and $nhup reloads logged" "got $r"
fi
if e2e_alive "$DNS_PID"; then ok "dns: danepold still running"; else not_ok "dns: danepold still running"; fi

# ---------------------------------------------------------------- 3. SIGKILL under load, restart
KILL_PID=${E2E_DPID[kill]}
STOPFILE=$E2E_T/kill.stop
MIX=secure.example,insecure.example,bogus.example,nullmx.example,implicit.example
mail kill kill --sessions 6 --messages 0 --until "$STOPFILE" --domains "$MIX" &
MAILER_PID=$!
e2e_wait 20000 eval "[ \$(outcomes kill 250) -ge 20 ]" || not_ok "kill: 20 messages queued before the kill"
kill -KILL "$KILL_PID"
wait "$KILL_PID" 2> /dev/null
before=$(outcomes kill 4xx)
if e2e_wait 20000 eval "[ \$(outcomes kill 4xx) -ge $((before + 6)) ]"; then
	ok "kill: Postfix tempfails while danepold is down ($(($(outcomes kill 4xx) - before)) messages got 4xx)"
else
	not_ok "kill: Postfix tempfails while danepold is down" "$(tail -3 "$E2E_T/kill.out")"
fi
if [ -S "$E2E_T/d-kill/milter.sock" ] && [ -s "$E2E_T/d-kill/danepold.pid" ]; then
	ok "kill: stale socket and pid file left behind"
else
	not_ok "kill: stale socket and pid file left behind" "$(ls -l "$E2E_T/d-kill")"
fi
mv "$E2E_T/d-kill/stderr" "$E2E_T/d-kill/stderr.1"
e2e_danepold_start kill
if e2e_danepold_ready kill 2> "$E2E_T/ready.err"; then
	ok "kill: danepold restarted on the same socket"
else
	not_ok "kill: danepold restarted on the same socket" "$(cat "$E2E_T/ready.err")"
fi
if grep -q 'stale' "$E2E_T/d-kill/stderr"; then ok "kill: stale pid file replaced"; else
	not_ok "kill: stale pid file replaced (logged)" "$(head -5 "$E2E_T/d-kill/stderr")"
fi
check_eq "kill: pid file holds the new pid" "$(tr -d ' \n' < "$E2E_T/d-kill/danepold.pid")" "${E2E_DPID[kill]}"
q=$(outcomes kill 250)
if e2e_wait 20000 eval "[ \$(outcomes kill 250) -ge $((q + 12)) ]"; then
	ok "kill: mail flows again after the restart"
else
	not_ok "kill: mail flows again after the restart" "$(tail -3 "$E2E_T/kill.out")"
fi
touch "$STOPFILE"
wait "$MAILER_PID"
echo "# kill: $(outcomes kill 250) messages queued, $(outcomes kill 4xx) tempfailed, $(outcomes kill error) errors"

# ---------------------------------------------------------------- 4. SIGHUP under load
HUP_PID=${E2E_DPID[hup]}
MIX2=secure.example,insecure.example,bogus.example,nullmx.example,cname.example,mixed.example
mail hup hup --sessions 6 --messages 15 --signal "$HUP_PID:HUP:10" --domains "$MIX2"
py hup replies "$E2E_T/hup.out" --all-queued secure.example="250 " insecure.example="250 " \
	bogus.example="450 4.7.5 " nullmx.example="250 " cname.example="250 " mixed.example="250 "
nhup=$(grep -c '"signal"' "$E2E_T/hup.out")
# reloads run one after another on danepold's signal thread: the last
# ones may still be going when the mailer is done (slow under ASan); give
# them 10 s (signals that arrived together may have been merged: fewer)
e2e_wait 10000 eval "[ \$(reloads hup) -ge $nhup ]" || true
r=$(reloads hup)
if [ "$r" -ge $((nhup / 2)) ] && [ "$r" -le "$nhup" ]; then ok "hup: $nhup SIGHUPs during the load, $r reloads logged"; else
	not_ok "hup: $nhup SIGHUPs during the load, between $((nhup / 2)) and $nhup reloads logged" "got $r"
fi
[ "$nhup" -ge 8 ] || not_ok "hup: at least 8 reloads sent" "sent $nhup"
if e2e_alive "$HUP_PID"; then ok "hup: danepold still running"; else not_ok "hup: danepold still running"; fi

# ---------------------------------------------------------------- 5. audit log on a full disk
DISK_PID=${E2E_DPID[disk]}
DA=$DISKFS/audit.log
mail disk0 disk --sessions 1 --messages 1 --domains secure.example,bogus.example
e2e_wait 5000 e2e_file_has '"event":"message"' "$DA"
head -c 1M /dev/zero > "$DISKFS/fill" 2> /dev/null
if [ "$(df --output=avail "$DISKFS" | tail -1 | tr -d ' ')" -eq 0 ]; then ok "disk: tmpfs full"; else
	not_ok "disk: tmpfs full" "$(df "$DISKFS")"
fi
mail disk1 disk --sessions 2 --messages 3 --domains secure.example,bogus.example,insecure.example
py disk1 replies "$E2E_T/disk1.out" --all-queued secure.example="250 " bogus.example="450 4.7.5 " \
	insecure.example="250 "
warns=$(grep -c 'line(s) lost so far' "$E2E_T/d-disk/stderr")
check_eq "disk: the write failure is logged once (rate-limited)" "$warns" 1
# The first failure is a short write (the line's start fitted in the last
# page) or ENOSPC; the warning counts the lost lines so far.
case $(grep 'line(s) lost so far' "$E2E_T/d-disk/stderr") in
*"audit log $DA: "*"(1 line(s) lost so far; mail is not affected)"*) ok "disk: the warning names the log and counts the lost line" ;;
*) not_ok "disk: the warning names the log and counts the lost line" "$(grep 'lost so far' "$E2E_T/d-disk/stderr")" ;;
esac
if e2e_alive "$DISK_PID"; then ok "disk: danepold still running"; else not_ok "disk: danepold still running"; fi
rm -f "$DISKFS/fill"
e2e_danepold_signal disk USR1
e2e_wait 5000 e2e_file_has "reopened" "$E2E_T/d-disk/stderr" || not_ok "disk: USR1 reopen logged"
mail disk2 disk --sessions 1 --messages 1 --domains secure.example,bogus.example
e2e_wait 5000 e2e_file_has 'disk2-s0-m0' "$DA"
if grep -q '"recipient":"disk2s0m0r1@bogus.example"' "$DA"; then ok "disk: lines are written again after freeing space"; else
	not_ok "disk: lines are written again after freeing space" "$(tail -c 300 "$DA")"
fi
py disk audit "$DA" 3

# ---------------------------------------------------------------- delivery and audit integrity
# shellcheck disable=SC2317  # called through e2e_wait
queue_empty() { postqueue -c "$E2E_PF_DIR" -p 2>&1 | grep -q 'Mail queue is empty'; }
e2e_wait 30000 queue_empty || not_ok "Postfix queue drained" "$(postqueue -c "$E2E_PF_DIR" -p 2>&1 | tail -5)"
py kill delivery "$E2E_T/kill.out" "$E2E_SINK_DUMP"
py hup delivery "$E2E_T/hup.out" "$E2E_SINK_DUMP"
for n in dns kill hup; do py "$n" audit "$E2E_T/d-$n/audit.log" 10; done

# ---------------------------------------------------------------- clean stop
for n in dns kill hup disk; do e2e_danepold_signal "$n" TERM; done
for n in dns kill hup disk; do
	e2e_danepold_stop "$n"
	check_eq "danepold '$n': SIGTERM -> exit 0" "$E2E_RC" 0
done
for f in "$E2E_T"/d-*/stderr*; do
	if grep -qiE 'assert|sanitizer|segmentation|double free|runtime error' "$f"; then
		not_ok "${f#"$E2E_T"/} free of crashes" "$(grep -iE 'assert|sanitizer|segmentation|double free|runtime error' "$f" | head -3)"
	fi
done
finish
