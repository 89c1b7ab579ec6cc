#!/usr/bin/env bash
# tools/demo.sh [BUILDDIR] - the main job on the embedded offline demo world.
#
# Generates the DNSSEC-signed demo world (tools/mkworld.sh: a fake root,
# example., and children that are secure, insecure, bogus, expired,
# tampered, CNAME'd, null MX, ...), starts the small fault responder for
# the black-holed / SERVFAIL / REFUSED / slow zones on 127.0.0.1, and runs
# `danepol check` over every demo domain, with a local policy table that
# makes secure.example dane-only. No network is used: libunbound loads the
# zones as auth-zones and validates them in process against the demo root.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$TOP/build}" && pwd)
W=$BUILD/demo-world
DANEPOL=$BUILD/danepol

make -C "$BUILD" -s danepol tests/world/faultdns
"$TOP/tools/mkworld.sh" "$W" >/dev/null

cleanup() { [ -n "${FPID:-}" ] && kill "$FPID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

# Fault responder: reads zone=mode pairs, prints "PORT n" once listening.
mapfile -t FAULTS < <(awk '!/^#/ && NF == 2 { print $1 "=" $2 }' "$W/fault-zones")
coproc FAULT { exec "$BUILD/tests/world/faultdns" -p 0 -s 300 "${FAULTS[@]}"; }
FPID=$FAULT_PID
read -r word PORT <&"${FAULT[0]}"
[ "$word" = PORT ] || { echo "demo: fault responder did not start" >&2; exit 1; }

{
	cat "$W/world.conf"
	for z in "${FAULTS[@]}"; do
		printf 'stub-zone:\n\tname: "%s."\n\tstub-addr: 127.0.0.1@%s\n' "${z%%=*}" "$PORT"
	done
} > "$W/demo-unbound.conf"
printf 'secure.example dane-only\n' > "$W/demo-policy"
cat > "$W/demo-danepol.conf" <<CONF
# danepol.conf for the offline demo world
trust_anchor = $(cat "$W/root.ds")
resolver_config = $W/demo-unbound.conf
policy_table = $W/demo-policy
decision_timeout = 2s
resolver_max_rtt = 1s
CONF

DOMAINS=(secure.example nsec3.example tampered.example cname.example cnameorig.example
	implicit.example mixed.example unusable.example notlsa.example insecure.example
	insecurehost.example bogus.example expired.example tlsabogus.example noaddr.example
	nullmx.example nx.example servfail.example refused.example slow.example blackhole.example
	unsignedmx.example unsignedmixed.example unsignedbogus.example crosszone.example
	bogushost.example)

cat <<INTRO
danepol demo: RFC 7672 decisions over an offline DNSSEC-signed world
(config: $W/demo-danepol.conf; secure.example is dane-only by local policy)

INTRO
rc=0
"$DANEPOL" check -c "$W/demo-danepol.conf" "${DOMAINS[@]}" || rc=$?
echo
echo "The full decision chain as JSON (danepol check --json tampered.example):"
"$DANEPOL" check -c "$W/demo-danepol.conf" --json tampered.example || true
echo
echo "danepol check exit status: $rc (0 require, 1 try, 2 defer, 3 reject: the most severe verdict)"
# The demo itself succeeded when danepol decided (exit 0-3).
[ "$rc" -le 3 ]
