#!/bin/sh
# bench/mkbenchworld.sh DIR [RUNS] [CRUNS] - the signed DNS world of the
# benchmarks (never used by the tests; tools/mkworld.sh is untouched).
#
# One zone, "bench.", signed with ldns-signzone (ECDSAP256SHA256), whose
# DS is the trust anchor (DIR/bench.ds), so the only key to prime is
# bench.'s DNSKEY and a cold decision costs MX + A/AAAA + TLSA lookups:
#   lN-rR.bench.        N = 1 2 4 8 MX hosts hK-lN-rR.bench. (K = 1..N),
#                       each with an A record and a TLSA 3 1 1 at
#                       _25._tcp.hK-lN-rR; R = 1..RUNS: a fresh (cold)
#                       set of names per measured run
#   cK-rR.bench.        the concurrency set: K = 0..1000 (c0 alone, then the 1,000), R = 1..CRUNS,
#                       one host hcK-rR each (A + TLSA)
#   *.w.bench.          wildcard MX -> hw.bench. (A + TLSA): any number of
#                       distinct domains for the memory and socketmap runs
#   prime.bench.        the warm-up domain (primes bench.'s DNSKEY)
# Writes DIR/bench.zone.signed, DIR/bench.ds, DIR/authzone.conf (the
# zone in-process for libunbound: no network) and DIR/serve.conf.in (an
# unbound daemon serving it authoritatively on @PORT@).
# Needs ldnsutils (ldns-keygen, ldns-signzone).
set -eu
[ $# -ge 1 ] || { echo "usage: $0 DIR [RUNS] [CRUNS]" >&2; exit 64; }
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
RUNS=${2:-7}
CRUNS=${3:-5}
cd "$DIR"
rm -f Kbench.* bench.zone bench.zone.signed
HASH=$(printf 'danepol bench' | sha256sum | cut -c1-64)
awk -v runs="$RUNS" -v cruns="$CRUNS" -v h="$HASH" 'BEGIN {
	print "$ORIGIN bench.\n$TTL 3600"
	print "@\tSOA\tns.bench. hostmaster.bench. 1 3600 600 86400 300"
	print "@\tNS\tns\nns\tA\t127.0.0.1"
	split("1 2 4 8", ns, " ")
	for (r = 1; r <= runs; r++) for (i = 1; i <= 4; i++) {
		n = ns[i]; d = "l" n "-r" r
		for (k = 1; k <= n; k++) {
			printf "%s\tMX\t%d h%d-%s\n", d, 10 * k, k, d
			printf "h%d-%s\tA\t127.0.0.1\n", k, d
			printf "_25._tcp.h%d-%s\tTLSA\t3 1 1 %s\n", k, d, h
		}
	}
	for (r = 1; r <= cruns; r++) for (k = 0; k <= 1000; k++) {
		d = "c" k "-r" r
		printf "%s\tMX\t10 h%s\nh%s\tA\t127.0.0.1\n_25._tcp.h%s\tTLSA\t3 1 1 %s\n", d, d, d, d, h
	}
	print "*.w\tMX\t10 hw\nhw\tA\t127.0.0.1\n_25._tcp.hw\tTLSA\t3 1 1 " h
	print "prime\tMX\t10 hw"
}' > bench.zone
K=$(ldns-keygen -a ECDSAP256SHA256 -k bench.)
ldns-signzone -o bench. -f bench.zone.signed bench.zone "$K"
cp "$K.ds" bench.ds
rm -f "$K.key" "$K.private" "$K.ds"
cat > authzone.conf <<CONF
server:
	qname-minimisation: no
auth-zone:
	name: "bench."
	zonefile: "$DIR/bench.zone.signed"
	for-upstream: yes
	for-downstream: no
	fallback-enabled: no
CONF
cat > serve.conf.in <<CONF
server:
	interface: 127.0.0.1@@PORT@
	port: @PORT@
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$DIR"
	pidfile: ""
	use-syslog: no
	logfile: ""
	num-threads: 1
	so-rcvbuf: 4m
	so-sndbuf: 4m
	access-control: 127.0.0.0/8 allow_snoop
	do-ip6: no
	ratelimit: 0
	ip-ratelimit: 0
auth-zone:
	name: "bench."
	zonefile: "$DIR/bench.zone.signed"
	for-downstream: yes
	for-upstream: no
remote-control:
	control-enable: no
CONF
