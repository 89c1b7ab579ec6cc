#!/usr/bin/env bash
# tests/e2e/load.sh - danepold under sustained load behind a real Postfix.
#
#   tests/e2e/load.sh [BUILD_DIR]          (as root; BUILD_DIR default: .)
#   LOAD_RCPTS=40000 (recipients offered), LOAD_SESSIONS=200 (smtp-source
#   sessions), LOAD_RSS_TOL=25 (percent), E2E_KEEP=1 keeps the directory.
#
# Not part of make check (about a minute on 2 cores at full size). Set-up
# from tests/e2e/lib.sh: the offline world, smtp-sink, one danepold
# (unix socket) and a private Postfix (default_process_limit raised so
# LOAD_SESSIONS smtpd processes run at once). Load, all at the same time:
#   - smtp-source, one per accepted domain (secure, insecure, nullmx, mixed,
#     cname, implicit, notlsa, nsec3), LOAD_SESSIONS/8 sessions each, 10
#     recipients per message: 90 % of the recipients;
#   - tests/e2e/mailer.py, 8 sessions, messages with secure, bogus,
#     expired, insecure and tlsabogus recipients (three deferred with 450):
#     10 % (smtp-source cannot send a message whose recipients are refused).
# danepold's VmRSS and open descriptors are sampled every second.
# Asserts: danepold alive and exits 0 on SIGTERM; RSS flat after warm-up
# (the first quarter of the run, at least 5 s): peak and last sample within
# LOAD_RSS_TOL % of the first sample after warm-up (plus 2 MiB); open
# descriptors back at the idle count once the load ended and never above
# idle + sessions + 64; audit rcpt lines == recipients offered == Postfix's
# view (recipients delivered to the sink + "milter-reject: RCPT" lines of
# the maillog); deferred recipients == the mailer's 450 replies; every
# audit line is whole JSON. Prints recipients/s, RSS first/peak/last,
# fds, duration. Ends with "N passed, M failed"; exit 0 when nothing failed.
set -u

BUILD=$(cd "${1:-.}" && pwd) || exit 1
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export WORLD_DIR=${WORLD_DIR:-$BUILD/tests/world/out} FAULTDNS=${FAULTDNS:-$BUILD/tests/world/faultdns}
export DANEPOLD=${DANEPOLD:-$BUILD/danepold} TOP_SRCDIR=$TOP
RCPTS=${LOAD_RCPTS:-40000}
SESSIONS=${LOAD_SESSIONS:-200}
TOL=${LOAD_RSS_TOL:-25}
# shellcheck source=tests/e2e/lib.sh
. "$TOP/tests/e2e/lib.sh"
MAILER=$TOP/tests/e2e/mailer.py
CHECK=$TOP/tests/e2e/mailer_check.py

# shellcheck source=tests/lib/tap.sh
. "$TOP/tests/lib/tap.sh"

PATH=$PATH:/usr/sbin:/sbin
if why=$(e2e_skip_reason); then echo "SKIP: $why"; exit 77; fi
command -v smtp-source > /dev/null || { echo "SKIP: smtp-source (postfix) not installed"; exit 77; }
[ -x "$DANEPOLD" ] || { echo "load: no $DANEPOLD (build first)"; exit 1; }
make -s -C "$BUILD" tests/world/faultdns tests/world/out/.stamp > /dev/null ||
	{ echo "load: cannot build the test world in $BUILD"; exit 1; }

e2e_init load || { not_ok "temporary directory"; finish; }
if e2e_world; then ok "offline world and fault responder"; else not_ok "offline world"; finish; fi
if e2e_sink_start; then ok "smtp-sink on 127.0.0.1:$E2E_SINK_PORT"; else not_ok "smtp-sink"; finish; fi
e2e_danepold_conf load unix "decision_timeout = 1500ms"
e2e_danepold_start load
if e2e_danepold_ready load 2> "$E2E_T/ready.err"; then ok "danepold ready"; else
	not_ok "danepold ready" "$(cat "$E2E_T/ready.err")"; finish
fi
PID=${E2E_DPID[load]}
e2e_postfix_init "default_process_limit = $((SESSIONS + 50))" "smtpd_client_connection_count_limit = 0"
P=$(e2e_postfix_listener "${E2E_DSOCK[load]}")
if e2e_postfix_start 2> "$E2E_T/pf.err"; then ok "private Postfix started"; else
	not_ok "private Postfix started" "$(head -20 "$E2E_T/pf.err")"; finish
fi

# ---------------------------------------------------------------- sampler
fds() { find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 2> /dev/null | wc -l; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status" 2> /dev/null; }
# one warm-up transaction, then the idle descriptor count
"$MAILER" "$P" "$E2E_T/warm.out" --tag warm --sessions 1 --messages 1 --domains secure.example
FDS_IDLE=$(fds)
fdlist() { for f in "/proc/$PID/fd"/*; do printf '%s -> %s\n' "${f##*/}" "$(readlink "$f")"; done; }
fdlist > "$E2E_T/fds.idle"
SAMPLES=$E2E_T/samples
: > "$SAMPLES"
(
	while [ ! -e "$E2E_T/stop-sampler" ] && kill -0 "$PID" 2> /dev/null; do
		printf '%s %s %s\n' "$(date +%s)" "$(rss)" "$(fds)" >> "$SAMPLES"
		sleep 1
	done
) &
SAMPLER=$!

# ---------------------------------------------------------------- load
DOMS=(secure.example insecure.example nullmx.example mixed.example cname.example implicit.example
	notlsa.example nsec3.example)
PER_RCPT=10
SRC_MSGS=$((RCPTS * 9 / 10 / ${#DOMS[@]} / PER_RCPT))
SRC_SESS=$((SESSIONS / ${#DOMS[@]}))
MIX=secure.example,bogus.example,expired.example,insecure.example,tlsabogus.example
MIX_N=5
MIX_MSGS=$(((RCPTS - SRC_MSGS * ${#DOMS[@]} * PER_RCPT) / 8 / MIX_N))
OFFERED=$((SRC_MSGS * ${#DOMS[@]} * PER_RCPT + MIX_MSGS * 8 * MIX_N))
echo "# load: $OFFERED recipients: ${#DOMS[@]} x smtp-source -s $SRC_SESS -m $SRC_MSGS -r $PER_RCPT, mailer.py 8 x $MIX_MSGS x $MIX_N"
t0=$(date +%s%N)
jobs_=()
for d in "${DOMS[@]}"; do
	smtp-source -s "$SRC_SESS" -m "$SRC_MSGS" -r "$PER_RCPT" -l 512 -f "load@client.e2e.test" \
		-t "r@$d" -M client.e2e.test "127.0.0.1:$P" > "$E2E_T/src-$d.log" 2>&1 &
	jobs_+=("$!")
done
"$MAILER" "$P" "$E2E_T/mix.out" --tag mix --sessions 8 --messages "$MIX_MSGS" --per-conn 20 --domains "$MIX" &
jobs_+=("$!")
src_fail=0
for j in "${jobs_[@]}"; do wait "$j" || src_fail=$((src_fail + 1)); done
dur_ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "all load clients exited 0" "$src_fail" 0
for d in "${DOMS[@]}"; do
	[ -s "$E2E_T/src-$d.log" ] && { echo "# smtp-source $d:"; head -3 "$E2E_T/src-$d.log" | sed 's/^/#   /'; }
done
echo "# load: $OFFERED recipients in $dur_ms ms: $((OFFERED * 1000 / (dur_ms > 0 ? dur_ms : 1))) recipients/s"

# the audit catches up (one line per decision, written before the reply)
A=$E2E_T/d-load/audit.log
rcpt_lines() { grep -c '"event":"rcpt"' "$A"; }
e2e_wait 10000 eval "[ \$(rcpt_lines) -ge $((OFFERED + 1)) ]"
e2e_wait 10000 eval "[ \$(fds) -le $FDS_IDLE ]"
FDS_END=$(fds)
fdlist > "$E2E_T/fds.end"
touch "$E2E_T/stop-sampler"
wait "$SAMPLER"
if e2e_alive "$PID"; then ok "danepold alive after the load"; else not_ok "danepold alive after the load"; fi

# ---------------------------------------------------------------- RSS and descriptors
read -r n first peak last fmax warm < <(awk -v q=4 '
	{ t[NR] = $1; r[NR] = $2; f[NR] = $3 }
	END { w = int(NR / q); if (w < 5) w = 5; if (w >= NR) w = NR - 1; if (w < 1) w = 1
		p = 0; fm = 0
		for (i = w; i <= NR; i++) { if (r[i] > p) p = r[i] }
		for (i = 1; i <= NR; i++) { if (f[i] > fm) fm = f[i] }
		print NR, r[w], p, r[NR], fm, w }' "$SAMPLES")
echo "# RSS (KiB): $n samples, warm-up $warm s; after warm-up first $first, peak $peak, last $last; fds idle $FDS_IDLE, peak $fmax, after the load $FDS_END"
lim=$((first * (100 + TOL) / 100 + 2048))
if [ "${n:-0}" -ge 3 ] && [ "$peak" -le "$lim" ] && [ "$last" -le "$lim" ]; then
	ok "RSS flat after warm-up: first $first KiB, peak $peak, last $last (limit $lim = +$TOL % + 2 MiB)"
else
	not_ok "RSS flat after warm-up (limit +$TOL % + 2 MiB = $lim KiB)" "first $first peak $peak last $last, $n samples"
fi
check_eq "open descriptors back to the idle count ($FDS_IDLE) after the load" "$FDS_END" "$FDS_IDLE"
[ "$FDS_END" = "$FDS_IDLE" ] || diff "$E2E_T/fds.idle" "$E2E_T/fds.end" | sed 's/^/#   /'
if [ "$fmax" -le $((FDS_IDLE + SESSIONS + 64)) ]; then ok "descriptors peak $fmax <= idle + sessions + 64"; else
	not_ok "descriptors peak $fmax <= idle + sessions + 64"
fi

# ---------------------------------------------------------------- counts
# shellcheck disable=SC2317  # called through e2e_wait
queue_empty() { postqueue -c "$E2E_PF_DIR" -p 2>&1 | grep -q 'Mail queue is empty'; }
e2e_wait 300000 queue_empty || not_ok "Postfix queue drained" "$(postqueue -c "$E2E_PF_DIR" -p 2>&1 | tail -2)"
audit_rcpt=$(($(rcpt_lines) - 1))	# less the warm-up recipient
check_eq "audit rcpt lines == recipients offered" "$audit_rcpt" "$OFFERED"
sink=$(grep -c '^X-Rcpt-Args:' "$E2E_SINK_DUMP")
sink=$((sink - 1))
rejected=$(grep -c 'milter-reject: RCPT from' "$E2E_T/pf/maillog")
check_eq "Postfix: delivered + milter-rejected recipients == offered ($sink + $rejected)" "$((sink + rejected))" "$OFFERED"
mix450=$(grep -o '"450 4.7.5' "$E2E_T/mix.out" | wc -l)
check_eq "deferred recipients (maillog) == the mailer's 450 replies" "$rejected" "$mix450"
tempfail=$(grep '"event":"rcpt"' "$A" | grep -c '"action":"tempfail"')
check_eq "audit tempfail lines == deferred recipients" "$tempfail" "$rejected"
while IFS= read -r l; do
	case $l in "PASS "*) ok "${l#PASS }" ;; "FAIL "*) not_ok "${l#FAIL }" ;; *) echo "#   $l" ;; esac
done < <("$CHECK" audit "$A" "$OFFERED"; "$CHECK" replies "$E2E_T/mix.out" --all-queued secure.example="250 " \
	bogus.example="450 4.7.5 " expired.example="450 4.7.5 " insecure.example="250 " tlsabogus.example="450 4.7.5 ")

e2e_danepold_signal load TERM
e2e_danepold_stop load
check_eq "danepold: SIGTERM -> exit 0" "$E2E_RC" 0
if grep -qiE 'assert|sanitizer|segmentation|double free' "$E2E_T/d-load/stderr"; then
	not_ok "danepold stderr free of crashes" "$(grep -iE 'assert|sanitizer|segmentation' "$E2E_T/d-load/stderr" | head -3)"
fi
echo "# figures: $OFFERED recipients, $dur_ms ms, $((OFFERED * 1000 / (dur_ms > 0 ? dur_ms : 1))) rcpt/s; RSS KiB first/peak/last $first/$peak/$last; fds idle/peak/end $FDS_IDLE/$fmax/$FDS_END"
finish
