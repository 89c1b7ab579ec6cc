#!/usr/bin/env bash
# tests/danepol/tlsa.sh - `danepol tlsa` against two independent oracles and
# hostile input.
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT):
#   WORLD_DIR  the offline world of tools/mkworld.sh (its pki/: ee, ca, ss,
#              probe, expired certificates and keys); missing: skipped (77)
#   DANEPOL    the danepol binary under test
#   TOP_SRCDIR source tree (for doc/tlsa.schema.json)
#
# Oracles (Debian packages): hash-slinger's `tlsa --create --certificate`
# and ldnsutils' `ldns-dane -c FILE create`. For every world certificate the
# association data of 3 1 1, 3 1 2 and 3 0 1, and for the CA the 2 1 1 (and
# 2 1 2) that danepol finds as the issuer of the chain, must equal both
# oracles' (case-insensitive hex). A missing oracle is a failure, not a
# skip: tools/setup.sh installs both. Then: keys (private, public),
# --next, --json against the schema (python3-jsonschema), the CA-not-in-
# chain warning, hostile files (garbage, mismatched key, empty, 10 MB, only
# CRLs, 17 certificates: exit 65 with the file named; unreadable: 66; no
# core) and --server/--connect against tests/danepol/tlsserv on loopback
# (STARTTLS; an ephemeral port; a closed port gives 69).
# Ends with "N passed, M failed"; exit 0 when nothing failed.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOL=${DANEPOL:-./danepol}
TLSSERV=${TLSSERV:-$(dirname "$DANEPOL")/tests/danepol/tlsserv}
SCHEMA=$TOP_SRCDIR/doc/tlsa.schema.json

if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR/pki" ]; then
	echo "SKIP: WORLD_DIR unset or without pki/ (run through make check)"
	exit 77
fi
PKI=$WORLD_DIR/pki

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/danepol-tlsa.XXXXXX") || { echo "mktemp failed"; exit 1; }
TSPID=
# shellcheck disable=SC2317  # called from the trap
cleanup() {
	if [ -n "$TSPID" ]; then kill "$TSPID" 2>/dev/null; wait "$TSPID" 2>/dev/null; fi
	rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1
ulimit -c unlimited 2>/dev/null || true

lower() { tr 'A-F' 'a-f'; }
# danepol's data of the first record of type "U S M" for FILE (ARGS before HOST)
dp() {	# FILE U S M [ARGS...]
	local f=$1 u=$2 s=$3 m=$4
	shift 4
	"$DANEPOL" tlsa -c "$f" --record "$u$s$m" "$@" mx.example 2> "$T/dp.err" |
		awk -v r="$u $s $m" '$4 == "TLSA" && ($5 " " $6 " " $7) == r { print $8; exit }' | lower
}
# hash-slinger: tlsa --create prints "_25._tcp.HOST. IN TLSA U S M hex"
hs() {	# FILE U S M
	tlsa --create --certificate "$1" --usage "$2" --selector "$3" --mtype "$4" \
		--port 25 mx.example 2> /dev/null | awk '$3 == "TLSA" { print $7; exit }' | lower
}
# ldns-dane: no name check (-n), no PKIX for DANE-TA (-s); prints
# "_25._tcp.HOST.<tab>TTL<tab>IN<tab>TLSA<tab>U S M hex"
ld() {	# FILE U S M
	ldns-dane -n -s -c "$1" create mx.example 25 "$2" "$3" "$4" 2> /dev/null |
		awk '$4 == "TLSA" { print $8; exit }' | lower
}

# ---------------------------------------------------------------- oracles
have_hs=0 have_ld=0
command -v tlsa > /dev/null 2>&1 && have_hs=1
command -v ldns-dane > /dev/null 2>&1 && have_ld=1
check "hash-slinger's tlsa is installed (tools/setup.sh deps)" [ "$have_hs" = 1 ]
check "ldnsutils' ldns-dane is installed (tools/setup.sh deps)" [ "$have_ld" = 1 ]

compared=0 equal=0
oracle() {	# DESC DANEPOL_DATA ORACLE_FILE U S M
	local desc=$1 got=$2 f=$3 u=$4 s=$5 m=$6 h l
	h=$( [ "$have_hs" = 1 ] && hs "$f" "$u" "$s" "$m")
	l=$( [ "$have_ld" = 1 ] && ld "$f" "$u" "$s" "$m")
	compared=$((compared + 1))
	if [ -n "$got" ] && [ "$got" = "$h" ] && [ "$got" = "$l" ]; then
		equal=$((equal + 1))
		ok "$desc: danepol = hash-slinger = ldns-dane"
	else
		not_ok "$desc: danepol = hash-slinger = ldns-dane" "danepol     '$got'" \
			"hash-slinger '$h'" "ldns-dane    '$l'"
	fi
}
for c in ee ca ss probe expired; do
	for r in "3 1 1" "3 1 2" "3 0 1"; do
		# shellcheck disable=SC2086  # r is "U S M"
		oracle "$c.crt $r" "$(dp "$PKI/$c.crt" $r)" "$PKI/$c.crt" $r
	done
done
# DANE-TA: danepol takes the issuer from the chain; the oracles get the CA
for chain in ee-chain probe-chain expired-chain; do
	for r in "2 1 1" "2 1 2" "2 0 1"; do
		# shellcheck disable=SC2086
		oracle "$chain.crt issuer $r" "$(dp "$PKI/$chain.crt" $r)" "$PKI/ca.crt" $r
	done
done
# the same from a DER certificate
openssl x509 -in "$PKI/ee.crt" -outform DER -out "$T/ee.der"
oracle "ee.der 3 1 1" "$(dp "$T/ee.der" 3 1 1)" "$PKI/ee.crt" 3 1 1
echo "# oracle comparison: $equal of $compared records equal"
check_eq "every oracle comparison equal" "$equal/$compared" "$compared/$compared"

# ---------------------------------------------------------------- defaults
"$DANEPOL" tlsa -c "$PKI/ee-chain.crt" mx1.example.org MX2.Example.ORG. > out 2> err
check_eq "chain: exit 0" "$?" 0
ee311=$(tr 'a-f' 'A-F' < "$PKI/ee.spki")
ca211=$(tr 'a-f' 'A-F' < "$PKI/ca.spki")
check_eq "chain: 3 1 1 + 2 1 1 for each host, zone-file lines" "$(cat out)" \
"_25._tcp.mx1.example.org. 3600 IN TLSA 3 1 1 $ee311
_25._tcp.mx1.example.org. 3600 IN TLSA 2 1 1 $ca211
_25._tcp.mx2.example.org. 3600 IN TLSA 3 1 1 $ee311
_25._tcp.mx2.example.org. 3600 IN TLSA 2 1 1 $ca211"
check_eq "chain: nothing on stderr" "$(cat err)" ""
"$DANEPOL" tlsa -c "$PKI/ee-chain.crt" --ee-only --ttl 300 -p 465 mx1.example.org > out 2> err
check_eq "--ee-only --ttl --port" "$(cat out)" "_465._tcp.mx1.example.org. 300 IN TLSA 3 1 1 $ee311"
"$DANEPOL" tlsa -c "$PKI/ee-chain.crt" --sha512 mx1.example.org > out 2> err
check_eq "--sha512: 3 1 1, 3 1 2, 2 1 1, 2 1 2" "$(awk '{ print $5 $6 $7 }' out | tr '\n' ' ')" \
	"311 312 211 212 "

# the CA only in a store: the record, and the warning that the server must send it
"$DANEPOL" tlsa -c "$PKI/ee.crt" --ca-file "$PKI/ca.crt" mx1.example.org > out 2> err
check_eq "CA from --ca-file: exit 0" "$?" 0
check_eq "CA from --ca-file: 2 1 1 given" "$(awk '$5 == 2 { print $8 }' out)" "$ca211"
check_match "CA from --ca-file: warning that the server must send it" "$(cat err)" \
	"not in .*ee\.crt.*must send it in its chain"
"$DANEPOL" tlsa -c "$PKI/ee.crt" --ca-file "$PKI/ss.crt" mx1.example.org > out 2> err
check_eq "issuer unknown: only 3 1 1" "$(awk '{ print $5 $6 $7 }' out)" 311
check_match "issuer unknown: said on stderr" "$(cat err)" "known neither from"
"$DANEPOL" tlsa -c "$PKI/ss.crt" mx1.example.org > out 2> err
check_eq "self-signed: only 3 1 1" "$(awk '{ print $5 $6 $7 }' out)" 311
check_match "self-signed: said on stderr" "$(cat err)" "self-signed"

# ---------------------------------------------------------------- keys, --next
"$DANEPOL" tlsa -k "$PKI/ee.key" mx1.example.org > out 2> err
check_eq "private key file: its 3 1 1" "$(cat out)" "_25._tcp.mx1.example.org. 3600 IN TLSA 3 1 1 $ee311"
openssl pkey -in "$PKI/ee.key" -pubout -out "$T/ee.pub" 2> /dev/null
"$DANEPOL" tlsa -k "$T/ee.pub" --ee-only mx1.example.org > out 2> err
check_eq "public key file: its 3 1 1" "$(cat out)" "_25._tcp.mx1.example.org. 3600 IN TLSA 3 1 1 $ee311"
"$DANEPOL" tlsa -k "$T/ee.pub" --record 301 mx1.example.org > out 2> err
check_eq "3 0 1 of a bare key: exit 65" "$?" 65
ss311=$(tr 'a-f' 'A-F' < "$PKI/ss.spki")
"$DANEPOL" tlsa -c "$PKI/ee-chain.crt" --next "$PKI/ss.key" mx1.example.org > out 2> err
check_eq "--next: current, next, issuer (3 1 1 + 3 1 1)" "$(awk '{ print $5 $6 $7 " " $8 }' out)" \
"311 $ee311
311 $ss311
211 $ca211"
"$DANEPOL" tlsa -c "$PKI/ee-chain.crt" --next "$PKI/ss.crt" --json mx1.example.org > out.json 2> err
check_eq "--json: exit 0" "$?" 0
check_eq "--json: what current/next/issuer" \
	"$(python3 -c 'import json,sys; print(" ".join(r["what"] for r in json.load(open(sys.argv[1]))))' out.json)" \
	"current next issuer"
if python3 -c 'import jsonschema' 2> /dev/null; then
	check "--json validates against doc/tlsa.schema.json" python3 -c '
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' "$SCHEMA" out.json
else
	not_ok "python3-jsonschema is not installed (tools/setup.sh deps)"
fi

# ---------------------------------------------------------------- hostile input
hostile() {	# DESC FILE WANT_EXIT ERE
	local desc=$1 f=$2 want=$3 ere=$4 rc
	rm -f core core.*
	"$DANEPOL" tlsa -c "$f" mx1.example.org > out 2> err
	rc=$?
	check_eq "$desc: exit $want" "$rc" "$want"
	check_match "$desc: message names the file and the reason" "$(cat err)" "$ere"
	check_eq "$desc: nothing on stdout" "$(cat out)" ""
	check "$desc: no core" [ -z "$(ls core core.* 2> /dev/null)" ]
}
head -c 4096 /dev/urandom > garbage.bin
printf 'hello, this is not a certificate\n' > garbage.txt
cat "$PKI/ee.crt" "$PKI/ss.key" > mismatch.pem
: > empty.pem
head -c 10000000 /dev/zero > big.pem
printf -- '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n' > crl.pem
for _ in $(seq 17); do cat "$PKI/ee.crt"; done > many.pem
sed 's/^MII/MIX/' "$PKI/ee.crt" > broken.pem
hostile "garbage (binary)" garbage.bin 65 "garbage\.bin: .*(neither PEM|not a valid)"
hostile "garbage (text)" garbage.txt 65 "garbage\.txt: neither PEM"
hostile "key not matching the certificate" mismatch.pem 65 "mismatch\.pem: the private key does not belong"
hostile "empty file" empty.pem 65 "empty\.pem: empty file"
hostile "10 MB file" big.pem 65 "big\.pem: too large"
hostile "only a CRL" crl.pem 65 "crl\.pem: no certificate or key, only other PEM blocks \(X509 CRL\)"
hostile "17 certificates" many.pem 65 "many\.pem: more than 16 certificates"
hostile "broken base64" broken.pem 65 "broken\.pem: "
hostile "missing file" "$T/nonexistent.pem" 66 "nonexistent\.pem: cannot be read"
"$DANEPOL" tlsa -c "$PKI/ee.key" mx1.example.org > out 2> err
check_eq "-c with a key file: exit 65" "$?" 65
check_match "-c with a key file: says use -k" "$(cat err)" "use -k"
"$DANEPOL" tlsa -c "$PKI/ee.crt" -k "$PKI/ee.key" mx1.example.org > /dev/null 2> err
check_eq "two inputs: usage 64" "$?" 64
"$DANEPOL" tlsa -c "$PKI/ee.crt" > /dev/null 2> err
check_eq "no host: usage 64" "$?" 64
"$DANEPOL" tlsa -c "$PKI/ee.crt" 'bad..name' > /dev/null 2> err
check_eq "bad host name: usage 64" "$?" 64
"$DANEPOL" tlsa -c "$PKI/ee.crt" --next big.pem mx1.example.org > /dev/null 2> err
check_eq "--next 10 MB file: exit 65" "$?" 65

# ---------------------------------------------------------------- live server
if [ -x "$TLSSERV" ]; then
	"$TLSSERV" -a 127.0.0.1 -p 0 -c "$PKI/probe-chain.crt" -k "$PKI/probe.key" \
		> ts.out 2> ts.err &
	TSPID=$!
	if wait_for 5 grep -q '^PORT ' ts.out; then
		port=$(awk '/^PORT / { print $2 }' ts.out)
		pr311=$(tr 'a-f' 'A-F' < "$PKI/probe.spki")
		"$DANEPOL" tlsa --connect "127.0.0.1:$port" mx.pta.example > out 2> err
		check_eq "--connect: exit 0" "$?" 0
		check_eq "--connect: the served chain's 3 1 1 + 2 1 1" "$(cat out)" \
"_25._tcp.mx.pta.example. 3600 IN TLSA 3 1 1 $pr311
_25._tcp.mx.pta.example. 3600 IN TLSA 2 1 1 $ca211"
		"$DANEPOL" tlsa -s "localhost:$port" --ee-only mx.pta.example > out 2> err
		check_eq "--server localhost:PORT: 3 1 1" "$(cat out)" \
			"_25._tcp.mx.pta.example. 3600 IN TLSA 3 1 1 $pr311"
		kill "$TSPID" 2> /dev/null
		wait "$TSPID" 2> /dev/null
		TSPID=
		"$DANEPOL" tlsa --connect "127.0.0.1:$port" mx.pta.example > out 2> err
		check_eq "--connect to a closed port: exit 69" "$?" 69
		check_match "--connect to a closed port: says why" "$(cat err)" "no TLS session"
	else
		not_ok "tlsserv did not start" "$(cat ts.err)"
	fi
else
	not_ok "tests/danepol/tlsserv not built ($TLSSERV)"
fi

finish
