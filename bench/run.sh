#!/bin/bash
# bench/run.sh [quick|full] - run every danepol benchmark and print a table.
#
# Method (BENCHMARKS.md has the details and the last figures): every
# figure is a ratio measured side by side in one run, or a median of
# several runs, because the machines are noisy.
#   latency      cold decisions for 1, 2, 4, 8 MX hosts, every DNS answer
#                delayed by a fixed RTT (bench/delayproxy in front of an
#                unbound daemon serving bench/mkbenchworld.sh's signed zone),
#                in RTTs; the sequential driver side by side
#   concurrency  1,000 distinct cold domains at once / one cold domain,
#                at the same RTT and with no delay (the CPU floor)
#   socketmap    danepold's socketmap, warm cache, request/response over
#                8 reused unix connections (bench/smclient), q/s
#   memory       RSS per cached decision at 100,000 domains (quick: 20,000),
#                without and with the audit text kept with each decision
#   intake       bench/intake.sh: smtp-source -> Postfix -> smtp-sink with
#                no milter, a null libmilter milter, danepold
# Env: BUILD (build dir with the layer libraries and danepold; default ../build),
# RTT_MS (default 50). socketmap and intake need root and Postfix (else
# "skip"). Uses public tools only: unbound, ldns-signzone, Postfix's
# smtp-source/smtp-sink, drill, and the C programs in bench/.
set -eu
MODE=${1:-quick}
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${BUILD:-$HERE/../build}" && pwd)
RTT=${RTT_MS:-50}
case $MODE in
quick) LRUNS=3 CRUNS=3 MEMN=20000 SMRUNS=3 SMSEC=2 IRUNS=3 IMSGS=1000 ;;
full) LRUNS=7 CRUNS=5 MEMN=100000 SMRUNS=5 SMSEC=5 IRUNS=5 IMSGS=2000 ;;
*) echo "usage: $0 [quick|full]" >&2; exit 64 ;;
esac
export PATH=$PATH:/usr/sbin:/sbin
make -s -C "$BUILD" bench >&2
B=$BUILD/bench
T=$(mktemp -d "${TMPDIR:-/tmp}/danepol-bench.XXXXXX")
chmod 755 "$T"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null || true; done
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '# %s\n' "$*" >&2; }
freeport() { python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_for MS CMD...: poll CMD every 50 ms, at most MS.
wait_for() {
	local n=$(($1 / 50))
	shift
	while ! "$@" > /dev/null 2>&1; do n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 0.05; done
}

log "world ($MODE)"
"$HERE/mkbenchworld.sh" "$T/world" $((2 * LRUNS)) "$CRUNS" > /dev/null
chmod -R a+rX "$T/world"
TA=$(cat "$T/world/bench.ds")
UPORT=$(freeport)
sed "s/@PORT@/$UPORT/g" "$T/world/serve.conf.in" > "$T/serve.conf"
unbound -d -c "$T/serve.conf" > "$T/unbound.log" 2>&1 &
PIDS+=($!)
wait_for 10000 drill -p "$UPORT" @127.0.0.1 prime.bench MX || { echo "unbound did not start" >&2; cat "$T/unbound.log" >&2; exit 1; }

# proxy NAME DELAY: start delayproxy; writes $T/NAME.conf (danepol.conf).
proxy() {
	local port
	"$B/delayproxy" -u "$UPORT" -d "$2" > "$T/$1.port" &
	PIDS+=($!)
	wait_for 10000 grep -q PORT "$T/$1.port" || { echo "delayproxy did not start" >&2; exit 1; }
	port=$(awk '{ print $2 }' "$T/$1.port")
	printf 'server:\n\tqname-minimisation: no\nstub-zone:\n\tname: "bench."\n\tstub-addr: 127.0.0.1@%s\n' "$port" > "$T/$1.stub"
	printf 'trust_anchor = %s\nresolver_config = %s\n' "$TA" "$T/$1.stub" > "$T/$1.conf"
}
proxy slow "$RTT"
proxy fast 0
declare -A R
kv() { while read -r k v; do R[$1.$k]=$v; done; }

log "latency: $LRUNS runs, RTT $RTT ms"
"$B/decidebench" latency "$T/slow.conf" "$LRUNS" "$RTT" > "$T/lat.out"
for n in 1 2 4 8; do
	read -r _ _ pm _ pr _ sm _ sr <<< "$(grep "^mx$n " "$T/lat.out")"
	R[lat.$n]="$pm $pr $sm $sr"
done
R[lat.bad]=$(awk '/^not_require/ { print $2 }' "$T/lat.out")

log "concurrency: $CRUNS runs"
kv conc < <("$B/decidebench" concurrency "$T/slow.conf" "$CRUNS")
kv conc0 < <("$B/decidebench" concurrency "$T/fast.conf" "$CRUNS")

log "memory: $MEMN domains"
sed "s|zonefile: .*|zonefile: \"$T/world/bench.zone.signed\"|" "$T/world/authzone.conf" > "$T/authzone.conf"
printf 'trust_anchor = %s\nresolver_config = %s\ncache_size = %s\n' "$TA" "$T/authzone.conf" $((MEMN + 10000)) > "$T/mem.conf"
kv mem < <("$B/decidebench" memory "$T/mem.conf" "$MEMN")
kv mema < <("$B/decidebench" memory "$T/mem.conf" "$MEMN" audit)

# socketmap AUDIT: danepold serving only the socketmap; medians of SMRUNS runs.
socketmap() {
	local d=$T/sm-$1 pid
	mkdir -p "$d"
	chown nobody "$d"
	printf '%s\n' "milter_socket = none" "socketmap_socket = unix:$d/sm.sock" "user = nobody" \
		"socket_mode = 0666" "socket_world_access = yes" "socket_group = nogroup" "pid_file = none" "audit_log = $2" \
		"trust_anchor = $TA" "resolver_config = $T/authzone.conf" > "$d/danepol.conf"
	"$BUILD/danepold" -f -c "$d/danepol.conf" > /dev/null 2> "$d/stderr" &
	pid=$!
	PIDS+=("$pid")
	wait_for 20000 grep -q "danepold ready" "$d/stderr" || { echo "danepold did not start" >&2; cat "$d/stderr" >&2; exit 1; }
	for _ in $(seq "$SMRUNS"); do
		"$B/smclient" -s "$d/sm.sock" -c 8 -p 1 -t "$SMSEC" -n 1000
	done > "$d/runs"
	kill "$pid"
	awk '{ print $10 }' "$d/runs" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
	awk '{ b += $12 } END { print b }' "$d/runs"
}
if [ "$(id -u)" -eq 0 ] && getent group nogroup > /dev/null; then
	log "socketmap: $SMRUNS runs of $SMSEC s"
	{ read -r "R[sm.qps]"; read -r "R[sm.bad]"; } < <(socketmap audit "$T/sm-audit/audit.log")
	{ read -r "R[sm0.qps]"; read -r "R[sm0.bad]"; } < <(socketmap none none)
else
	R[sm.qps]=skip R[sm0.qps]=skip R[sm.bad]=- R[sm0.bad]=-
fi

log "intake: $IRUNS runs of $IMSGS messages"
kv in < <(BUILD=$BUILD BW=$T/world "$HERE/intake.sh" "$IRUNS" "$IMSGS")

f() { printf '%-44s %-26s %-12s %s\n' "$@"; }
echo
echo "danepol benchmarks ($MODE) - $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), Linux $(uname -r)"
f "figure" "measured" "target" "notes"
for n in 1 2 4 8; do
	read -r pm pr sm sr <<< "${R[lat.$n]}"
	f "cold decision, $n MX (RTT $RTT ms)" "$pr RTT ($pm ms)" "<= 2.5 RTT" "sequential: $sr RTT ($sm ms)"
done
f "cold decisions not 'require'" "${R[lat.bad]}" "0" ""
f "1,000 cold domains / one (RTT $RTT ms)" "${R[conc.ratio]}x (${R[conc.all_ms]} / ${R[conc.one_ms]} ms)" "small multiple" "threads max ${R[conc.threads_max]} (1,000 callers, main, 2 per resolver context)"
f "1,000 cold domains, no RTT (CPU floor)" "${R[conc0.all_ms]} ms" "-" "one: ${R[conc0.one_ms]} ms; not require: ${R[conc.not_require]}/${R[conc0.not_require]}"
f "socketmap q/s, 8 conns, audit log on" "${R[sm.qps]}" ">= 50,000" "not OK replies: ${R[sm.bad]}"
f "socketmap q/s, 8 conns, audit_log = none" "${R[sm0.qps]}" ">= 50,000" "not OK replies: ${R[sm0.bad]}"
f "RSS per cached domain (${R[mem.domains]})" "${R[mem.bytes_per_domain]} B" "<= 2048 B" "cached ${R[mem.cached]}, fill ${R[mem.fill_per_s]}/s"
f "... with each decision's audit text kept" "${R[mema.bytes_per_domain]} B" "<= 2048 B" "as danepold with an audit log; not require: ${R[mem.not_require]}/${R[mema.not_require]}"
if [ -n "${R[in.ratio_c_b_unix]:-}" ]; then
	f "intake danepold/null, unix" "${R[in.ratio_c_b_unix]}" ">= 0.97" "msg/s: none ${R[in.rate_none]}, null ${R[in.rate_null-unix]}, danepold ${R[in.rate_dpol-unix]}"
	f "intake danepold/null, inet" "${R[in.ratio_c_b_inet]}" ">= 0.97" "msg/s: null ${R[in.rate_null-inet]}, danepold ${R[in.rate_dpol-inet]}"
	f "intake danepold/no milter, unix" "${R[in.ratio_c_a_unix]}" ">= 0.85" ""
	f "intake danepold/no milter, inet" "${R[in.ratio_c_a_inet]}" ">= 0.85" "delivered ${R[in.delivered]}, milter rejects ${R[in.milter_rejects]}"
	f "intake null milter/no milter, unix" "${R[in.ratio_b_a_unix]}" "-" "the milter protocol's own cost"
	f "milter CPU per message, unix" "danepold ${R[in.cpu_us_dpol-unix]} us" "-" "null milter ${R[in.cpu_us_null-unix]} us, lean ${R[in.cpu_us_lean-unix]} us"
	f "milter CPU per message, inet" "danepold ${R[in.cpu_us_dpol-inet]} us" "-" "null milter ${R[in.cpu_us_null-inet]} us"
	f "intake lean null milter/no milter, unix" "${R[in.ratio_lean_a_unix]}" "-" "RCPT only: msg/s ${R[in.rate_lean-unix]}"
else
	f "intake" "skip" "" "${R[in.skip]:-intake.sh failed}"
fi
