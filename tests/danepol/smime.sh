#!/usr/bin/env bash
# tests/danepol/smime.sh - the S/MIME signer check end to end through
# `danepol smime` (the milter's check, smime/smime.h) and `danepol smimea`,
# against the offline world: real DNSSEC-signed SMIMEA records, messages
# signed with `openssl cms`, a real OCSP responder (`openssl ocsp`) on
# loopback.
#
# Environment (make check): WORLD_DIR, FAULTDNS, DANEPOL, TOP_SRCDIR.
# Runs in a network namespace of its own (unshare -n, loopback up): the
# responder listens on the port the world's certificates name (8888), and
# parallel tests never see it. Needs root for that: CI runs as root; a
# user run skips (77).
#
# Cases: pass through the domain-wide DANE-TA anchor (detached and
# opaque); pass through a per-user DANE-EE record; the exact name first,
# then the wildcard (erin); no OCSP responder in the certificate (frank);
# revoked (carol); responder down (temperror, exit 75); tampered body;
# signer under another CA (mallory); an unsigned zone (neutral); From:
# mismatch; no signature (none); SMIMEA lookup SERVFAIL (temperror);
# hostile MIME: deep nesting, too many parts, huge message, broken
# base64, a truncated CMS structure (permerror or neutral, never a crash);
# the report JSON against doc/audit.schema.json's smime member; the
# records `danepol smimea` makes equal the world's published ones, and
# doc/smime.md's generation commands run as written.
# Ends with "N passed, M failed".
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOL=${DANEPOL:-./danepol}
case $DANEPOL in /*) ;; *) DANEPOL=$PWD/$DANEPOL ;; esac

if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR/pki/smime" ]; then
	echo "SKIP: WORLD_DIR unset or without pki/smime (run through make check)"
	exit 77
fi
if [ -z "${SMIME_NETNS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare > /dev/null; then
		echo "SKIP: needs root and unshare for a private network namespace"
		exit 77
	fi
	SMIME_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up || { echo "not ok 1 - loopback up in the namespace"; exit 1; }

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

P=$WORLD_DIR/pki/smime
T=$(mktemp -d "${TMPDIR:-/tmp}/danepol-smime.XXXXXX") || exit 1
FPID= OPID=
# shellcheck disable=SC2317  # called from the trap
cleanup() {
	[ -n "$OPID" ] && kill "$OPID" 2>/dev/null && wait "$OPID" 2>/dev/null
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null && wait "$FPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# ---------------------------------------------------------------- set-up
mapfile -t FAULTS < <(awk '!/^#/ && NF == 2 { print $1 "=" $2 }' "$WORLD_DIR/fault-zones")
coproc FAULT { exec "$FAULTDNS" -p 0 "${FAULTS[@]}"; }
FPID=$FAULT_PID
read -r -t 10 word PORT <&"${FAULT[0]}" || word=
[ "$word" = PORT ] || { not_ok "fault responder started"; finish; }
{
	cat "$WORLD_DIR/world.conf"
	for z in "${FAULTS[@]}"; do
		printf 'stub-zone:\n\tname: "%s."\n\tstub-addr: 127.0.0.1@%s\n' "${z%%=*}" "$PORT"
	done
} > "$T/unbound.conf"
CONF=$T/danepol.conf
cat > "$CONF" <<CONF
trust_anchor = $(cat "$WORLD_DIR/root.ds")
resolver_config = $T/unbound.conf
resolver_max_rtt = 5s
smime_authserv_id = mx.test
smime_timeout = 3s
smime_ocsp_timeout = 2s
smime_max_message = 200000
smime_max_depth = 6
smime_max_parts = 40
smime_ocsp_internal = yes
CONF
grep -v '^smime_ocsp_internal' "$CONF" > "$T/strict.conf"

ocsp_start() {
	openssl ocsp -index "$P/index.txt" -port 8888 -rsigner "$P/ocsp.crt" -rkey "$P/ocsp.key" \
		-CA "$P/users.crt" -nmin 60 > "$T/ocsp.log" 2>&1 &
	OPID=$!
	# its "waiting" line comes once it listens; a probe connection would
	# hang it (OpenSSL 3.0's responder waits forever on a client that
	# closes without a request)
	wait_for 10 grep -q "waiting for OCSP client connections" "$T/ocsp.log"
}
ocsp_stop() { kill "$OPID" 2> /dev/null; wait "$OPID" 2> /dev/null; OPID=; }

# sign NAME FROM [cms options...] > message: a message signed by NAME
sign() {
	local who=$1 from=$2
	shift 2
	printf 'Hello from %s.\r\nThis line is signed.\r\n' "$who" > "$T/body.txt"
	openssl cms -sign -in "$T/body.txt" -text -signer "$P/$who.crt" -inkey "$P/$who.key" \
		-certfile "$P/users.crt" -from "$from" -to rcpt@mx.test -subject "from $who" "$@"
}

# run FILE: danepol smime on it; sets RC, AR (the header line), J (the JSON)
run() {
	"$DANEPOL" -c "$CONF" smime "$1" > "$T/ar" 2> "$T/err"
	RC=$?
	AR=$(tr '\n\t' '  ' < "$T/ar")
	J=$("$DANEPOL" -c "$CONF" smime --json "$1" 2> /dev/null)
}
jget() { printf '%s' "$J" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1'))"; }

# expect DESC FILE RESULT EXIT [ERE on the reason]
expect() {
	run "$2"
	check_eq "$1: smime=$3 (exit $4)" "$(jget result) $RC" "$3 $4"
	if [ -n "${5:-}" ]; then check_match "$1: reason" "$(jget reason)" "$5"; fi
	check_match "$1: header" "$AR" "^Authentication-Results: mx\.test;  smime=$3 "
}

# ---------------------------------------------------------------- records
"$DANEPOL" smimea --domain smime.example "$P/users.crt" > "$T/rec" 2> "$T/err"
check_eq "smimea --domain: the domain-wide DANE-TA record as published" "$(cat "$T/rec")" \
	"*._smimecert.smime.example. IN SMIMEA 2 1 1 $(tr a-f A-F < "$P/users.spki")"
"$DANEPOL" smimea --address bob@smime.example "$P/bob.crt" > "$T/rec" 2> "$T/err"
check_eq "smimea --address: bob's DANE-EE record as published" "$(cat "$T/rec")" \
	"$(cat "$P/bob.owner")._smimecert.smime.example. IN SMIMEA 3 1 1 $(tr a-f A-F < "$P/bob.spki")"
"$DANEPOL" smimea --address 'no-at-sign' "$P/bob.crt" > /dev/null 2> "$T/err"
check_eq "smimea: an address without @ is a data error (65)" "$?" 65
"$DANEPOL" smimea --domain smime.example /nonexistent > /dev/null 2> "$T/err"
check_eq "smimea: a missing certificate file is a data error (65)" "$?" 65
"$DANEPOL" smimea --domain a.example --address b@a.example "$P/bob.crt" > /dev/null 2>&1
check_eq "smimea: --domain and --address together is a usage error" "$?" 64

# doc/smime.md's generation commands, as written (the files swapped for
# the world's), print the records the doc shows next
awk '/<!-- snippet: sh smimea -->/ { m = 1; next }
	m == 1 && /^```/ { m = 2; next } m == 2 && /^```/ { m = 3; next } m == 2 { print > "'"$T"'/doc.sh" }
	m == 3 && /^```/ { m = 4; next } m == 4 && /^```/ { exit } m == 4 { print > "'"$T"'/doc.want" }' \
	"$TOP_SRCDIR/doc/smime.md"
if [ -s "$T/doc.sh" ] && [ -s "$T/doc.want" ]; then
	sed -e "s|^danepol |\"$DANEPOL\" |" -e "s|/etc/ssl/users-ca.pem|$P/users.crt|" \
		-e "s|/etc/ssl/alice.pem|$P/alice.crt|" "$T/doc.sh" > "$T/doc.run"
	bash -e "$T/doc.run" > "$T/doc.got" 2> "$T/err"
	# the world's keys are made anew with it: the doc shows one world's
	# digests, so those are swapped for this world's before comparing
	awk -v u="$(tr a-f A-F < "$P/users.spki")" -v a="$(tr a-f A-F < "$P/alice.spki")" \
		'NR == 1 { $NF = u } NR == 2 { $NF = a } { print }' "$T/doc.want" > "$T/doc.want2"
	check_eq "doc/smime.md: danepol smimea as written prints the records shown" \
		"$(cat "$T/doc.got")" "$(cat "$T/doc.want2")"
else
	not_ok "doc/smime.md has the 'sh smimea' snippet and its output"
fi

# ---------------------------------------------------------------- results
ocsp_start || not_ok "OCSP responder listening on 127.0.0.1:8888" "$(cat "$T/ocsp.log")"

sign alice alice@smime.example > "$T/alice.eml"
expect "alice, detached, DANE-TA anchor" "$T/alice.eml" pass 0 "OCSP good; SMIMEA 2 1 1 "
check_match "alice: identifier and serial in the header" "$AR" \
	"smime\.smime-identifier=alice@smime\.example .*smime\.smime-serial="
check_eq "alice: detached kind, DNSSEC secure" "$(jget kind) $(jget dnssec)" "detached secure"

sign alice alice@smime.example -nodetach > "$T/alice-opaque.eml"
expect "alice, opaque signed-data" "$T/alice-opaque.eml" pass 0

sign bob bob@smime.example > "$T/bob.eml"
expect "bob, per-user DANE-EE record" "$T/bob.eml" pass 0 "SMIMEA 3 1 1 "

sign erin erin@smime.example > "$T/erin.eml"
expect "erin: own record does not match, the domain's anchor does" "$T/erin.eml" pass 0 \
	"_smimecert\.smime\.example"
check_eq "erin: the wildcard's record matched" "$(jget smimea)" "*._smimecert.smime.example."

sign frank frank@smime.example > "$T/frank.eml"
expect "frank: no OCSP responder named" "$T/frank.eml" pass 0 "names no responder"

sign carol carol@smime.example > "$T/carol.eml"
expect "carol: revoked" "$T/carol.eml" fail 2 "revoked"

sed 's/This line is signed/This line is CHANGED/' "$T/alice.eml" > "$T/tampered.eml"
expect "tampered body" "$T/tampered.eml" fail 2 "signature does not verify"

sign mallory mallory@smime.example > "$T/mallory.eml"
expect "mallory: signer under another CA" "$T/mallory.eml" fail 2 "not under the SMIMEA"

sign alice bob@smime.example > "$T/mismatch.eml"
expect "From: bob, signed by alice" "$T/mismatch.eml" fail 2 "not for the From: address"

sign dave dave@unsigned.example > "$T/dave.eml"
expect "dave: unsigned zone, no DNSSEC" "$T/dave.eml" neutral 1 "insecure"

sign alice x@servfail.example > "$T/servfail.eml"
expect "From: a domain whose SMIMEA lookup fails" "$T/servfail.eml" temperror 75 "failed"

printf 'From: a@smime.example\r\nSubject: plain\r\n\r\nno signature\r\n' > "$T/plain.eml"
expect "no signature" "$T/plain.eml" none 1

"$DANEPOL" -c "$T/strict.conf" smime --json "$T/alice.eml" > "$T/strict.json" 2> "$T/err"
rc=$?
J=$(cat "$T/strict.json")
check_eq "smime_ocsp_internal = no: a responder on 127.0.0.1 is never asked (temperror)" \
	"$(jget result) $rc" "temperror 75"
check_match "smime_ocsp_internal = no: the reason says why" "$(jget reason)" \
	"internal 127\.0\.0\.1.* refused"

ocsp_stop
expect "alice with the OCSP responder down" "$T/alice.eml" temperror 75 "OCSP"

# ---------------------------------------------------------------- hostile
{
	printf 'From: a@smime.example\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n'
	for i in $(seq 0 19); do
		printf -- '--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n' "$i" $((i + 1))
	done
} > "$T/deep.eml"
expect "20 nested multiparts (smime_max_depth 6)" "$T/deep.eml" permerror 2 "nest|deep"

{
	printf 'From: a@smime.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n'
	for i in $(seq 1 60); do printf -- '--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n' "$i"; done
	printf -- '--b--\r\n'
} > "$T/parts.eml"
expect "60 parts (smime_max_parts 40)" "$T/parts.eml" permerror 2 "part"

{ cat "$T/alice.eml"; head -c 300000 /dev/zero | tr '\0' 'x'; } > "$T/huge.eml"
expect "a message over smime_max_message" "$T/huge.eml" neutral 1 "smime_max_message"

sed '/^MII/s/^MII/!!!/' "$T/alice-opaque.eml" > "$T/b64.eml"
expect "broken base64" "$T/b64.eml" permerror 2 "base64"

awk 'BEGIN{n=0} /^$/ && !n {n=1; print; next} n==1 && /^[A-Za-z0-9+\/=]+$/ {c++; if (c > 3) exit} {print}' \
	"$T/alice-opaque.eml" > "$T/trunc.eml"
expect "a truncated CMS structure" "$T/trunc.eml" permerror 2

head -c 4096 /dev/urandom > "$T/junk.eml"
"$DANEPOL" -c "$CONF" smime "$T/junk.eml" > /dev/null 2>&1
rc=$?
check "random bytes: a result, no crash (exit $rc)" test "$rc" -le 2 -o "$rc" = 75

# ---------------------------------------------------------------- JSON
if python3 -c 'import jsonschema' 2> /dev/null; then
	run "$T/alice.eml"
	printf '%s' "$J" | python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
sub = schema["$defs"]["smime"]["properties"]["smime"]
jsonschema.validate(json.load(sys.stdin), sub)
' "$TOP_SRCDIR/doc/audit.schema.json" 2> "$T/js" && ok "report JSON matches audit.schema.json" ||
		not_ok "report JSON matches audit.schema.json" "$(tail -3 "$T/js")"
else
	ok "report JSON: python3-jsonschema not installed, structure checked above"
fi

finish
