/*
 * test_dns.c - the resolver (dns/dns.h) against the offline signed world
 * (tools/mkworld.sh) and the fault responder (tests/world/faultdns).
 *
 * Covers the classification table of dns.h with real libunbound answers:
 * secure data, secure NXDOMAIN / NODATA (NSEC and NSEC3), insecure data
 * and denial, bogus (wrong DS, expired signatures, RRsets edited after
 * signing: the why text is set, the data is never returned), CNAME
 * canonname, SERVFAIL / REFUSED as indeterminate failures, a black hole
 * cut at the batch deadline, delayed real answers; many lookups in one
 * batch, batches from several threads at once, cancellation (the resolver
 * stays usable), resolver creation errors, and sig_expire (the earliest
 * RRSIG expiration: exact for ownsig.example, 0 without signed data).
 *
 * Each test gets its own world (criterion runs tests in separate
 * processes): a fresh fault responder and a fresh unbound config.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "dns.h"
#include "dnsname.h"
#include "mem.h"
#include "world.h"

#define SLOW_MS 300

static struct world w;
static int world_ok;

static void
setup(void)
{
	world_ok = world_start(&w, SLOW_MS) == 0;
	if (!world_ok)
		cr_skip_test("offline world not available (WORLD_DIR/FAULTDNS unset?)");
}

static void
teardown(void)
{
	if (world_ok)
		world_stop(&w);
}

TestSuite(dns, .init = setup, .fini = teardown, .timeout = 30);

/* A resolver over the world; max_rtt 0 = library default. */
static struct dns_resolver *
resolver(unsigned max_rtt_ms, unsigned retries)
{
	struct dns_options o;
	struct dns_resolver *res;
	char *err = NULL;

	world_dns_options(&w, &o);
	o.max_rtt_ms = max_rtt_ms;
	o.retries = retries;
	res = dns_resolver_new(&o, &err);
	cr_assert_not_null(res, "resolver: %s", err ? err : "?");
	return res;
}

/* One lookup in its own batch, waiting at most timeout_ms. Caller frees. */
static struct dns_answer *
lookup(struct dns_resolver *res, const char *name, uint16_t type, unsigned timeout_ms)
{
	struct dns_batch *b = dns_batch_new(res);
	struct dns_answer *a = NULL;
	unsigned tag = 0;

	dns_batch_add(b, name, type, 77);
	cr_assert_eq(dns_batch_next(b, clock_now_ms() + timeout_ms, &tag, &a), 1, "%s: no answer", name);
	cr_assert_eq(tag, 77);
	cr_assert_eq(dns_batch_next(b, clock_now_ms() + 10, &tag, &a), 0, "one lookup, one answer");
	dns_batch_free(b);
	return a;
}

static void
expect(const struct dns_answer *a, enum dns_status st, enum dns_sec sec)
{
	cr_expect_eq(a->status, st, "%s: status %s, want %s (why: %s)", a->qname,
	    dns_status_name(a->status), dns_status_name(st), a->why ? a->why : "-");
	cr_expect_eq(a->sec, sec, "%s: sec %s, want %s (why: %s)", a->qname,
	    dns_sec_name(a->sec), dns_sec_name(sec), a->why ? a->why : "-");
	if (st != DNS_DATA)
		cr_expect_eq(a->count, 0, "%s: %zu records on a %s answer", a->qname, a->count,
		    dns_status_name(st));
}

/* Look up, check, free. */
static void
check(struct dns_resolver *res, const char *name, uint16_t type,
    enum dns_status st, enum dns_sec sec)
{
	struct dns_answer *a = lookup(res, name, type, 5000);

	expect(a, st, sec);
	dns_answer_free(a);
}

/* The SHA-256 SPKI digest of a world certificate (pki/NAME.spki), as bytes. */
static void
spki(const char *name, uint8_t out[32])
{
	char *rel = xasprintf("pki/%s.spki", name), *path = world_path(&w, rel), hex[80];
	FILE *fp = fopen(path, "r");

	cr_assert_not_null(fp, "%s", path);
	cr_assert_not_null(fgets(hex, sizeof(hex), fp));
	fclose(fp);
	for (int i = 0; i < 32; i++)
		cr_assert_eq(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1);
	free(rel);
	free(path);
}

/* ------------------------------------------------------------ secure */

Test(dns, secure_mx)
{
	struct dns_resolver *res = resolver(0, 0);
	struct dns_answer *a = lookup(res, "secure.example", DNS_T_MX, 5000);
	int seen = 0;

	expect(a, DNS_DATA, DNS_SEC_SECURE);
	cr_expect_eq(a->rcode, 0);
	cr_expect_null(a->why);
	cr_expect_null(a->canonname, "no CNAME followed");
	cr_expect_gt(a->ttl, 0);
	cr_assert_eq(a->count, 2);
	for (size_t i = 0; i < a->count; i++) {
		char name[DNSNAME_MAX];
		size_t off = 2;
		unsigned pref = (unsigned)(a->rr[i].data[0] << 8 | a->rr[i].data[1]);

		cr_assert_eq(dnsname_from_wire(a->rr[i].data, a->rr[i].len, &off, name), 0);
		cr_expect_eq(off, a->rr[i].len);
		if (pref == 10 && strcmp(name, "mx1.secure.example") == 0)
			seen |= 1;
		else if (pref == 20 && strcmp(name, "mx2.secure.example") == 0)
			seen |= 2;
	}
	cr_expect_eq(seen, 3, "MX 10 mx1 and MX 20 mx2");
	dns_answer_free(a);
	dns_resolver_free(res);
}

Test(dns, secure_tlsa_matches_world_pki)
{
	struct dns_resolver *res = resolver(0, 0);
	struct dns_answer *a = lookup(res, "_25._tcp.mx1.secure.example", DNS_T_TLSA, 5000);
	uint8_t ee[32], ca[32];

	spki("ee", ee);
	spki("ca", ca);
	expect(a, DNS_DATA, DNS_SEC_SECURE);
	cr_assert_eq(a->count, 1);
	cr_assert_eq(a->rr[0].len, 35);
	cr_expect_eq(memcmp(a->rr[0].data, "\3\1\1", 3), 0, "3 1 1");
	cr_expect_eq(memcmp(a->rr[0].data + 3, ee, 32), 0, "EE SPKI digest");
	dns_answer_free(a);

	a = lookup(res, "_25._tcp.mx2.secure.example.", DNS_T_TLSA, 5000);
	expect(a, DNS_DATA, DNS_SEC_SECURE);
	cr_assert_eq(a->count, 1);
	cr_assert_eq(a->rr[0].len, 35);
	cr_expect_eq(memcmp(a->rr[0].data, "\2\1\1", 3), 0, "2 1 1");
	cr_expect_eq(memcmp(a->rr[0].data + 3, ca, 32), 0, "CA SPKI digest");
	dns_answer_free(a);
	dns_resolver_free(res);
}

Test(dns, secure_addresses)
{
	struct dns_resolver *res = resolver(0, 0);
	struct dns_answer *a = lookup(res, "mx1.secure.example", DNS_T_A, 5000);

	expect(a, DNS_DATA, DNS_SEC_SECURE);
	cr_assert_eq(a->count, 1);
	cr_assert_eq(a->rr[0].len, 4);
	cr_expect_eq(memcmp(a->rr[0].data, "\177\0\0\1", 4), 0, "127.0.0.1");
	dns_answer_free(a);
	a = lookup(res, "MX1.Secure.Example", DNS_T_AAAA, 5000);
	expect(a, DNS_DATA, DNS_SEC_SECURE);
	cr_assert_eq(a->count, 1);
	cr_expect_eq(a->rr[0].len, 16);
	cr_expect_eq(a->rr[0].data[15], 1, "::1");
	dns_answer_free(a);
	dns_resolver_free(res);
}

Test(dns, secure_nxdomain_and_nodata)
{
	struct dns_resolver *res = resolver(0, 0);
	struct dns_answer *a = lookup(res, "nonexist.secure.example", DNS_T_A, 5000);

	expect(a, DNS_NXDOMAIN, DNS_SEC_SECURE);
	cr_expect_eq(a->rcode, 3);
	dns_answer_free(a);
	a = lookup(res, "secure.example", DNS_T_TLSA, 5000);
	expect(a, DNS_NODATA, DNS_SEC_SECURE);
	cr_expect_eq(a->rcode, 0);
	dns_answer_free(a);
	check(res, "mx2.secure.example", DNS_T_AAAA, DNS_NODATA, DNS_SEC_SECURE);
	check(res, "_587._tcp.mx1.secure.example", DNS_T_TLSA, DNS_NXDOMAIN, DNS_SEC_SECURE);
	check(res, "nx.example", DNS_T_MX, DNS_NXDOMAIN, DNS_SEC_SECURE);
	/* the fake root answers for every TLD: nothing leaks out */
	check(res, "com", DNS_T_MX, DNS_NXDOMAIN, DNS_SEC_SECURE);
	check(res, "implicit.example", DNS_T_MX, DNS_NODATA, DNS_SEC_SECURE);
	dns_resolver_free(res);
}

Test(dns, nsec3_denial)
{
	struct dns_resolver *res = resolver(0, 0);

	check(res, "nsec3.example", DNS_T_MX, DNS_DATA, DNS_SEC_SECURE);
	check(res, "nope.nsec3.example", DNS_T_A, DNS_NXDOMAIN, DNS_SEC_SECURE);
	check(res, "nsec3.example", DNS_T_TLSA, DNS_NODATA, DNS_SEC_SECURE);
	check(res, "_25._tcp.mx1.nsec3.example", DNS_T_TLSA, DNS_DATA, DNS_SEC_SECURE);
	check(res, "x.mx1.nsec3.example", DNS_T_A, DNS_NXDOMAIN, DNS_SEC_SECURE);
	check(res, "mx2.nsec3.example", DNS_T_AAAA, DNS_NODATA, DNS_SEC_SECURE);
	/* Not checked: NXDOMAIN below an empty non-terminal (_26._tcp.mx1):
	 * unbound 1.17's auth-zone NSEC3 proof for it fails validation
	 * (tests/world/README.md, "Known limits"). */
	dns_resolver_free(res);
}

/* ------------------------------------------------------------ insecure */

Test(dns, insecure_zone)
{
	struct dns_resolver *res = resolver(0, 0);
	struct dns_answer *a = lookup(res, "insecure.example", DNS_T_MX, 5000);

	expect(a, DNS_DATA, DNS_SEC_INSECURE);
	cr_expect_eq(a->count, 2);
	cr_expect_null(a->why);
	dns_answer_free(a);
	check(res, "_25._tcp.mx1.insecure.example", DNS_T_TLSA, DNS_DATA, DNS_SEC_INSECURE);
	check(res, "nope.insecure.example", DNS_T_A, DNS_NXDOMAIN, DNS_SEC_INSECURE);
	check(res, "mx2.insecure.example", DNS_T_AAAA, DNS_NODATA, DNS_SEC_INSECURE);
	/* a signed MX RRset pointing into the unsigned zone */
	check(res, "insecurehost.example", DNS_T_MX, DNS_DATA, DNS_SEC_SECURE);
	dns_resolver_free(res);
}

Test(dns, no_anchor_allowed_means_everything_insecure)
{
	struct dns_options o;
	struct dns_resolver *res;
	char *err = NULL;

	world_dns_options(&w, &o);
	o.trust_anchor = NULL;
	o.no_trust_anchor = 1;
	res = dns_resolver_new(&o, &err);
	cr_assert_not_null(res, "%s", err ? err : "?");
	check(res, "secure.example", DNS_T_MX, DNS_DATA, DNS_SEC_INSECURE);
	/* without an anchor, even a broken chain is just insecure */
	check(res, "bogus.example", DNS_T_MX, DNS_DATA, DNS_SEC_INSECURE);
	dns_resolver_free(res);
}

/* ------------------------------------------------------------ bogus */

/* Bogus: failed, why set, rcode as reported, data never handed out. */
static void
check_bogus(struct dns_resolver *res, const char *name, uint16_t type, const char *why_part)
{
	struct dns_answer *a = lookup(res, name, type, 5000);

	expect(a, DNS_FAIL, DNS_SEC_BOGUS);
	cr_expect_eq(a->count, 0, "%s: bogus data must not be returned", name);
	cr_assert_not_null(a->why, "%s: why text", name);
	cr_expect_gt(strlen(a->why), 0);
	if (why_part)
		cr_expect_not_null(strstr(a->why, why_part), "%s: why '%s' lacks '%s'",
		    name, a->why, why_part);
	cr_expect_eq(a->ttl, 0, "no TTL for a failure");
	dns_answer_free(a);
}

Test(dns, bogus_wrong_ds)
{
	struct dns_resolver *res = resolver(0, 0);

	check_bogus(res, "bogus.example", DNS_T_MX, "bogus.example");
	check_bogus(res, "_25._tcp.mx1.bogus.example", DNS_T_TLSA, NULL);
	check_bogus(res, "nope.bogus.example", DNS_T_A, NULL);
	dns_resolver_free(res);
}

Test(dns, bogus_expired_signatures)
{
	struct dns_resolver *res = resolver(0, 0);

	check_bogus(res, "expired.example", DNS_T_MX, "expired");
	dns_resolver_free(res);
}

Test(dns, bogus_tampered_rrsets_only)
{
	struct dns_resolver *res = resolver(0, 0);

	check_bogus(res, "mx1.tampered.example", DNS_T_A, NULL);
	/* the rest of the zone is untouched */
	check(res, "mx1.tampered.example", DNS_T_AAAA, DNS_DATA, DNS_SEC_SECURE);
	check(res, "tampered.example", DNS_T_MX, DNS_DATA, DNS_SEC_SECURE);
	check(res, "_25._tcp.mx2.tampered.example", DNS_T_TLSA, DNS_DATA, DNS_SEC_SECURE);
	check_bogus(res, "_25._tcp.mx1.tlsabogus.example", DNS_T_TLSA, NULL);
	check_bogus(res, "_25._tcp.mx2.tlsabogus.example", DNS_T_TLSA, NULL);
	check(res, "mx1.tlsabogus.example", DNS_T_A, DNS_DATA, DNS_SEC_SECURE);
	dns_resolver_free(res);
}

Test(dns, override_date_makes_signatures_expire)
{
	struct dns_options o;
	struct dns_resolver *res;
	char *err = NULL;

	world_dns_options(&w, &o);
	o.override_date = "20600101000000";
	res = dns_resolver_new(&o, &err);
	cr_assert_not_null(res, "%s", err ? err : "?");
	check_bogus(res, "secure.example", DNS_T_MX, NULL);
	dns_resolver_free(res);
}

/* ------------------------------------------------------------ RRSIG expiration */

/* ownsig.example's RRSIG expiration (tools/mkworld.sh: ownsig.expire). */
static int64_t
ownsig_expire(void)
{
	char *path = world_path(&w, "ownsig.expire");
	FILE *fp = fopen(path, "r");
	long long t = 0;

	cr_assert_not_null(fp, "%s", path);
	cr_assert_eq(fscanf(fp, "%lld", &t), 1);
	fclose(fp);
	free(path);
	return (int64_t)t;
}

Test(dns, sig_expire_of_secure_answers)
{
	struct dns_resolver *res = resolver(0, 0);
	int64_t now = (int64_t)time(NULL), want = ownsig_expire();
	static const struct {
		const char *name;
		uint16_t type;
	} own[] = {
		{ "ownsig.example", DNS_T_MX },
		{ "mx1.ownsig.example", DNS_T_A },
		{ "_25._tcp.mx1.ownsig.example", DNS_T_TLSA },
	};

	/* signed with -e (2 days): exactly that expiration, also from the cache */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
			struct dns_answer *a = lookup(res, own[i].name, own[i].type, 5000);

			expect(a, DNS_DATA, DNS_SEC_SECURE);
			cr_expect_eq(a->sig_expire, want, "%s (pass %d): sig_expire %lld, want %lld",
			    own[i].name, pass, (long long)a->sig_expire, (long long)want);
			dns_answer_free(a);
		}
	cr_expect(want > now + 86400 && want <= now + 2 * 86400, "ownsig.expire %lld",
	    (long long)want);
	/* the default signatures: 4 weeks from generation */
	struct dns_answer *a = lookup(res, "secure.example", DNS_T_MX, 5000);

	cr_expect(a->sig_expire > now + 20 * 86400 && a->sig_expire <= now + 29 * 86400,
	    "secure.example: sig_expire %lld, now %lld", (long long)a->sig_expire, (long long)now);
	dns_answer_free(a);
	/* a CNAME chain: the answer section holds the CNAME's and the A's RRSIGs */
	a = lookup(res, "mx1.cname.example", DNS_T_A, 5000);
	expect(a, DNS_DATA, DNS_SEC_SECURE);
	cr_expect_gt(a->sig_expire, now);
	dns_answer_free(a);
	dns_resolver_free(res);
}

Test(dns, sig_expire_zero_without_signed_answer)
{
	struct dns_resolver *res = resolver(500, 1);
	static const struct {
		const char *name;
		uint16_t type;
	} none[] = {
		{ "insecure.example", DNS_T_MX },		 /* insecure data */
		{ "nope.secure.example", DNS_T_A },		 /* secure NXDOMAIN */
		{ "mx2.secure.example", DNS_T_AAAA },		 /* secure NODATA */
		{ "bogus.example", DNS_T_MX },			 /* bogus */
		{ "expired.example", DNS_T_MX },		 /* bogus: expired */
		{ "servfail.example", DNS_T_MX },		 /* failure */
	};

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		struct dns_answer *a = lookup(res, none[i].name, none[i].type, 5000);

		cr_expect_eq(a->sig_expire, 0, "%s: sig_expire %lld (%s/%s)", none[i].name,
		    (long long)a->sig_expire, dns_status_name(a->status), dns_sec_name(a->sec));
		dns_answer_free(a);
	}
	dns_resolver_free(res);
}

/* ------------------------------------------------------------ CNAME */

Test(dns, cname_canonname)
{
	struct dns_resolver *res = resolver(0, 0);
	struct dns_answer *a = lookup(res, "mx1.cname.example", DNS_T_A, 5000);

	expect(a, DNS_DATA, DNS_SEC_SECURE);
	cr_assert_not_null(a->canonname);
	cr_expect(dnsname_equal(a->canonname, "real1.cname.example"), "canonname %s", a->canonname);
	cr_expect_str_eq(a->qname, "mx1.cname.example", "qname is kept as asked");
	dns_answer_free(a);
	/* across zones */
	a = lookup(res, "mx2.cname.example", DNS_T_A, 5000);
	expect(a, DNS_DATA, DNS_SEC_SECURE);
	cr_assert_not_null(a->canonname);
	cr_expect(dnsname_equal(a->canonname, "mx2.secure.example"), "canonname %s", a->canonname);
	dns_answer_free(a);
	/* the CNAME itself, and a TLSA lookup whose answer is a denial */
	a = lookup(res, "mx.cnameorig.example", DNS_T_CNAME, 5000);
	expect(a, DNS_DATA, DNS_SEC_SECURE);
	cr_expect_null(a->canonname, "a CNAME query does not follow the CNAME");
	dns_answer_free(a);
	check(res, "_25._tcp.real.cnameorig.example", DNS_T_TLSA, DNS_NXDOMAIN, DNS_SEC_SECURE);
	check(res, "_25._tcp.mx.cnameorig.example", DNS_T_TLSA, DNS_DATA, DNS_SEC_SECURE);
	dns_resolver_free(res);
}

/* ------------------------------------------------------------ faults */

Test(dns, servfail_and_refused_are_indeterminate_failures)
{
	struct dns_resolver *res = resolver(500, 1);
	const char *names[] = { "servfail.example", "refused.example" };

	for (size_t i = 0; i < 2; i++) {
		struct dns_answer *a = lookup(res, names[i], DNS_T_MX, 5000);

		expect(a, DNS_FAIL, DNS_SEC_INDETERMINATE);
		cr_expect_eq(a->rcode, 2, "%s: rcode %d", names[i], a->rcode);
		cr_expect_not_null(a->why);
		cr_expect_eq(a->ttl, 0);
		dns_answer_free(a);
	}
	dns_resolver_free(res);
}

Test(dns, blackhole_times_out_at_the_deadline)
{
	/* libunbound alone would retry for many seconds */
	struct dns_resolver *res = resolver(5000, 3);
	struct dns_batch *b = dns_batch_new(res);
	struct dns_answer *a;
	int64_t t0 = clock_now_ms(), deadline = t0 + 700;
	unsigned tag, seen = 0;

	dns_batch_add(b, "blackhole.example", DNS_T_MX, 1);
	dns_batch_add(b, "securedead.example", DNS_T_MX, 2);
	dns_batch_add(b, "secure.example", DNS_T_MX, 3);
	while (dns_batch_next(b, deadline, &tag, &a) == 1) {
		cr_assert(tag >= 1 && tag <= 3 && !(seen & (1u << tag)), "tag %u", tag);
		seen |= 1u << tag;
		if (tag == 3) {
			expect(a, DNS_DATA, DNS_SEC_SECURE);
		} else {
			expect(a, DNS_TIMEOUT, DNS_SEC_INDETERMINATE);
			cr_expect_not_null(a->why);
			cr_expect_eq(a->rcode, 0);
		}
		dns_answer_free(a);
	}
	cr_expect_eq(seen, 0xe, "every lookup answered once");
	cr_expect_geq(clock_now_ms(), deadline - 5, "the timeouts came at the deadline");
	cr_expect_leq(clock_now_ms(), deadline + 250, "took %lld ms", (long long)(clock_now_ms() - t0));
	cr_expect_eq(dns_batch_pending(b), 0);
	dns_batch_free(b);
	dns_resolver_free(res);
}

Test(dns, slow_server_gives_real_answers)
{
	struct dns_resolver *res = resolver(3000, 2);
	struct dns_answer *a = lookup(res, "slow.example", DNS_T_MX, 5000);

	expect(a, DNS_DATA, DNS_SEC_INSECURE);
	cr_expect_eq(a->count, 1);
	cr_expect_geq(a->elapsed_ms + 5, SLOW_MS, "answered after %u ms", a->elapsed_ms);
	dns_answer_free(a);
	check(res, "mx1.slow.example", DNS_T_A, DNS_DATA, DNS_SEC_INSECURE);
	check(res, "mx1.slow.example", DNS_T_AAAA, DNS_NODATA, DNS_SEC_INSECURE);
	check(res, "nope.slow.example", DNS_T_A, DNS_NXDOMAIN, DNS_SEC_INSECURE);
	dns_resolver_free(res);
}

Test(dns, resolver_usable_after_cancellations)
{
	struct dns_resolver *res = resolver(5000, 3);
	struct dns_batch *b = dns_batch_new(res);
	struct dns_answer *a;
	unsigned tag;

	/* freed with lookups in flight */
	for (unsigned i = 0; i < 20; i++)
		dns_batch_add(b, i % 2 ? "blackhole.example" : "securedead.example", DNS_T_MX, i);
	dns_batch_free(b);
	/* cancelled at a deadline */
	b = dns_batch_new(res);
	dns_batch_add(b, "blackhole.example", DNS_T_A, 5);
	cr_assert_eq(dns_batch_next(b, clock_now_ms() + 100, &tag, &a), 1);
	expect(a, DNS_TIMEOUT, DNS_SEC_INDETERMINATE);
	dns_answer_free(a);
	cr_expect_eq(dns_batch_next(b, clock_now_ms() + 100, &tag, &a), 0);
	dns_batch_free(b);
	/* an already-passed deadline: everything comes back as a timeout at once */
	b = dns_batch_new(res);
	dns_batch_add(b, "blackhole.example", DNS_T_AAAA, 6);
	cr_assert_eq(dns_batch_next(b, clock_now_ms() - 1000, &tag, &a), 1);
	cr_expect_eq(tag, 6);
	cr_expect_eq(a->status, DNS_TIMEOUT);
	dns_answer_free(a);
	dns_batch_free(b);
	/* and the resolver still answers */
	check(res, "secure.example", DNS_T_MX, DNS_DATA, DNS_SEC_SECURE);
	check(res, "mx2.secure.example", DNS_T_A, DNS_DATA, DNS_SEC_SECURE);
	dns_resolver_free(res);
}

/* ------------------------------------------------------------ concurrency */

#define MANY 300

/* Lookup i of a mixed load: what it must come back as. */
static void
many_case(unsigned i, char *name, size_t len, uint16_t *type, enum dns_status *st, enum dns_sec *sec)
{
	switch (i % 5) {
	case 0:
		snprintf(name, len, "n%u.secure.example", i);
		*type = DNS_T_A, *st = DNS_NXDOMAIN, *sec = DNS_SEC_SECURE;
		break;
	case 1:
		snprintf(name, len, "secure.example");
		*type = DNS_T_MX, *st = DNS_DATA, *sec = DNS_SEC_SECURE;
		break;
	case 2:
		snprintf(name, len, "x%u.nsec3.example", i);
		*type = DNS_T_TLSA, *st = DNS_NXDOMAIN, *sec = DNS_SEC_SECURE;
		break;
	case 3:
		snprintf(name, len, "h%u.insecure.example", i);
		*type = DNS_T_A, *st = DNS_NXDOMAIN, *sec = DNS_SEC_INSECURE;
		break;
	default:
		snprintf(name, len, "bogus.example");
		*type = DNS_T_MX, *st = DNS_FAIL, *sec = DNS_SEC_BOGUS;
		break;
	}
}

/* Run MANY lookups in one batch; returns the number of wrong answers. */
static unsigned
run_many(struct dns_resolver *res, unsigned salt)
{
	struct dns_batch *b = dns_batch_new(res);
	unsigned char seen[MANY] = { 0 };
	unsigned wrong = 0, got = 0, tag;
	struct dns_answer *a;
	char name[128];
	uint16_t type;
	enum dns_status st;
	enum dns_sec sec;

	for (unsigned i = 0; i < MANY; i++) {
		many_case(i + salt, name, sizeof(name), &type, &st, &sec);
		dns_batch_add(b, name, type, i);
	}
	if (dns_batch_pending(b) != MANY)
		wrong++;
	while (dns_batch_next(b, clock_now_ms() + 10000, &tag, &a) == 1) {
		got++;
		if (tag >= MANY || seen[tag]++) {
			wrong++;
		} else {
			many_case(tag + salt, name, sizeof(name), &type, &st, &sec);
			if (a->status != st || a->sec != sec || a->qtype != type ||
			    !dnsname_equal(a->qname, name))
				wrong++;
		}
		dns_answer_free(a);
	}
	if (got != MANY || dns_batch_pending(b) != 0)
		wrong++;
	dns_batch_free(b);
	return wrong;
}

Test(dns, many_lookups_in_one_batch)
{
	struct dns_resolver *res = resolver(0, 0);

	cr_expect_eq(run_many(res, 0), 0);
	dns_resolver_free(res);
}

struct worker {
	struct dns_resolver *res;
	pthread_barrier_t *bar;
	unsigned salt, wrong;
};

static void *
worker_run(void *arg)
{
	struct worker *k = arg;

	pthread_barrier_wait(k->bar);
	for (int round = 0; round < 2; round++)
		k->wrong += run_many(k->res, k->salt + (unsigned)round);
	return NULL;
}

Test(dns, batches_from_many_threads)
{
	enum { T = 8 };
	struct dns_resolver *res = resolver(0, 0);
	struct worker k[T];
	pthread_t t[T];
	pthread_barrier_t bar;

	pthread_barrier_init(&bar, NULL, T);
	for (unsigned i = 0; i < T; i++) {
		k[i] = (struct worker){ .res = res, .bar = &bar, .salt = i * 7, .wrong = 0 };
		cr_assert_eq(pthread_create(&t[i], NULL, worker_run, &k[i]), 0);
	}
	for (unsigned i = 0; i < T; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(k[i].wrong, 0, "thread %u: %u wrong answers", i, k[i].wrong);
	}
	pthread_barrier_destroy(&bar);
	dns_resolver_free(res);
}

/* ------------------------------------------------------------ odd input */

Test(dns, hostile_names_come_back_as_answers)
{
	struct dns_resolver *res = resolver(0, 0);
	struct dns_batch *b = dns_batch_new(res);
	char longname[400];
	struct dns_answer *a;
	unsigned tag, n = 0;

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	for (size_t i = 50; i < sizeof(longname) - 1; i += 51)
		longname[i] = '.';
	dns_batch_add(b, longname, DNS_T_A, 1);	/* 399 characters */
	dns_batch_add(b, "", DNS_T_MX, 2);		/* the root */
	dns_batch_add(b, "a..b.example", DNS_T_A, 3);
	while (dns_batch_next(b, clock_now_ms() + 5000, &tag, &a) == 1) {
		n++;
		cr_expect(tag >= 1 && tag <= 3);
		cr_expect_not_null(a->qname);
		if (tag == 1 || tag == 3)
			cr_expect_neq(a->status, DNS_DATA, "tag %u: %s", tag, dns_status_name(a->status));
		if (tag == 2)
			expect(a, DNS_NODATA, DNS_SEC_SECURE);
		dns_answer_free(a);
	}
	cr_expect_eq(n, 3, "one answer per lookup, refused or not");
	dns_batch_free(b);
	dns_resolver_free(res);
}

Test(dns, answer_dup_and_synthetic_failures)
{
	struct dns_resolver *res = resolver(0, 0);
	struct dns_answer *a = lookup(res, "mx1.cname.example", DNS_T_A, 5000), *c;

	expect(a, DNS_DATA, DNS_SEC_SECURE);
	cr_assert_gt(a->count, 0);
	c = dns_answer_dup(a);
	cr_assert_neq(c, a);
	cr_expect_str_eq(c->qname, a->qname);
	cr_expect_neq(c->qname, a->qname, "deep copy");
	cr_expect_str_eq(c->canonname, a->canonname);
	cr_assert_eq(c->count, a->count);
	cr_expect_neq(c->rr[0].data, a->rr[0].data);
	cr_expect_eq(memcmp(c->rr[0].data, a->rr[0].data, a->rr[0].len), 0);
	dns_answer_free(a);
	dns_answer_free(c);
	a = dns_answer_new_fail("x.example", DNS_T_TLSA, DNS_TIMEOUT, "late");
	expect(a, DNS_TIMEOUT, DNS_SEC_INDETERMINATE);
	cr_expect_str_eq(a->why, "late");
	dns_answer_free(a);
	dns_answer_free(NULL);
	dns_batch_free(NULL);
	dns_resolver_free(res);
}

/* ------------------------------------------------------------ creation */

static void
expect_creation_error(struct dns_options *o, const char *part)
{
	char *err = NULL;
	struct dns_resolver *res = dns_resolver_new(o, &err);

	cr_expect_null(res, "resolver created despite: %s", part);
	cr_assert_not_null(err, "an error text");
	if (part)
		cr_expect_not_null(strstr(err, part), "error '%s' lacks '%s'", err, part);
	free(err);
	dns_resolver_free(res);
}

Test(dns, creation_errors)
{
	struct dns_options o;
	char *missing = world_path(&w, "no-such-unbound.conf");
	char *nokey = world_path(&w, "no-such-root.key");

	world_dns_options(&w, &o);
	/* libunbound parses the anchor only at start-up: any error text will do */
	o.trust_anchor = ". IN DS 1 2 3 zz-not-hex";
	expect_creation_error(&o, NULL);

	world_dns_options(&w, &o);
	o.trust_anchor = "garbage";
	expect_creation_error(&o, NULL);

	world_dns_options(&w, &o);
	o.unbound_config = missing;
	expect_creation_error(&o, missing);

	world_dns_options(&w, &o);
	o.trust_anchor = NULL;
	expect_creation_error(&o, "trust anchor");

	world_dns_options(&w, &o);
	o.trust_anchor = NULL;
	o.trust_anchor_file = nokey;
	expect_creation_error(&o, nokey);

	world_dns_options(&w, &o);
	o.retries = 0;
	o.max_rtt_ms = 0;
	o.override_date = "not-a-date";
	expect_creation_error(&o, "val-override-date");
	free(missing);
	free(nokey);
}

Test(dns, trust_anchor_file)
{
	struct dns_options o;
	struct dns_resolver *res;
	char *path = world_path(&w, "root.key"), *err = NULL;

	world_dns_options(&w, &o);
	o.trust_anchor = NULL;
	o.trust_anchor_file = path;
	res = dns_resolver_new(&o, &err);
	cr_assert_not_null(res, "%s", err ? err : "?");
	check(res, "secure.example", DNS_T_MX, DNS_DATA, DNS_SEC_SECURE);
	check_bogus(res, "bogus.example", DNS_T_MX, NULL);
	dns_resolver_free(res);
	free(path);
}
