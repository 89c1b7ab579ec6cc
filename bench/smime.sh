#!/bin/bash
# bench/smime.sh [RUNS] - the cost of one S/MIME signer check in process
# (bench/smimebench over smime/smime.h), warm caches, one thread:
#   alice-detached   multipart/signed, 3 KB, pass (DANE-TA, OCSP cached)
#   alice-opaque     pkcs7-mime signed-data, pass
#   bob-detached     per-user DANE-EE record, pass
#   unsigned         1 KB text, none
#   big-signed       alice-signed 9 MB body (MIME walk, base64, digest)
#   tampered         a changed body line, fail
# Runs in a private network namespace (unshare -n) with `openssl ocsp` on
# the port the world's certificates name. Needs root, BUILD (a build
# directory after `make check` made the world, and `make bench`).
set -eu
RUNS=${1:-200}
: "${BUILD:?BUILD unset}"
BUILD=$(cd "$BUILD" && pwd)
W=$BUILD/tests/world/out
P=$W/pki/smime
if [ -z "${SMIME_BENCH_NS:-}" ]; then
	SMIME_BENCH_NS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
T=$(mktemp -d /tmp/smimebench.XXXXXX)
OPID=
trap '[ -n "$OPID" ] && kill "$OPID" 2>/dev/null; rm -rf "$T"' EXIT
openssl ocsp -index "$P/index.txt" -port 8888 -rsigner "$P/ocsp.crt" -rkey "$P/ocsp.key" \
	-CA "$P/users.crt" -nmin 60 > "$T/ocsp.log" 2>&1 &
OPID=$!
for _ in $(seq 100); do grep -q "waiting for OCSP" "$T/ocsp.log" && break; sleep 0.05; done
cat > "$T/danepol.conf" <<CONF
trust_anchor = $(cat "$W/root.ds")
resolver_config = $W/world.conf
smime_ocsp_internal = yes
smime_max_message = 20000000
CONF
sign() { # NAME FROM BODYFILE [opts]
	local who=$1 from=$2 body=$3
	shift 3
	openssl cms -sign -in "$body" -text -signer "$P/$who.crt" -inkey "$P/$who.key" \
		-certfile "$P/users.crt" -from "$from" -to r@mx.test -subject bench "$@"
}
printf 'Hello.\r\nA signed line.\r\n' > "$T/body.txt"
sign alice alice@smime.example "$T/body.txt" > "$T/alice-detached"
sign alice alice@smime.example "$T/body.txt" -nodetach > "$T/alice-opaque"
sign bob bob@smime.example "$T/body.txt" > "$T/bob-detached"
{ printf 'From: a@smime.example\r\nSubject: plain\r\n\r\n'; head -c 1000 /dev/zero | tr '\0' 'x'; printf '\r\n'; } > "$T/unsigned"
head -c 9000000 /dev/urandom | base64 -w 76 | sed 's/$/\r/' > "$T/big.txt"
sign alice alice@smime.example "$T/big.txt" > "$T/big-signed"
sed 's/A signed line/A CHANGED line/' "$T/alice-detached" > "$T/tampered"
"$BUILD/bench/smimebench" "$T/danepol.conf" "$RUNS" "$T/alice-detached" "$T/alice-opaque" \
	"$T/bob-detached" "$T/unsigned" "$T/tampered"
"$BUILD/bench/smimebench" "$T/danepol.conf" $(( RUNS / 20 > 3 ? RUNS / 20 : 3 )) "$T/big-signed"
