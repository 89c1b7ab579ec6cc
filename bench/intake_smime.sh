#!/bin/bash
# bench/intake_smime.sh RUNS MESSAGES - the milter-path intake benchmark
# with the inbound S/MIME signer check off and on (milter/milter_smime.c).
#
# smtp-source -F FILE (10 sessions, MESSAGES messages, one recipient in the
# signed DANE domain secure.example, warm cache) through one private
# Postfix (tests/e2e/lib.sh) into smtp-sink. Two danepold instances on unix
# sockets, both with their audit log in a file:
#   off   no smime_* key (today's danepold: headers and body never sent)
#   on    smime_listeners = inbound, smime_authserv_id = mx.test
# Cases (listener/message), measured back to back in each run (the order
# rotates; each starts once the queue drained):
#   off-u    listener "inbound" -> off, unsigned 1 KB
#   off-s    listener "inbound" -> off, alice-signed (detached, ~3 KB)
#   on-u     listener "inbound" -> on, unsigned 1 KB        (smime=none)
#   on-s     listener "inbound" -> on, alice-signed          (smime=pass)
#   other-s  listener "submission" -> on (not listed), alice-signed: the
#            cost on listeners not checked once the function is on
# The OCSP responder (`openssl ocsp`, port 8888 of ocsp.smime.example = 
# 127.0.0.1) runs throughout: the first signed message fills danepold's
# OCSP cache, the rest are answered from it. Hence a private network and
# mount namespace (re-executed under `unshare -mn`, tests/e2e/lib_delivery.sh).
# Negotiation check (before the runs): two more listeners use a cleanup(8)
# run with -v ("cleanup-v"), one message each through off and on; the
# maillog must show Postfix sending SMFIC_HEADER/EOH/BODY to on and none of
# them to off (it negotiated SMFIP_NOHDRS|NOEOH|NOBODY): only end of message.
# Prints "key value" lines: medians of msg/s per case, of the ratios per
# run (on-u/off-u, on-s/off-s, other-s/off-s), danepold CPU per message,
# deliveries, the audit counts and the negotiation check.
# Needs root, postfix (smtp-source, smtp-sink), openssl, BUILD (build
# directory with danepold and tests/world/out from `make check`).
set -eu
RUNS=${1:-3}
MSGS=${2:-1000}
HERE=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:?BUILD unset}"
export BUILD DANEPOLD=$BUILD/danepold WORLD_DIR=${WORLD_DIR:-$BUILD/tests/world/out} \
	FAULTDNS=${FAULTDNS:-$BUILD/tests/world/faultdns}
# shellcheck source=tests/e2e/lib_delivery.sh
. "$HERE/../tests/e2e/lib_delivery.sh"
PATH=$PATH:/usr/sbin:/sbin
dl_netns_reexec "$0" "$@" || { echo "skip no private network namespace"; exit 0; }
if r=$(e2e_skip_reason); then echo "skip $r"; exit 0; fi
[ -f "$WORLD_DIR/pki/smime/alice.crt" ] || { echo "skip no $WORLD_DIR/pki/smime (make check builds it)"; exit 0; }
PKI=$WORLD_DIR/pki/smime
RCPT=user@secure.example
dl_init bench-smime
dl_net_up
e2e_world
e2e_sink_start

# OCSP responder
(cd "$PKI" && exec openssl ocsp -index index.txt -port 8888 -rsigner ocsp.crt -rkey ocsp.key \
	-CA users.crt -nmin 60) > "$E2E_T/ocsp.log" 2>&1 &
E2E_PIDS+=($!)
e2e_wait 10000 e2e_file_has "waiting for OCSP client connections" "$E2E_T/ocsp.log" ||
	{ e2e_err "openssl ocsp did not start"; exit 1; }

# Messages: 1 KB unsigned, alice-signed detached (~3 KB).
M=$E2E_T/msg
mkdir -p "$M"
{
	printf 'From: alice@smime.example\nTo: %s\nSubject: bench unsigned\n\n' "$RCPT"
	for i in $(seq 16); do printf 'Line %02d of the unsigned benchmark message, 64 bytes of text..\n' "$i"; done
} > "$M/unsigned.eml"
for i in $(seq 16); do printf 'Line %02d of the signed benchmark message, 64 bytes of text....\n' "$i"; done > "$M/body.txt"
openssl cms -sign -in "$M/body.txt" -text -signer "$PKI/alice.crt" -inkey "$PKI/alice.key" \
	-certfile "$PKI/users.crt" -from alice@smime.example -to "$RCPT" -subject "bench signed" > "$M/signed.eml"
declare -A FILE=([u]=$M/unsigned.eml [s]=$M/signed.eml)

e2e_danepold_conf off unix
e2e_danepold_conf on unix "smime_listeners = inbound" "smime_authserv_id = mx.test" "smime_ocsp_internal = yes"
e2e_danepold_start off
e2e_danepold_start on
e2e_danepold_ready off
e2e_danepold_ready on
e2e_postfix_init
declare -A PORT
PORT[off]=$(e2e_postfix_listener "${E2E_DSOCK[off]}" "-o milter_macro_daemon_name=inbound")
PORT[on]=$(e2e_postfix_listener "${E2E_DSOCK[on]}" "-o milter_macro_daemon_name=inbound")
PORT[other]=$(e2e_postfix_listener "${E2E_DSOCK[on]}" "-o milter_macro_daemon_name=submission")
PORT[probe-off]=$(e2e_postfix_listener "${E2E_DSOCK[off]}" "-o milter_macro_daemon_name=inbound" \
	"-o cleanup_service_name=cleanup-v")
PORT[probe-on]=$(e2e_postfix_listener "${E2E_DSOCK[on]}" "-o milter_macro_daemon_name=inbound" \
	"-o cleanup_service_name=cleanup-v")
printf 'cleanup-v unix n - n - 0 cleanup -v\n' >> "$E2E_PF_DIR/master.cf"
e2e_postfix_start
CASES=(off-u off-s on-u on-s other-s)
declare -A MPID=([off]=${E2E_DPID[off]} [on]=${E2E_DPID[on]} [other]=${E2E_DPID[on]})

cpu_ticks() {
	[ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
HZ=$(getconf CLK_TCK)
declare -A TICKS MSGS_DONE RATE

# source_run LISTENER FILE COUNT: prints msg/s.
source_run() {
	local t0 t1 err=$E2E_T/source.err
	t0=$(date +%s%N)
	smtp-source -s 10 -m "$3" -F "$2" -f bench@e2e.test -t "$RCPT" "127.0.0.1:${PORT[$1]}" 2> "$err"
	t1=$(date +%s%N)
	if [ -s "$err" ]; then e2e_err "$1: smtp-source: $(head -3 "$err")"; return 1; fi
	awk -v n="$3" -v ns="$((t1 - t0))" 'BEGIN { printf "%.1f\n", n / (ns / 1e9) }'
}
queue_drained() {
	[ -z "$(find "$E2E_T/pf/spool/active" "$E2E_T/pf/spool/incoming" "$E2E_T/pf/spool/deferred" -type f 2>/dev/null | head -1)" ]
}

# Negotiation check: one message through each probe listener (cleanup -v).
source_run probe-off "${FILE[s]}" 1 > /dev/null
source_run probe-on "${FILE[s]}" 1 > /dev/null
e2e_wait 30000 queue_drained || e2e_err "probe mail not drained"
# cleanup -v logs "event: SMFIC_... macros: i=QID" for each event it sends
# a milter; an event the milter negotiated away is not even logged. The
# probes ran one after the other: the first queue id is off's.
ev_qids() { sed -n -E "s/.* event: $1; macros: i=([0-9A-F]+).*/\1/p" "$E2E_T/pf/maillog"; }
mapfile -t PROBE_QIDS < <(ev_qids SMFIC_BODYEOB)
neg_ok=yes
[ "${#PROBE_QIDS[@]}" -eq 2 ] || neg_ok="no (${#PROBE_QIDS[@]} end-of-message events)"
for ev in SMFIC_HEADER SMFIC_EOH SMFIC_BODY; do
	ev_qids "$ev" | grep -qxF "${PROBE_QIDS[0]:-none}" && neg_ok="no (off got $ev)"
	ev_qids "$ev" | grep -qxF "${PROBE_QIDS[1]:-none}" || neg_ok="no (on did not get $ev)"
done
probe_lines=$(wc -l < "$E2E_T/pf/maillog")

# Warm up every case (danepold's DNS and OCSP caches).
for c in "${CASES[@]}"; do source_run "${c%-*}" "${FILE[${c##*-}]}" 50 > /dev/null; done
e2e_wait 120000 queue_drained || e2e_err "queue not drained after the warm-up"
: > "$E2E_T/ratios"
for r in $(seq "$RUNS"); do
	for i in 0 1 2 3 4; do
		c=${CASES[$(((i + r) % 5))]}
		l=${c%-*}
		c0=$(cpu_ticks "${MPID[$l]}")
		RATE[$c]=$(source_run "$l" "${FILE[${c##*-}]}" "$MSGS")
		e2e_wait 120000 queue_drained || e2e_err "queue not drained after 120 s"
		TICKS[$c]=$((${TICKS[$c]:-0} + $(cpu_ticks "${MPID[$l]}") - c0))
		MSGS_DONE[$c]=$((${MSGS_DONE[$c]:-0} + MSGS))
		echo "$r $c ${RATE[$c]}" >> "$E2E_T/rates"
	done
	awk -v ou="${RATE[off-u]}" -v os="${RATE[off-s]}" -v nu="${RATE[on-u]}" -v ns="${RATE[on-s]}" \
		-v xs="${RATE[other-s]}" 'BEGIN { printf "%f %f %f\n", nu / ou, ns / os, xs / os }' >> "$E2E_T/ratios"
done
e2e_wait 120000 queue_drained || e2e_err "queue not empty after 120 s"
med() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "runs $RUNS"
echo "messages_per_run $MSGS"
echo "bytes_unsigned $(wc -c < "${FILE[u]}")"
echo "bytes_signed $(wc -c < "${FILE[s]}")"
for c in "${CASES[@]}"; do
	echo "rate_$c $(awk -v c="$c" '$2 == c { print $3 }' "$E2E_T/rates" | med)"
done
echo "ratio_on_u_off_u $(awk '{ print $1 }' "$E2E_T/ratios" | med)"
echo "ratio_on_s_off_s $(awk '{ print $2 }' "$E2E_T/ratios" | med)"
echo "ratio_other_s_off_s $(awk '{ print $3 }' "$E2E_T/ratios" | med)"
for c in "${CASES[@]}"; do
	echo "cpu_us_$c $(awk -v t="${TICKS[$c]}" -v hz="$HZ" -v m="${MSGS_DONE[$c]}" 'BEGIN { printf "%.0f", t * 1e6 / hz / m }')"
done
total=$((2 + 5 * 50 + 5 * RUNS * MSGS))
echo "sent_expected $total"
echo "delivered $(grep -c 'status=sent' "$E2E_T/pf/maillog" || true)"
echo "milter_rejects $(grep -c 'milter-reject' "$E2E_T/pf/maillog" || true)"
echo "negotiation_off_skips_headers_body $neg_ok"
echo "negotiation_probe_maillog_lines $probe_lines"
# the "smime" audit lines: off none; on the probe, the warm-ups and the
# runs of on-u and on-s (other-s none)
python3 - "$E2E_T/d-off/audit.log" "$E2E_T/d-on/audit.log" <<PY
import json, sys
def count(path):
    n = {}
    for l in open(path, encoding="utf-8"):
        o = json.loads(l)
        if o.get("event") == "smime":
            r = o["smime"]["result"]
            n[r] = n.get(r, 0) + 1
    return n
off, on = count(sys.argv[1]), count(sys.argv[2])
print("audit_smime_off", sum(off.values()))
print("audit_smime_on", sum(on.values()), "(expected $((1 + 2 * 50 + 2 * RUNS * MSGS)))")
print("audit_smime_on_pass", on.get("pass", 0), "(expected $((1 + 50 + RUNS * MSGS)))")
print("audit_smime_on_none", on.get("none", 0), "(expected $((50 + RUNS * MSGS)))")
print("audit_smime_on_other", {k: v for k, v in on.items() if k not in ("pass", "none")})
PY
