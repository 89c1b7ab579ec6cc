#!/bin/bash
# bench/intake.sh RUNS MESSAGES - the milter-path intake benchmark.
#
# smtp-source (10 sessions, MESSAGES messages of 1 KB, one recipient in a
# signed DANE domain) through a private Postfix (tests/e2e/lib.sh) into
# smtp-sink, on five smtpd listeners of one Postfix instance:
#   none        no milter                                         (a)
#   null-unix   bench/nullmilter on a unix socket                 (b)
#   null-inet   bench/nullmilter on 127.0.0.1 TCP                 (b)
#   dpol-unix   danepold, warm cache, unix socket, audit to file  (c)
#   dpol-inet   danepold, warm cache, TCP                         (c)
#   lean-unix   bench/nullmilter lean: only RCPT, every other step skipped:
#               the floor of any milter that decides at RCPT      (b0)
# Each run measures all six back to back (the order rotates per run; each
# starts once the previous one's mail has left the queue) and
# computes the ratios inside the run; the medians over RUNS are printed
# ("key value" lines for bench/run.sh), with the median msg/s per listener.
# Both milters negotiate alike (no SMFIP_NODATA: no 40 ms Nagle stall).
# Needs root, postfix (smtp-source/smtp-sink), BUILD (build dir with
# danepold and bench/nullmilter), BW (bench/mkbenchworld.sh output).
set -eu
RUNS=${1:-5}
MSGS=${2:-2000}
HERE=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:?BUILD unset}" "${BW:?BW unset}"
export DANEPOLD=$BUILD/danepold	# read by lib.sh
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../tests/e2e/lib.sh"
if r=$(e2e_skip_reason); then echo "skip $r"; exit 0; fi
e2e_init bench-intake
cp "$BW/bench.zone.signed" "$E2E_T/"
sed "s|zonefile: .*|zonefile: \"$E2E_T/bench.zone.signed\"|" "$BW/authzone.conf" > "$E2E_T/authzone.conf"
chmod a+r "$E2E_T"/*
E2E_TRUST_ANCHOR=$(cat "$BW/bench.ds")
E2E_RESOLVER_CONF=$E2E_T/authzone.conf
RCPT=user@d1.w.bench

e2e_sink_start
e2e_postfix_init
e2e_danepold_conf unix unix
e2e_danepold_conf inet inet
e2e_danepold_start unix
e2e_danepold_start inet
mkdir -p "$E2E_T/nm"
NM_UNIX=unix:$E2E_T/nm/null.sock
NM_INET=inet:$(e2e_free_port)@127.0.0.1
declare -A MPID
"$BUILD/bench/nullmilter" "$NM_UNIX" 2> "$E2E_T/nm/unix.err" & E2E_PIDS+=($!); MPID[null-unix]=$!
"$BUILD/bench/nullmilter" "$NM_INET" 2> "$E2E_T/nm/inet.err" & E2E_PIDS+=($!); MPID[null-inet]=$!
NM_LEAN=unix:$E2E_T/nm/lean.sock
"$BUILD/bench/nullmilter" "$NM_LEAN" lean 2> "$E2E_T/nm/lean.err" & E2E_PIDS+=($!); MPID[lean-unix]=$!
MPID[dpol-unix]=${E2E_DPID[unix]}
MPID[dpol-inet]=${E2E_DPID[inet]}
e2e_danepold_ready unix
e2e_danepold_ready inet
e2e_wait 10000 e2e_sock_connects "$NM_UNIX" || { e2e_err "null milter (unix) not up"; exit 1; }
e2e_wait 10000 e2e_sock_connects "$NM_INET" || { e2e_err "null milter (inet) not up"; exit 1; }
e2e_wait 10000 e2e_sock_connects "$NM_LEAN" || { e2e_err "lean null milter not up"; exit 1; }
declare -A PORT
PORT[none]=$(e2e_postfix_listener "")
PORT[null-unix]=$(e2e_postfix_listener "$NM_UNIX")
PORT[null-inet]=$(e2e_postfix_listener "$NM_INET")
PORT[dpol-unix]=$(e2e_postfix_listener "${E2E_DSOCK[unix]}")
PORT[dpol-inet]=$(e2e_postfix_listener "${E2E_DSOCK[inet]}")
PORT[lean-unix]=$(e2e_postfix_listener "$NM_LEAN")
e2e_postfix_start
NAMES=(none null-unix null-inet dpol-unix dpol-inet lean-unix)

# cpu_ticks PID: user + system clock ticks of PID so far (0 without PID).
cpu_ticks() {
	[ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
HZ=$(getconf CLK_TCK)
declare -A TICKS MSGS_DONE

# source NAME COUNT: send COUNT messages through NAME's listener; prints msg/s.
source_run() {
	local t0 t1 err=$E2E_T/source.err
	t0=$(date +%s%N)
	smtp-source ${SOURCE_OPTS:-} -s 10 -m "$2" -l 1024 -f bench@e2e.test -t "$RCPT" "127.0.0.1:${PORT[$1]}" 2> "$err"
	t1=$(date +%s%N)
	if [ -s "$err" ]; then e2e_err "$1: smtp-source: $(head -3 "$err")"; return 1; fi
	awk -v n="$2" -v ns="$((t1 - t0))" 'BEGIN { printf "%.1f\n", n / (ns / 1e9) }'
}

# queue_drained: nothing left in Postfix's incoming, active or deferred queue.
queue_drained() {
	[ -z "$(find "$E2E_T/pf/spool/active" "$E2E_T/pf/spool/incoming" "$E2E_T/pf/spool/deferred" -type f 2>/dev/null | head -1)" ]
}

# Warm up every path (and danepold's cache for the domain).
for n in "${NAMES[@]}"; do source_run "$n" 50 > /dev/null; done
declare -A RATE
: > "$E2E_T/ratios"
for r in $(seq "$RUNS"); do
	for i in 0 1 2 3 4 5; do
		n=${NAMES[$(((i + r) % 6))]}
		c0=$(cpu_ticks "${MPID[$n]:-}")
		RATE[$n]=$(source_run "$n" "$MSGS")
		# the next listener starts on an idle machine, not under this
		# run's delivery backlog
		e2e_wait 120000 queue_drained || e2e_err "queue not drained after 120 s"
		TICKS[$n]=$((${TICKS[$n]:-0} + $(cpu_ticks "${MPID[$n]:-}") - c0))
		MSGS_DONE[$n]=$((${MSGS_DONE[$n]:-0} + MSGS))
		echo "$r $n ${RATE[$n]}" >> "$E2E_T/rates"
	done
	awk -v a="${RATE[none]}" -v bu="${RATE[null-unix]}" -v bi="${RATE[null-inet]}" \
		-v cu="${RATE[dpol-unix]}" -v ci="${RATE[dpol-inet]}" -v l="${RATE[lean-unix]}" 'BEGIN {
		printf "%f %f %f %f %f %f\n", cu / bu, ci / bi, cu / a, ci / a, bu / a, l / a }' >> "$E2E_T/ratios"
done
# Everything queued must reach the sink: wait (bounded) for an empty queue.
e2e_wait 120000 queue_drained || e2e_err "queue not empty after 120 s"
sent=$(grep -c 'status=sent' "$E2E_T/pf/maillog" || true)
milter_rej=$(grep -c 'milter-reject' "$E2E_T/pf/maillog" || true)
med() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "runs $RUNS"
echo "messages_per_run $MSGS"
for n in "${NAMES[@]}"; do
	echo "rate_$n $(awk -v n="$n" '$2 == n { print $3 }' "$E2E_T/rates" | med)"
done
echo "ratio_c_b_unix $(awk '{ print $1 }' "$E2E_T/ratios" | med)"
echo "ratio_c_b_inet $(awk '{ print $2 }' "$E2E_T/ratios" | med)"
echo "ratio_c_a_unix $(awk '{ print $3 }' "$E2E_T/ratios" | med)"
echo "ratio_c_a_inet $(awk '{ print $4 }' "$E2E_T/ratios" | med)"
echo "ratio_b_a_unix $(awk '{ print $5 }' "$E2E_T/ratios" | med)"
echo "ratio_lean_a_unix $(awk '{ print $6 }' "$E2E_T/ratios" | med)"
# the milter process's own CPU per message (user + system), microseconds
for n in null-unix null-inet dpol-unix dpol-inet lean-unix; do
	echo "cpu_us_$n $(awk -v t="${TICKS[$n]}" -v hz="$HZ" -v m="${MSGS_DONE[$n]}" 'BEGIN { printf "%.0f", t * 1e6 / hz / m }')"
done
echo "delivered $sent"
echo "milter_rejects $milter_rej"
echo "audit_lines_unix $(wc -l < "$E2E_T/d-unix/audit.log")"
