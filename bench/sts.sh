#!/usr/bin/env bash
# bench/sts.sh - socketmap queries per second on a warm MTA-STS cache:
# danepold against Debian's mta-sts-daemon (postfix-mta-sts-resolver),
# same client (bench/smclient, 8 connections, request/response as Postfix
# asks: the headline), same run, same machine, both on a unix socket.
# Then the same with danepold's audit log on (a file, audit_sync = flush,
# every request's line written), and pipelined (16 requests outstanding
# per connection; Postfix's dict_sockmap never pipelines, so this shows
# only what a pipelining client would get).
#
#   BUILD=build bench/sts.sh [RUNS] [SECONDS]     (default 3 runs of 5 s)
#
# Needs root (a private network namespace: the policy hosts listen on
# 127.0.0.1:443; tests/e2e/lib_sts.sh sets the world up), the built
# danepold and bench/smclient (make -C BUILD bench danepold), and
# mta-sts-daemon (tools/setup.sh deps). The key is stsok.example, an
# enforce policy: both answer "OK secure match=...". danepold's audit log
# is off (audit_log = none) for the headline, as the peer keeps none; a
# second danepold with the audit log on shows what the lines cost.
# Prints the median qps of each and their ratios.
set -u
TOP_SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-$TOP_SRCDIR/build}" && pwd)
RUNS=${1:-3} SECS=${2:-5}
export TOP_SRCDIR DANEPOLD=${DANEPOLD:-$BUILD/danepold}
export WORLD_DIR=${WORLD_DIR:-$BUILD/tests/world/out} FAULTDNS=${FAULTDNS:-$BUILD/tests/world/faultdns}
# shellcheck source=tests/e2e/lib_delivery.sh
. "$TOP_SRCDIR/tests/e2e/lib_delivery.sh"
PATH=$PATH:/usr/sbin:/sbin
dl_netns_reexec "$0" "$@" || exit $?
# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
for b in "$BUILD/bench/smclient" "$DANEPOLD"; do
	[ -x "$b" ] || { echo "sts bench: $b not built (make -C $BUILD bench danepold)" >&2; exit 1; }
done
command -v mta-sts-daemon > /dev/null || { echo "sts bench: mta-sts-daemon not installed" >&2; exit 1; }

dl_init stsbench || exit 1
# shellcheck source=tests/e2e/lib_sts.sh
. "$TOP_SRCDIR/tests/e2e/lib_sts.sh"
sts_env_up > "$E2E_T/setup.tap"
chmod 777 "$E2E_T"
sts_peer_start "unix:$E2E_T/peer.sock" >> "$E2E_T/setup.tap"
SM=$E2E_T/d-sts/socketmap.sock
sts_danepold sts "$SM" "audit_log = none" "socket_mode = 0666" "socket_world_access = yes" \
	"socket_group = none" >> "$E2E_T/setup.tap"
SMA=$E2E_T/d-stsaudit/socketmap.sock
sts_danepold stsaudit "$SMA" "audit_log = $E2E_T/d-stsaudit/audit.log" "socket_mode = 0666" \
	"socket_world_access = yes" "socket_group = none" >> "$E2E_T/setup.tap"
if grep -q '^not ok' "$E2E_T/setup.tap"; then cat "$E2E_T/setup.tap" >&2; exit 1; fi

# run SOCKET [DOMAIN [DEPTH]]: RUNS runs of SECS s; prints the median qps and the non-OK count
run() {
	for _ in $(seq "$RUNS"); do
		"$BUILD/bench/smclient" -s "$1" -c 8 -p "${3:-1}" -t "$SECS" -d "${2:-stsok.example}"
	done > "$E2E_T/runs"
	awk '{ print $10 }' "$E2E_T/runs" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
	awk '{ b += $12 } END { print b + 0 }' "$E2E_T/runs"
}
# line LABEL QPS BAD [PEER_QPS]: one result, with its ratio to the peer's
line() {
	printf '  %-32s %9s qps  (%s not OK)' "$1" "$2" "$3"
	awk -v a="$2" -v b="${4:-0}" 'BEGIN { if (b > 0) printf "  %5.1f x mta-sts-daemon", a / b }'
	printf '\n'
}
{ read -r dq; read -r dbad; } < <(run "$SM")
{ read -r pq; read -r pbad; } < <(run "$E2E_T/peer.sock")
{ read -r aq; read -r abad; } < <(run "$SMA")
{ read -r bq; read -r bbad; } < <(run "$SM" secure.example)
{ read -r dq16; read -r dbad16; } < <(run "$SM" stsok.example 16)
{ read -r pq16; read -r pbad16; } < <(run "$E2E_T/peer.sock" stsok.example 16)
{ read -r aq16; read -r abad16; } < <(run "$SMA" stsok.example 16)
printf 'sts socketmap, warm cache, 8 connections, %s runs of %s s (medians)\n' "$RUNS" "$SECS"
printf ' request/response (as Postfix asks):\n'
line "danepold" "$dq" "$dbad" "$pq"
line "mta-sts-daemon" "$pq" "$pbad"
line "danepold, audit log on" "$aq" "$abad" "$pq"
line "danepold, a DANE domain" "$bq" "$bbad"
printf ' pipelined, 16 requests outstanding per connection (Postfix does not pipeline):\n'
line "danepold" "$dq16" "$dbad16" "$pq16"
line "mta-sts-daemon" "$pq16" "$pbad16"
line "danepold, audit log on" "$aq16" "$abad16" "$pq16"
