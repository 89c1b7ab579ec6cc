#!/bin/sh
# tools/mkworld.sh DIR - generate danepol's offline DNSSEC test world.
#
# Writes, in about a second and without any network:
#   DIR/zones/*.zone[.signed]  a fake root ".", "example." and its children,
#                              signed with ldns-signzone (ECDSAP256SHA256,
#                              one combined KSK/ZSK per zone, signatures
#                              valid from now for 4 weeks: regenerate, never
#                              commit the output)
#   DIR/keys/                  the DNSSEC keys (K<zone>+013+<tag>.*)
#   DIR/world.conf             libunbound config: "server:" plus one
#                              auth-zone block per served zone, the root
#                              included, so no query ever leaves the process
#   DIR/root.ds                the fake root's DS: the danepol.conf
#                              "trust_anchor = ..." value (ub_ctx_add_ta)
#   DIR/root.key               the same DS as a trust anchor file
#   DIR/fault-zones            "zone mode" lines for tests/world/faultdns;
#                              the harness adds one libunbound stub-zone per
#                              line pointing at the responder's port
#   DIR/pki/                   EC P-256 test PKI: ca.crt/ca.key (CA),
#                              ee.crt/ee.key (EE for mx1.secure.example,
#                              localhost, 127.0.0.1, signed by the CA),
#                              ee-chain.crt (EE then CA), ss.crt/ss.key
#                              (self-signed), ee.spki/ca.spki (SHA-256 of
#                              the SPKI, the TLSA 3 1 1 / 2 1 1 data);
#                              for the STARTTLS probe test: probe.crt/key
#                              (signed by the CA, names mx.pta.example,
#                              mx.pnochain.example, mx.pocsp.example;
#                              probe-chain.crt), expired.crt/key (signed by
#                              the CA, valid only in January 2020, names
#                              mx.pexpta.example, mx.pexpee.example;
#                              expired-chain.crt), probe.spki, expired.spki;
#                              for the own-domain (selfcheck/rollover) tests:
#                              next.crt/next.key (self-signed, the "next"
#                              key of mx1.ownok.example), next.spki;
#                              for MTA-STS: sts.crt/key (mta-sts.<d> of
#                              the STS_WEB domains), stswrong.crt/key (a
#                              wrong name), stsexpired.crt/key (expired)
#   DIR/pki/smime/             the S/MIME PKI: users CA (the SMIMEA DANE-TA
#                              anchor), user certificates and chains, OCSP
#                              responder certificate and index.txt (see
#                              pki_smime below)
#   DIR/ownsig.expire          the RRSIG expiration of ownsig.example, Unix
#                              seconds (2 days after generation)
#   DIR/README                 what this directory is
# What each domain is for: tests/world/README.md. The expected decisions:
# tests/world/expected.tsv. Re-running into the same DIR regenerates
# everything (files this script did not write are left alone).
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 DIR" >&2
	exit 64
fi
for tool in ldns-keygen ldns-signzone openssl awk; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$0: $tool not found (ldnsutils, openssl)" >&2; exit 69; }
done

mkdir -p "$1"
DIR=$(cd "$1" && pwd)
Z=$DIR/zones
KD=$DIR/keys
PKI=$DIR/pki
rm -rf "$Z" "$KD" "$PKI" "$DIR/ownsig.expire" "$DIR/world.conf" "$DIR/root.ds" "$DIR/root.key" "$DIR/fault-zones"
mkdir -p "$Z" "$KD" "$PKI"
umask 022

# ------------------------------------------------------------------ PKI
# All EC P-256. The EE names mx1.secure.example (the TLSA 3 1 1 host) and
# the loopback names used by end-to-end TLS tests.
pki() {
	cd "$PKI"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ee.key 2>/dev/null
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ss.key 2>/dev/null
	openssl req -x509 -new -key ca.key -subj "/CN=danepol test CA" -days 3650 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt 2>/dev/null
	openssl req -new -key ee.key -subj "/CN=mx1.secure.example" -out ee.csr 2>/dev/null
	cat > ee.ext <<-EXT
	basicConstraints = critical,CA:FALSE
	keyUsage = critical,digitalSignature
	extendedKeyUsage = serverAuth
	subjectAltName = DNS:mx1.secure.example,DNS:localhost,IP:127.0.0.1,DNS:mx1.ownok.example,DNS:mx1.ownnext.example,DNS:mx1.ownsig.example,DNS:mx1.ownnotlsa.example,DNS:mx1.stsok.example
	EXT
	openssl x509 -req -in ee.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 825 \
		-extfile ee.ext -out ee.crt 2>/dev/null
	cat ee.crt ca.crt > ee-chain.crt
	openssl req -x509 -new -key ss.key -subj "/CN=mx1.secure.example" -days 825 \
		-addext "subjectAltName=DNS:mx1.secure.example,DNS:localhost,IP:127.0.0.1" \
		-out ss.crt 2>/dev/null
	rm -f ee.csr ee.ext
	for c in ee ca ss; do
		openssl x509 -in $c.crt -noout -pubkey | openssl pkey -pubin -outform DER |
			openssl dgst -sha256 -r | awk '{ print $1 }' > $c.spki
	done
	cd "$DIR"
}
pki

# The probe test's certificates (tests/danepol/probe.sh). The expired one
# is issued with `openssl ca`, the only OpenSSL 3.0 tool that backdates.
pki_probe() {
	cd "$PKI"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out probe.key 2>/dev/null
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out expired.key 2>/dev/null
	printf '%s\n' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature' \
		'extendedKeyUsage = serverAuth' \
		'subjectAltName = DNS:mx.pta.example,DNS:mx.pnochain.example,DNS:mx.pocsp.example,DNS:mx1.ownta.example' > probe.ext
	openssl req -new -key probe.key -subj "/CN=mx.pta.example" -out probe.csr 2>/dev/null
	openssl x509 -req -in probe.csr -CA ca.crt -CAkey ca.key -set_serial 3 -days 825 \
		-extfile probe.ext -out probe.crt 2>/dev/null
	cat probe.crt ca.crt > probe-chain.crt
	mkdir -p cadb
	: > cadb/index.txt
	echo 04 > cadb/serial
	printf '%s\n' '[ca]' 'default_ca = tca' '[tca]' 'database = cadb/index.txt' \
		'new_certs_dir = cadb' 'serial = cadb/serial' 'default_md = sha256' 'policy = pol' \
		'unique_subject = no' '[pol]' 'commonName = supplied' > cadb/ca.cnf
	printf '%s\n' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature' \
		'extendedKeyUsage = serverAuth' \
		'subjectAltName = DNS:mx.pexpta.example,DNS:mx.pexpee.example' > expired.ext
	openssl req -new -key expired.key -subj "/CN=mx.pexpta.example" -out expired.csr 2>/dev/null
	openssl ca -batch -notext -config cadb/ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr \
		-startdate 20200101000000Z -enddate 20200201000000Z -extfile expired.ext \
		-out expired.crt 2>/dev/null
	cat expired.crt ca.crt > expired-chain.crt
	rm -rf probe.csr probe.ext expired.csr expired.ext cadb
	for c in probe expired; do
		openssl x509 -in $c.crt -noout -pubkey | openssl pkey -pubin -outform DER |
			openssl dgst -sha256 -r | awk '{ print $1 }' > $c.spki
	done
	cd "$DIR"
}
pki_probe

# The own-domain tests' next key (tests of `danepol rollover`): a fresh
# key in a self-signed certificate for mx1.ownok.example.
pki_next() {
	cd "$PKI"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out next.key 2>/dev/null
	openssl req -x509 -new -key next.key -subj "/CN=mx1.ownok.example" -days 825 \
		-addext "subjectAltName=DNS:mx1.ownok.example,DNS:mx1.ownnext.example" \
		-out next.crt 2>/dev/null
	openssl x509 -in next.crt -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -r | awk '{ print $1 }' > next.spki
	cd "$DIR"
}
pki_next

# MTA-STS policy hosts (tests/unit/sts/test_sts_fetch.c, the STS tests):
# sts.crt names mta-sts.<d> for every d of STS_WEB, signed by the CA;
# stswrong.crt names only mta-sts.elsewhere.example (a certificate for
# the wrong name); stsexpired.crt names mta-sts.stsexpired.example and
# was valid only in January 2020.
STS_WEB="stsok stscrlf stsparam stsnoctype stsctype stsredirect stsbig stsnotfound stsslow
stsbad stsnomx stsctl stswild stsnone stsdane stsempty stsmismatch stsbogustxt stsnocert
stsexim stseximname stseximca stseximplain stseximmix"
pki_sts() {
	cd "$PKI"
	san=
	for d in $STS_WEB; do san="$san${san:+,}DNS:mta-sts.$d.example"; done
	for c in sts stswrong stsexpired; do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $c.key 2>/dev/null
	done
	printf '%s\n' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature' \
		'extendedKeyUsage = serverAuth' "subjectAltName = $san" > sts.ext
	openssl req -new -key sts.key -subj "/CN=mta-sts.stsok.example" -out sts.csr 2>/dev/null
	openssl x509 -req -in sts.csr -CA ca.crt -CAkey ca.key -set_serial 5 -days 825 \
		-extfile sts.ext -out sts.crt 2>/dev/null
	printf '%s\n' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature' \
		'extendedKeyUsage = serverAuth' 'subjectAltName = DNS:mta-sts.elsewhere.example' > stswrong.ext
	openssl req -new -key stswrong.key -subj "/CN=mta-sts.elsewhere.example" -out stswrong.csr 2>/dev/null
	openssl x509 -req -in stswrong.csr -CA ca.crt -CAkey ca.key -set_serial 6 -days 825 \
		-extfile stswrong.ext -out stswrong.crt 2>/dev/null
	mkdir -p cadb
	: > cadb/index.txt
	echo 07 > cadb/serial
	printf '%s\n' '[ca]' 'default_ca = tca' '[tca]' 'database = cadb/index.txt' \
		'new_certs_dir = cadb' 'serial = cadb/serial' 'default_md = sha256' 'policy = pol' \
		'unique_subject = no' '[pol]' 'commonName = supplied' > cadb/ca.cnf
	printf '%s\n' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature' \
		'extendedKeyUsage = serverAuth' 'subjectAltName = DNS:mta-sts.stsexpired.example' > stsexpired.ext
	openssl req -new -key stsexpired.key -subj "/CN=mta-sts.stsexpired.example" -out stsexpired.csr 2>/dev/null
	openssl ca -batch -notext -config cadb/ca.cnf -cert ca.crt -keyfile ca.key -in stsexpired.csr \
		-startdate 20200101000000Z -enddate 20200201000000Z -extfile stsexpired.ext \
		-out stsexpired.crt 2>/dev/null
	rm -rf sts.csr sts.ext stswrong.csr stswrong.ext stsexpired.csr stsexpired.ext cadb
	[ -s sts.crt ] && [ -s stswrong.crt ] && [ -s stsexpired.crt ] || { echo "$0: STS certificates failed" >&2; exit 1; }
	cd "$DIR"
}
pki_sts
# S/MIME signer validation (tests/unit/smime/, smime/): in DIR/pki/smime/,
# a root CA "root", the users CA "users" it issued (the DANE-TA anchor of
# *._smimecert.smime.example), user certificates issued by users (alice,
# bob, carol (revoked), dave@unsigned.example, erin, frank (no AIA)), an
# OCSP responder certificate "ocsp" (users, OCSPSigning), a "rogue" CA
# issuing mallory@smime.example, "other" (a lone key: erin's wrong
# exact-name record); NAME-chain.crt (user, then its CA); sign with
# `openssl cms -sign -signer NAME.crt -inkey NAME.key -certfile users.crt`
# (OpenSSL 3.0 refuses a -certfile repeating the signer); NAME.spki (hex SHA-256 of the SPKI); NAME.owner (the
# SMIMEA owner label of the local part: 56 hex digits); index.txt for
# `openssl ocsp -index index.txt -port 8888 -rsigner ocsp.crt -rkey
# ocsp.key -CA users.crt` (carol revoked, the others valid).
SMIME_USERS="alice:51 bob:52 carol:53 dave@unsigned.example:54 erin:55 frank:56"
pki_smime() {
	S=$PKI/smime
	mkdir -p "$S"
	cd "$S"
	for k in root users rogue ocsp other alice bob carol dave erin frank mallory; do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $k.key 2>/dev/null
	done
	openssl req -x509 -new -key root.key -subj "/CN=danepol SMIME root CA" -days 3650 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out root.crt 2>/dev/null
	openssl req -x509 -new -key rogue.key -subj "/CN=danepol SMIME rogue CA" -days 3650 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out rogue.crt 2>/dev/null
	printf '%s\n' 'basicConstraints = critical,CA:TRUE,pathlen:0' \
		'keyUsage = critical,keyCertSign,cRLSign,digitalSignature' > ca.ext
	openssl req -new -key users.key -subj "/O=danepol test/CN=danepol SMIME users CA" -out users.csr 2>/dev/null
	openssl x509 -req -in users.csr -CA root.crt -CAkey root.key -set_serial 0x50 -days 3000 \
		-extfile ca.ext -out users.crt 2>/dev/null
	printf '%s\n' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature' \
		'extendedKeyUsage = OCSPSigning' > ocsp.ext
	openssl req -new -key ocsp.key -subj "/CN=ocsp.smime.example" -out ocsp.csr 2>/dev/null
	openssl x509 -req -in ocsp.csr -CA users.crt -CAkey users.key -set_serial 0x5F -days 825 \
		-extfile ocsp.ext -out ocsp.crt 2>/dev/null
	exp=$(date -u -d '+825 days' +%y%m%d%H%M%SZ)
	rev=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
	: > index.txt
	# user NAME ADDRESS SERIAL CA [AIA]: NAME.crt for ADDRESS issued by CA.
	user() {
		printf '%s\n' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature' \
			'extendedKeyUsage = emailProtection' "subjectAltName = email:$2" > $1.ext
		[ -n "${5:-}" ] && printf 'authorityInfoAccess = OCSP;URI:%s\n' "$5" >> $1.ext
		openssl req -new -key $1.key -subj "/CN=$1" -out $1.csr 2>/dev/null
		openssl x509 -req -in $1.csr -CA $4.crt -CAkey $4.key -set_serial 0x$3 -days 825 \
			-extfile $1.ext -out $1.crt 2>/dev/null
		cat $1.crt $4.crt > $1-chain.crt
		rm -f $1.csr $1.ext
	}
	AIA=http://ocsp.smime.example:8888/
	for u in $SMIME_USERS; do
		n=${u%%:*}
		n=${n%%@*}
		a=${u%:*}
		serial=${u#*:}
		case $a in *@*) ;; *) a=$a@smime.example ;; esac
		if [ "$n" = frank ]; then user $n $a $serial users; else user $n $a $serial users $AIA; fi
		if [ "$n" = carol ]; then
			printf 'R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=%s\n' "$exp" "$rev" $serial $n >> index.txt
		else
			printf 'V\t%s\t\t%s\tunknown\t/CN=%s\n' "$exp" $serial $n >> index.txt
		fi
	done
	printf 'V\t%s\t\t5F\tunknown\t/CN=ocsp.smime.example\n' "$exp" >> index.txt
	user mallory mallory@smime.example 71 rogue $AIA
	rm -f users.csr ocsp.csr ca.ext ocsp.ext
	for c in root users rogue ocsp alice bob carol dave erin frank mallory; do
		openssl x509 -in $c.crt -noout -pubkey | openssl pkey -pubin -outform DER |
			openssl dgst -sha256 -r | awk '{ print $1 }' > $c.spki
		[ "$(wc -c < $c.spki)" -eq 65 ] || { echo "$0: S/MIME certificate $c failed" >&2; exit 1; }
	done
	openssl pkey -in other.key -pubout -outform DER | openssl dgst -sha256 -r |
		awk '{ print $1 }' > other.spki
	for n in alice bob carol dave erin frank mallory; do
		printf %s $n | openssl dgst -sha256 -r | cut -c1-56 > $n.owner
	done
	cd "$DIR"
}
pki_smime
EE=$(cat "$PKI/ee.spki")
PROBE=$(cat "$PKI/probe.spki")
EXPIRED=$(cat "$PKI/expired.spki")
CA=$(cat "$PKI/ca.spki")
SS=$(cat "$PKI/ss.spki")
NEXT=$(cat "$PKI/next.spki")
[ ${#NEXT} -eq 64 ] && [ ${#EE} -eq 64 ] && [ ${#CA} -eq 64 ] && [ ${#PROBE} -eq 64 ] && [ ${#EXPIRED} -eq 64 ] || { echo "$0: SPKI digests failed" >&2; exit 1; }

# ------------------------------------------------------------------ zones
# zone NAME: the zone file header for NAME (SOA, NS, glue), body on stdin.
zone() {
	{
		printf '$ORIGIN %s.\n$TTL 3600\n' "$1"
		printf '@\tSOA\tns.%s. hostmaster.%s. 1 3600 600 86400 300\n' "$1" "$1"
		printf '@\tNS\tns\nns\tA\t127.0.0.251\n'
		cat
	} > "$Z/$1.zone"
}

# The standard DANE mail setup: mx1 (A, AAAA, DANE-EE), mx2 (A, DANE-TA).
standard() {
	cat <<-EOF
	@	MX	10 mx1
	@	MX	20 mx2
	mx1	A	127.0.0.1
	mx1	AAAA	::1
	mx2	A	127.0.0.2
	_25._tcp.mx1	TLSA	3 1 1 $EE
	_25._tcp.mx2	TLSA	2 1 1 $CA
	EOF
}

DSLIST=$Z/example.ds

# newkey NAME: generate a key for NAME, print its base path.
newkey() {
	(cd "$KD" && ldns-keygen -a ECDSAP256SHA256 -k "$1.")
}

# sign NAME [ldns-signzone options]: sign zones/NAME.zone, append its DS
# to the parent's list.
sign() {
	name=$1
	shift
	k=$(newkey "$name")
	ldns-signzone "$@" -o "$name." -f "$Z/$name.zone.signed" "$Z/$name.zone" "$KD/$k"
	cat "$KD/$k.ds" >> "$DSLIST"
}

# edit_rdata NAME OWNER TYPE: replace the RDATA of OWNER/TYPE in the
# signed zone after signing, so its RRSIG no longer verifies (bogus).
edit_rdata() {
	awk -v o="$2." -v t="$3" 'BEGIN { FS = OFS = "\t" }
	$1 == o && $4 == t {
		if (t == "A") $5 = "127.0.0.9"
		else if (t == "TXT") $5 = "\"v=STSv1; id=forged;\""
		else if (t == "TLSA") {
			n = split($5, f, " ")
			h = f[n]
			f[n] = (substr(h, 1, 1) == "0" ? "1" : "0") substr(h, 2)
			$5 = f[1]
			for (i = 2; i <= n; i++) $5 = $5 " " f[i]
		}
	}
	{ print }' "$Z/$1.zone.signed" > "$Z/$1.zone.tmp"
	mv "$Z/$1.zone.tmp" "$Z/$1.zone.signed"
}

: > "$DSLIST"
SIGNED="secure nsec3 tampered cname cnameorig implicit insecurehost unusable mixed
notlsa bogus expired tlsabogus noaddr nullmx mismatch crosszone bogushost
pee pta pname pnochain pexpta pexpee pnotls pocsp
ownok ownbad ownta ownnext ownsig ownnotlsa
stsdane stsbogustxt smime"
# Unsigned children (no DS in example.): NSEC proves them insecure.
UNSIGNED="insecure unsignedmx unsignedmxpin unsignedmixed unsignedbogus unsignednotlsa
stsok stscrlf stsmismatch stsnone stsbad stsidfirst stswrongname stsnocert
stsexim stseximname stseximca stseximplain stseximmix unsigned"

# RFC 8460 TLSRPT (tests/danepol/report.sh): reports for secure.example go
# by mail.
{ standard; printf '_smtp._tls\tTXT\t"v=TLSRPTv1; rua=mailto:tlsrpt@secure.example"\n'; } |
	zone secure.example
sign secure.example

standard | zone nsec3.example
sign nsec3.example -n -t 0

standard | zone tampered.example
sign tampered.example
edit_rdata tampered.example mx1.tampered.example A

# MX hosts are secure aliases: mx1 to a name in the zone, mx2 to another
# signed zone; the TLSA records sit at the alias targets.
zone cname.example <<EOF
@	MX	10 mx1
@	MX	20 mx2
mx1	CNAME	real1
mx2	CNAME	mx2.secure.example.
real1	A	127.0.0.1
_25._tcp.real1	TLSA	3 1 1 $EE
EOF
sign cname.example

# The alias target has no TLSA: the original MX name is the base domain.
zone cnameorig.example <<EOF
@	MX	10 mx
mx	CNAME	real
real	A	127.0.0.1
_25._tcp.mx	TLSA	3 1 1 $EE
EOF
sign cnameorig.example

# No MX: the domain itself is the host (implicit MX).
zone implicit.example <<EOF
@	A	127.0.0.1
_25._tcp	TLSA	3 1 1 $EE
EOF
sign implicit.example

# Unsigned zone (no DS in example.): TLSA published but insecure.
standard | zone insecure.example

zone insecurehost.example <<EOF
@	MX	10 mx1.insecure.example.
@	MX	20 mx2.insecure.example.
EOF
sign insecurehost.example

# MX/host security mixes: the MX RRset and its hosts in different zones.
# Unsigned customer zones whose MX hosts are in signed provider zones
# (RFC 7672 2.2.1: DANE still applies to such hosts, Postfix's
# smtp_tls_dane_insecure_mx_policy = dane). unsignedmxpin has the same
# content as unsignedmx, for tests that give it a local dane-only policy.
for c in unsignedmx unsignedmxpin; do
	printf '@\tMX\t10 mx1.secure.example.\n@\tMX\t20 mx2.secure.example.\n' | zone $c.example
done
# One DANE host, one in an unsigned zone.
zone unsignedmixed.example <<EOF
@	MX	10 mx1.secure.example.
@	MX	20 mx1.insecure.example.
EOF
# The only host's TLSA RRset is bogus.
zone unsignedbogus.example <<EOF
@	MX	10 mx1.tlsabogus.example.
EOF
# The only host is secure, with a secure denial of TLSA.
zone unsignednotlsa.example <<EOF
@	MX	10 mx1.notlsa.example.
EOF
# Signed MX: one DANE host in another signed zone, one in an unsigned zone.
zone crosszone.example <<EOF
@	MX	10 mx1.secure.example.
@	MX	20 mx1.insecure.example.
EOF
sign crosszone.example
# Signed MX: the preferred host's TLSA RRset is bogus, the other is DANE.
zone bogushost.example <<EOF
@	MX	10 mx1.tlsabogus.example.
@	MX	20 mx1.secure.example.
EOF
sign bogushost.example

# Only unusable TLSA: PKIX usages, SHA2-256 data of the wrong length.
zone unusable.example <<EOF
@	MX	10 mx1
@	MX	20 mx2
mx1	A	127.0.0.1
mx2	A	127.0.0.2
_25._tcp.mx1	TLSA	1 1 1 $EE
_25._tcp.mx1	TLSA	3 1 1 0123456789abcdef0123456789abcdef
_25._tcp.mx2	TLSA	0 1 1 $CA
_25._tcp.mx2	TLSA	3 1 2 $EE
EOF
sign unusable.example

# One DANE host, one without TLSA.
zone mixed.example <<EOF
@	MX	10 mx1
@	MX	20 mx2
mx1	A	127.0.0.1
mx2	A	127.0.0.2
_25._tcp.mx1	TLSA	3 1 1 $EE
; RFC 8460 TLSRPT by https POST, in two strings (tests/danepol/report.sh
; serves 127.0.0.1:8461 in a private network namespace)
_smtp._tls	TXT	"v=TLSRPTv1;" "rua=https://127.0.0.1:8461/tlsrpt"
EOF
sign mixed.example

# DANE-EE of the self-signed ss.crt, which no test server presents (they
# present ee.crt): secure and "require", but every handshake fails to
# authenticate (the delivery test's TLSA mismatch case).
zone mismatch.example <<EOF
@	MX	10 mx1
mx1	A	127.0.0.1
_25._tcp.mx1	TLSA	3 1 1 $SS
EOF
sign mismatch.example

# The STARTTLS probe test (tests/danepol/probe.sh): one MX host each, at
# addresses where that test runs receiving servers on port 25.
# probe1 DOMAIN ADDR TLSA-RDATA: MX 10 mx, mx A ADDR, _25._tcp.mx TLSA.
probe1() {
	printf '@\tMX\t10 mx\nmx\tA\t%s\n_25._tcp.mx\tTLSA\t%s\n' "$2" "$3" | zone "$1"
	sign "$1"
}
probe1 pee.example 127.0.0.14 "3 1 1 $EE"		# EE chain: DANE-EE match at depth 0
probe1 pname.example 127.0.0.14 "2 1 1 $CA"		# same server: names lack mx.pname.example
probe1 pta.example 127.0.0.15 "2 1 1 $CA"		# probe chain: DANE-TA match at depth 1
probe1 pnochain.example 127.0.0.16 "2 1 1 $CA"		# probe.crt alone: TA not in the chain
probe1 pexpta.example 127.0.0.17 "2 1 1 $CA"		# expired chain: certificate-expired
probe1 pexpee.example 127.0.0.17 "3 1 1 $EXPIRED"	# same server: DANE-EE ignores expiry
probe1 pnotls.example 127.0.0.18 "3 1 1 $EE"		# no STARTTLS
probe1 pocsp.example 127.0.0.19 "3 1 1 $PROBE"		# tlsserv with OCSP staples

# The operator's own domains (danepol selfcheck / rollover tests): servers
# at 127.0.0.21 (ee-chain.crt with ee.key: the EE names mx1.own{ok,next,
# sig,notlsa}.example, its CA is in the chain), 127.0.0.22 (ee-chain.crt
# too) and 127.0.0.23 (probe.crt alone, with probe.key: names
# mx1.ownta.example, the CA is not sent).
# Healthy: DANE-EE and DANE-TA both match ee-chain.crt; IPv4 and IPv6.
zone ownok.example <<EOF
@	MX	10 mx1
mx1	A	127.0.0.21
mx1	AAAA	::1
_25._tcp.mx1	TLSA	3 1 1 $EE
_25._tcp.mx1	TLSA	2 1 1 $CA
EOF
sign ownok.example
# own1 DOMAIN ADDR TLSA-RDATA: MX 10 mx1, mx1 A ADDR, _25._tcp.mx1 TLSA.
own1() {
	printf '@\tMX\t10 mx1\nmx1\tA\t%s\n_25._tcp.mx1\tTLSA\t%s\n' "$2" "$3" | zone "$1"
	sign "$1"
}
# Published key (ss.crt) is not the served one (ee-chain.crt): mismatch.
own1 ownbad.example 127.0.0.22 "3 1 1 $SS"
# DANE-TA only, the server does not send the CA: TA missing from the chain.
own1 ownta.example 127.0.0.23 "2 1 1 $CA"
# Current and next key published ("3 1 1 + 3 1 1").
zone ownnext.example <<EOF
@	MX	10 mx1
mx1	A	127.0.0.21
_25._tcp.mx1	TLSA	3 1 1 $EE
_25._tcp.mx1	TLSA	3 1 1 $NEXT
EOF
sign ownnext.example
# Healthy, but every RRSIG expires 2 days after generation (the selfcheck's
# RRSIG warning window); the expiration is in DIR/ownsig.expire.
SIGEXP=$(( $(date +%s) + 2 * 86400 ))
zone ownsig.example <<EOF
@	MX	10 mx1
mx1	A	127.0.0.21
_25._tcp.mx1	TLSA	3 1 1 $EE
EOF
sign ownsig.example -e "$(date -u -d "@$SIGEXP" +%Y%m%d%H%M%S)"
echo "$SIGEXP" > "$DIR/ownsig.expire"
# Two MX hosts, the second without TLSA (secure denial).
zone ownnotlsa.example <<EOF
@	MX	10 mx1
@	MX	20 mx2
mx1	A	127.0.0.21
mx2	A	127.0.0.22
_25._tcp.mx1	TLSA	3 1 1 $EE
EOF
sign ownnotlsa.example

# MTA-STS domains (tests/danepol/sts.sh; their policies are served by
# tests/unit/sts/policy_server.py, which names what each answers): the
# policy host mta-sts.<d> and the MX at 127.0.0.1. Unsigned, so DANE does
# not decide them, except stsdane (signed, TLSA: DANE wins) and
# stsbogustxt (signed, no TLSA, its TXT record tampered: bogus).
# sts1 DOMAIN TXT [MX-LINE]: MX 10 mx1, mx1 A 127.0.0.1, mta-sts A, TXT.
sts1() {
	{
		printf '@\tMX\t10 mx1\nmx1\tA\t127.0.0.1\nmta-sts\tA\t127.0.0.1\n'
		printf '_mta-sts\tTXT\t"%s"\n' "$2"
		[ -n "${3:-}" ] && printf '%s\n' "$3"
		return 0
	} | zone "$1"
}
sts1 stsok.example "v=STSv1; id=ok1;" "@	MX	20 mx1.insecure.example."
sts1 stscrlf.example "v=STSv1; id=t1;"
sts1 stsmismatch.example "v=STSv1; id=m1;"
sts1 stsnone.example "v=STSv1; id=n1;"
sts1 stsbad.example "v=STSv1; id=b1;"
sts1 stsidfirst.example "id=i1; v=STSv1;"
sts1 stswrongname.example "v=STSv1; id=w1;"
sts1 stsnocert.example "v=STSv1; id=c1;"
sts1 stsdane.example "v=STSv1; id=d1;" "_25._tcp.mx1	TLSA	3 1 1 $EE"
sign stsdane.example
sts1 stsbogustxt.example "v=STSv1; id=x1;"
sign stsbogustxt.example
edit_rdata stsbogustxt.example _mta-sts.stsbogustxt.example TXT
# The Exim MTA-STS test (tests/e2e/exim_sts.sh): enforce policies, each
# MX host at its own loopback address, so that the receiving Exim tells
# the cases apart by the address it was reached at. stseximmix's policy
# names only mx2 (MX 20), not mx1 (MX 10, tried first).
# stsx DOMAIN ID ADDRESS [LINE]: MX 10 mx1 at ADDRESS, mta-sts, TXT id ID.
stsx() {
	{
		printf '@\tMX\t10 mx1\nmx1\tA\t%s\nmta-sts\tA\t127.0.0.1\n' "$3"
		printf '_mta-sts\tTXT\t"v=STSv1; id=%s;"\n' "$2"
		[ -n "${4:-}" ] && printf '%s\n' "$4"
		return 0
	} | zone "$1"
}
stsx stsexim.example e1 127.0.0.40
stsx stseximname.example e2 127.0.0.41
stsx stseximca.example e3 127.0.0.42
stsx stseximplain.example e4 127.0.0.43
stsx stseximmix.example e5 127.0.0.44 "$(printf '@\tMX\t20 mx2\nmx2\tA\t127.0.0.45')"

# S/MIME (RFC 8162 SMIMEA; pki/smime/): smime.example is signed, with
# the users CA as domain-wide DANE-TA anchor, bob's key as his exact-name
# DANE-EE record, and an exact-name record for erin that names another key
# (erin's certificate matches only the wildcard); unsigned.example has the
# same wildcard, insecure. ocsp.<d> is the responder (127.0.0.1:8888).
SM=$PKI/smime
zone smime.example <<EOF
ocsp	A	127.0.0.1
*._smimecert	SMIMEA	2 1 1 $(cat "$SM/users.spki")
$(cat "$SM/bob.owner")._smimecert	SMIMEA	3 1 1 $(cat "$SM/bob.spki")
$(cat "$SM/erin.owner")._smimecert	SMIMEA	3 1 1 $(cat "$SM/other.spki")
EOF
sign smime.example
zone unsigned.example <<EOF
ocsp	A	127.0.0.1
*._smimecert	SMIMEA	2 1 1 $(cat "$SM/users.spki")
EOF

zone notlsa.example <<EOF
@	MX	10 mx1
@	MX	20 mx2
mx1	A	127.0.0.1
mx1	AAAA	::1
mx2	A	127.0.0.2
EOF
sign notlsa.example

# Signed, but example. holds the DS of an unrelated key: bogus.
standard | zone bogus.example
k=$(newkey bogus.example)
ldns-signzone -o bogus.example. -f "$Z/bogus.example.zone.signed" "$Z/bogus.example.zone" "$KD/$k"
rm -f "$KD/$k.private"
k=$(newkey bogus.example)
cat "$KD/$k.ds" >> "$DSLIST"

standard | zone expired.example
sign expired.example -i 20200101000000 -e 20200201000000

standard | zone tlsabogus.example
sign tlsabogus.example
edit_rdata tlsabogus.example _25._tcp.mx1.tlsabogus.example TLSA
edit_rdata tlsabogus.example _25._tcp.mx2.tlsabogus.example TLSA

# MX hosts without addresses: mx1 exists (TXT only), mx2 does not.
zone noaddr.example <<EOF
@	MX	10 mx1
@	MX	20 mx2
mx1	TXT	"no address here"
EOF
sign noaddr.example

# RFC 7505 null MX.
zone nullmx.example <<EOF
@	MX	0 .
EOF
sign nullmx.example

# securedead.example: DS in example., but its server is a black hole.
k=$(newkey securedead.example)
cat "$KD/$k.ds" >> "$DSLIST"

# ------------------------------------------------------------------ example.
{
	for c in $SIGNED $UNSIGNED; do
		printf '%s\tNS\tns.%s.example.\nns.%s\tA\t127.0.0.251\n' "$c" "$c" "$c"
	done
	# fault delegations: unsigned, glue to 127.0.0.x (the harness stubs them)
	n=10
	for c in blackhole servfail refused slow; do
		printf '%s\tNS\tns.%s.example.\nns.%s\tA\t127.0.0.%s\n' "$c" "$c" "$c" $n
		n=$((n + 1))
	done
	printf 'securedead\tNS\tns.securedead.example.\nns.securedead\tA\t127.0.0.20\n'
	cat "$DSLIST"
} | zone example
rm -f "$DSLIST"
DSLIST=$Z/root.ds
: > "$DSLIST"
sign example

# The root zone: written by hand (zone() would produce "..").
{
	printf '$ORIGIN .\n$TTL 3600\n'
	printf '.\tSOA\ta.root. hostmaster.root. 1 3600 600 86400 300\n'
	printf '.\tNS\ta.root.\na.root.\tA\t127.0.0.250\n'
	printf 'example.\tNS\tns.example.\nns.example.\tA\t127.0.0.251\n'
	cat "$DSLIST"
} > "$Z/root.zone"
rm -f "$DSLIST"
k=$(cd "$KD" && ldns-keygen -a ECDSAP256SHA256 -k .)
ldns-signzone -o . -f "$Z/root.zone.signed" "$Z/root.zone" "$KD/$k"
awk '$3 == "DS" { $1 = "."; print; exit }' "$KD/$k.ds" > "$DIR/root.ds"
cp "$KD/$k.ds" "$DIR/root.key"

# ------------------------------------------------------------------ config
authzone() {
	printf 'auth-zone:\n\tname: "%s"\n\tzonefile: "%s"\n' "$1" "$2"
	printf '\tfor-upstream: yes\n\tfor-downstream: no\n\tfallback-enabled: no\n'
}
{
	echo "# libunbound config of the danepol test world (tools/mkworld.sh)."
	echo "# Every zone is an auth-zone: nothing is sent to the network."
	echo "server:"
	printf '\tverbosity: 0\n\tdo-ip6: no\n'
	echo "	# the fault zones are stubbed to the responder on 127.0.0.1"
	printf '\tdo-not-query-localhost: no\n'
	authzone . "$Z/root.zone.signed"
	authzone example. "$Z/example.zone.signed"
	for c in $SIGNED; do
		authzone "$c.example." "$Z/$c.example.zone.signed"
	done
	for c in $UNSIGNED; do
		authzone "$c.example." "$Z/$c.example.zone"
	done
} > "$DIR/world.conf"

cat > "$DIR/fault-zones" <<'EOF'
# zone mode: served by tests/world/faultdns (see tests/world/README.md)
blackhole.example blackhole
servfail.example servfail
refused.example refused
slow.example slow
securedead.example blackhole
EOF

cat > "$DIR/README" <<'EOF'
Generated by tools/mkworld.sh: danepol's offline DNSSEC test world.
Regenerate it (signatures expire after 4 weeks); do not edit or commit.
world.conf: libunbound auth-zones; root.ds: the trust anchor;
fault-zones: zones for tests/world/faultdns; pki/: test certificates.
See tests/world/README.md.
EOF
echo "$DIR"
