# tests/danepol/lib_ocsp.sh - OCSP staples and TLS test servers shared by
# tests/danepol/probe.sh and tests/danepol/selfcheck.sh (sourced after
# tests/e2e/lib_delivery.sh's set-up: needs E2E_T, E2E_PIDS, e2e_wait,
# TLSSERV, and PKI, the world's pki/ copied with private keys).
#
# make_ocsp: OCSP responses for probe.crt (serial 03) in $O ($E2E_T/ocsp):
# good, revoked, expired (nextUpdate passed: faketime), early (a
# responder certificate valid 1 day, the staple 7 days), rogue (an
# untrusted responder), garbage.
# tlsserv NAME ARGS...: a tests/danepol/tlsserv on 127.0.0.19 presenting
# probe-chain.crt; its port in TS_PORT[NAME].
# shellcheck shell=bash

O=$E2E_T/ocsp
mkdir -p "$O"
make_ocsp() {
	cd "$O" || return 1
	printf '%s\n' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature' \
		'extendedKeyUsage = OCSPSigning' > ocsp.ext
	for r in resp short; do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $r.key 2> /dev/null || return 1
		openssl req -new -key $r.key -subj "/CN=danepol test OCSP $r" -out $r.csr 2> /dev/null || return 1
	done
	openssl x509 -req -in resp.csr -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -set_serial 100 -days 30 \
		-extfile ocsp.ext -out resp.crt 2> /dev/null || return 1
	openssl x509 -req -in short.csr -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -set_serial 101 -days 1 \
		-extfile ocsp.ext -out short.crt 2> /dev/null || return 1
	openssl req -x509 -new -key short.key -subj "/CN=rogue responder" -days 30 \
		-addext extendedKeyUsage=OCSPSigning -out rogue.crt 2> /dev/null || return 1
	local exp rev
	exp=$(date -u -d '+1 year' +%y%m%d%H%M%SZ)
	rev=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
	printf 'V\t%s\t\t03\tunknown\t/CN=mx.pta.example\n' "$exp" > good.idx
	printf 'R\t%s\t%s,keyCompromise\t03\tunknown\t/CN=mx.pta.example\n' "$exp" "$rev" > revoked.idx
	openssl ocsp -issuer "$PKI/ca.crt" -cert "$PKI/probe.crt" -no_nonce -reqout req.der 2> /dev/null || return 1
	# NAME INDEX SIGNER KEY DAYS [FAKETIME]
	resp() { ${6:+faketime "$6"} openssl ocsp -index "$2" -rsigner "$3" -rkey "$4" -CA "$PKI/ca.crt" \
		-reqin req.der -ndays "$5" -respout "$1.der" > /dev/null 2>&1; }
	resp good good.idx resp.crt resp.key 7 &&
		resp revoked revoked.idx resp.crt resp.key 7 &&
		resp expired good.idx resp.crt resp.key 1 '-10 days' &&
		resp early good.idx short.crt short.key 7 &&
		resp rogue good.idx rogue.crt short.key 7 || return 1
	head -c 300 /dev/urandom > garbage.der
	cd - > /dev/null || return 1
}

# tlsserv instances on 127.0.0.19: NAME -> port.
declare -A TS_PORT
tlsserv() {	# NAME ARGS...
	local name=$1 pid
	shift
	"$TLSSERV" -a 127.0.0.19 -p 0 -c "$PKI/probe-chain.crt" -k "$PKI/probe.key" "$@" \
		> "$E2E_T/ts-$name.out" 2> "$E2E_T/ts-$name.err" &
	pid=$!
	E2E_PIDS+=("$pid")
	e2e_wait 5000 grep -q '^PORT ' "$E2E_T/ts-$name.out" || return 1
	TS_PORT[$name]=$(awk '/^PORT / { print $2 }' "$E2E_T/ts-$name.out")
}
