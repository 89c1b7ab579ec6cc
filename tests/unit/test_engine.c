/*
 * test_engine.c - unit tests of the pure RFC 7672 decision engine
 * (policy/policy.h: policy_engine.c, policy_hosts.c, policy_decision.c),
 * driven by the in-memory resolver of fake_dns.h.
 *
 * Covers the ladder of doc/engine.md and the decision table of RFC 7672
 * (standards digest 1.11): local levels, address literals, "[host]" next
 * hops and ports, every MX outcome (failures, bogus, NXDOMAIN, NODATA,
 * null MX, insecure MX, CNAME expansion, limits, ordering, hostile RDATA),
 * every per-host address and TLSA outcome, aggregation and the defer
 * ranking, dane-only, answer-order independence, parallel issue of
 * lookups, the decision TTL and reference counting. Each test asserts which
 * lookups were asked and, where it matters, which were not.
 *
 * Tests marked "RFC:" check a rule of RFC 7672 that the engine once got
 * wrong (see the helper report); they are written to the RFC.
 *
 * Ownership: the suite fixture owns the zone z and the last decision d;
 * run_in() drops the previous decision. Run under valgrind with
 * --trace-children=yes (criterion forks a child per test).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_dns.h"
#include "mem.h"
#include "policy.h"

#define D	"example.com"
#define MX1	"mx1.example.com"
#define MX2	"mx2.example.com"
#define MX3	"mx3.example.com"
#define MX4	"mx4.example.com"

static struct fake_zone *z;
static struct policy_decision *d;

static void
setup(void)
{
	z = fake_zone_new();
	d = NULL;
}

static void
teardown(void)
{
	policy_decision_unref(d);
	fake_zone_free(z);
}

TestSuite(engine, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ helpers */

static struct policy_input
input(const char *domain, enum policy_level lvl)
{
	struct policy_input in;

	memset(&in, 0, sizeof(in));
	in.domain = domain;
	in.level = lvl;
	in.source = POLICY_SRC_DEFAULT;
	in.port = 25;
	in.want_ipv4 = 1;
	in.want_ipv6 = 1;
	in.insecure_mx_dane = 1;
	in.max_hosts = 10;
	return in;
}

/* Run the engine on z; the decision lands in d (the previous one dropped). */
static void
run_in(const struct policy_input *in)
{
	unsigned n = 0;
	int rc;

	policy_decision_unref(d);
	d = NULL;
	rc = fake_run(z, in, &d, &n);
	cr_assert_eq(rc, FAKE_OK, "fake_run %d (-1 stall, -2 no result)", rc);
	cr_assert_not_null(d);
	cr_assert_eq(n, d->queries, "engine counted %u queries, asked %u", d->queries, n);
	cr_assert_eq(d->refs, 1);
	cr_assert_not_null(d->why);
	cr_assert_null(strstr(d->why, "(null)"), "why: %s", d->why);
	cr_assert_str_eq(d->domain, in->domain);
}

static void
run(const char *domain, enum policy_level lvl)
{
	struct policy_input in = input(domain, lvl);

	run_in(&in);
}

static void
expect(enum policy_verdict v, enum policy_level lvl, enum policy_reason r)
{
	cr_assert_eq(d->verdict, v, "verdict %s, want %s (%s: %s)", policy_verdict_name(d->verdict),
	    policy_verdict_name(v), policy_reason_name(d->reason), d->why);
	cr_assert_eq(d->reason, r, "reason %s, want %s (%s)", policy_reason_name(d->reason),
	    policy_reason_name(r), d->why);
	cr_assert_eq(d->level, lvl, "level %s, want %s", policy_level_name(d->level),
	    policy_level_name(lvl));
	cr_assert_eq(policy_reason_verdict(d->reason), d->verdict);
}

static const struct policy_host *
host_is(const char *name, enum policy_host_state st, enum policy_reason r)
{
	const struct policy_host *h = fake_host(d, name);

	cr_assert_not_null(h, "no host %s", name);
	cr_assert_eq(h->state, st, "%s: state %s, want %s (%s)", name,
	    policy_host_state_name(h->state), policy_host_state_name(st), h->why);
	cr_assert_eq(h->reason, r, "%s: reason %s, want %s (%s)", name,
	    policy_reason_name(h->reason), policy_reason_name(r), h->why);
	cr_assert_not_null(h->why, "%s: no why", name);
	cr_assert_null(strstr(h->why, "(null)"), "%s: why %s", name, h->why);
	return h;
}

static void
tlsa_name(char *buf, size_t cap, unsigned port, const char *host)
{
	snprintf(buf, cap, "_%u._tcp.%s", port, host);
}

static struct fake_entry *
tlsa_at(const char *host, unsigned port, uint8_t u, uint8_t s, uint8_t m, size_t len)
{
	char name[320];

	tlsa_name(name, sizeof(name), port, host);
	return fake_add_tlsa(z, name, u, s, m, NULL, len);
}

static struct fake_entry *
tlsa_answer(const char *host, enum dns_status st, enum dns_sec sec)
{
	char name[320];

	tlsa_name(name, sizeof(name), 25, host);
	return fake_answer_with(z, name, DNS_T_TLSA, st, sec);
}

#define TLSA311(h)	tlsa_at((h), 25, 3, 1, 1, 32)

static unsigned
tlsa_asked(const char *host, unsigned port)
{
	char name[320];

	tlsa_name(name, sizeof(name), port, host);
	return fake_asked(z, name, DNS_T_TLSA);
}

/* A host with one A and one AAAA record, both with security sec. */
static void
host_ok(const char *name, enum dns_sec sec)
{
	fake_set_sec(fake_add_a(z, name, "192.0.2.25"), sec);
	fake_set_sec(fake_add_aaaa(z, name, "2001:db8::25"), sec);
}

static struct fake_entry *
mx(unsigned pref, const char *exchange)
{
	return fake_add_mx(z, D, pref, exchange);
}

/* The basic signed destination: MX 10 mx1, secure addresses, TLSA 3 1 1. */
static void
zone_dane1(void)
{
	mx(10, MX1);
	host_ok(MX1, DNS_SEC_SECURE);
	TLSA311(MX1);
}

static void
no_addr_lookups(void)
{
	cr_assert_eq(fake_asked(z, NULL, DNS_T_A), 0);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_AAAA), 0);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

/* ------------------------------------------------------------ local levels */

static void
check_local(enum policy_level lvl)
{
	zone_dane1();
	run(D, lvl);
	expect(POLICY_TRY, lvl, POLICY_R_LOCAL_POLICY);
	cr_assert_eq(fake_nasked(z), 0);
	cr_assert_eq(d->queries, 0);
	cr_assert_eq(d->nhosts, 0);
	cr_assert_eq(d->mx_queried, 0);
	cr_assert_eq(d->ttl, 0);
	cr_assert_eq(d->policy_level, lvl);
}

Test(engine, local_none_no_dns) { check_local(POLICY_LEVEL_NONE); }
Test(engine, local_may_no_dns) { check_local(POLICY_LEVEL_MAY); }
Test(engine, local_encrypt_no_dns) { check_local(POLICY_LEVEL_ENCRYPT); }

Test(engine, dane_asks_mx_first_then_requires)
{
	zone_dane1();
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->mx_queried, 1);
	cr_assert_eq(fake_first_asked(z, D, DNS_T_MX), 0);
	cr_assert_eq(fake_asked(z, NULL, 0), 4);	/* MX, A, AAAA, TLSA */
	cr_assert_gt(fake_first_asked(z, NULL, DNS_T_TLSA), fake_first_asked(z, MX1, DNS_T_A));
	cr_assert_eq(d->mx_status, DNS_DATA);
	cr_assert_eq(d->mx_sec, DNS_SEC_SECURE);
}

Test(engine, dane_only_requires_with_dane_only_level)
{
	zone_dane1();
	run(D, POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE_ONLY, POLICY_R_DANE);
	host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE);
}

Test(engine, dane_vs_dane_only_without_tlsa)
{
	mx(10, MX1);
	host_ok(MX1, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_NO_TLSA);
	host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA);
	cr_assert_eq(tlsa_asked(MX1, 25), 1);
	run(D, POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE_ONLY, POLICY_R_DANE_REQUIRED);
	host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_DANE_REQUIRED);
}

Test(engine, input_is_copied_into_decision)
{
	char dom[] = "example.com";
	struct policy_input in = input(dom, POLICY_LEVEL_MAY);
	struct policy_engine *e;

	in.source = POLICY_SRC_TABLE;
	in.table_key = ".example.com";
	e = policy_engine_new(&in);
	memset(dom, 'x', strlen(dom));	/* the engine keeps its own copy */
	cr_assert(policy_engine_done(e));
	d = policy_engine_result(e);
	policy_engine_free(e);
	cr_assert_not_null(d);
	cr_assert_str_eq(d->domain, "example.com");
	cr_assert_str_eq(d->table_key, ".example.com");
	cr_assert_eq(d->source, POLICY_SRC_TABLE);
	cr_assert_eq(d->policy_level, POLICY_LEVEL_MAY);
}

/* ------------------------------------------------------------ address literals, [host], ports */

Test(engine, literal_ipv4_try)
{
	run("[192.0.2.1]", POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_ADDRESS_LITERAL);
	cr_assert_eq(fake_nasked(z), 0);
	cr_assert_eq(d->nhosts, 0);
}

Test(engine, literal_ipv6_dane_only_defers)
{
	run("[IPv6:2001:db8::1]", POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE_ONLY, POLICY_R_DANE_REQUIRED);
	cr_assert_eq(fake_nasked(z), 0);
}

Test(engine, literal_under_local_level_is_local_policy)
{
	run("[192.0.2.1]", POLICY_LEVEL_ENCRYPT);
	expect(POLICY_TRY, POLICY_LEVEL_ENCRYPT, POLICY_R_LOCAL_POLICY);
	cr_assert_eq(fake_nasked(z), 0);
}

Test(engine, no_mx_relay_skips_mx_lookup)
{
	struct policy_input in = input("relay.example.net", POLICY_LEVEL_DANE);
	const struct policy_host *h;

	in.no_mx = 1;
	fake_add_mx(z, "relay.example.net", 10, MX1);	/* must be ignored */
	host_ok("relay.example.net", DNS_SEC_SECURE);
	TLSA311("relay.example.net");
	run_in(&in);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_MX), 0);
	cr_assert_eq(fake_asked(z, MX1, 0), 0);
	cr_assert_eq(d->no_mx, 1);
	cr_assert_eq(d->mx_queried, 0);
	cr_assert_eq(d->implicit_mx, 0);
	cr_assert_eq(d->nhosts, 1);
	h = host_is("relay.example.net", POLICY_HOST_DANE, POLICY_R_DANE);
	cr_assert_eq(h->preference, -1);
	cr_assert_str_eq(h->tlsa_base, "relay.example.net");
}

Test(engine, no_mx_relay_insecure)
{
	struct policy_input in = input("relay.example.net", POLICY_LEVEL_DANE);

	in.no_mx = 1;
	host_ok("relay.example.net", DNS_SEC_INSECURE);
	run_in(&in);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_ADDRESS_INSECURE);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

Test(engine, port_587_in_tlsa_owner)
{
	struct policy_input in = input("relay.example.net", POLICY_LEVEL_DANE);

	in.no_mx = 1;
	in.port = 587;
	host_ok("relay.example.net", DNS_SEC_SECURE);
	tlsa_at("relay.example.net", 587, 3, 1, 1, 32);
	run_in(&in);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->port, 587);
	cr_assert_eq(tlsa_asked("relay.example.net", 587), 1);
	cr_assert_eq(tlsa_asked("relay.example.net", 25), 0);
}

Test(engine, port_587_ignores_port_25_records)
{
	struct policy_input in = input(D, POLICY_LEVEL_DANE);

	in.port = 587;
	zone_dane1();	/* TLSA only at _25._tcp */
	run_in(&in);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_NO_TLSA);
	cr_assert_eq(tlsa_asked(MX1, 587), 1);
	cr_assert_eq(tlsa_asked(MX1, 25), 0);
}

Test(engine, port_zero_means_25)
{
	struct policy_input in = input(D, POLICY_LEVEL_DANE);

	in.port = 0;
	zone_dane1();
	run_in(&in);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->port, 25);
}

/* ------------------------------------------------------------ MX stage */

static void
check_mx_failure(enum dns_status st, enum dns_sec sec, enum policy_reason r)
{
	host_ok(D, DNS_SEC_SECURE);	/* the domain's own addresses: never a fallback */
	TLSA311(D);
	fake_answer_with(z, D, DNS_T_MX, st, sec);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, r);
	cr_assert_eq(fake_nasked(z), 1, "only the MX lookup (RFC 7672 2.1.2)");
	cr_assert_eq(d->nhosts, 0);
	cr_assert_eq(d->mx_queried, 1);
	no_addr_lookups();
	run(D, POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE_ONLY, r);
	cr_assert_eq(fake_nasked(z), 1);
}

Test(engine, mx_servfail_defers) { check_mx_failure(DNS_FAIL, DNS_SEC_INDETERMINATE, POLICY_R_MX_LOOKUP_FAILED); }
Test(engine, mx_timeout_defers) { check_mx_failure(DNS_TIMEOUT, DNS_SEC_INDETERMINATE, POLICY_R_DNS_TIMEOUT); }
Test(engine, mx_bogus_defers) { check_mx_failure(DNS_FAIL, DNS_SEC_BOGUS, POLICY_R_MX_BOGUS); }

/* RFC: 2.1.1: bogus data is a failure, whatever rcode/status came with it. */
Test(engine, rfc_mx_bogus_data_never_used)
{
	fake_set_sec(mx(10, MX1), DNS_SEC_BOGUS);
	host_ok(MX1, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_MX_BOGUS);
	cr_assert_eq(d->nhosts, 0);
	no_addr_lookups();
}

/* RFC: 2.1.1: indeterminate is treated like bogus (a failure). */
Test(engine, rfc_mx_indeterminate_data_is_failure)
{
	fake_set_sec(mx(10, MX1), DNS_SEC_INDETERMINATE);
	host_ok(MX1, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_MX_LOOKUP_FAILED);
	no_addr_lookups();
}

Test(engine, nxdomain_secure_try)
{
	run(D, POLICY_LEVEL_DANE);	/* default answer: secure NXDOMAIN */
	expect(POLICY_TRY, POLICY_LEVEL_DANE, POLICY_R_NO_SUCH_DOMAIN);
	cr_assert_eq(fake_nasked(z), 1);
	cr_assert_eq(d->mx_status, DNS_NXDOMAIN);
	run(D, POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_TRY, POLICY_LEVEL_DANE_ONLY, POLICY_R_NO_SUCH_DOMAIN);
}

Test(engine, nxdomain_insecure_try_or_dane_required)
{
	fake_zone_default(z, DNS_NXDOMAIN, DNS_SEC_INSECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_DANE, POLICY_R_NO_SUCH_DOMAIN);
	run(D, POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE_ONLY, POLICY_R_DANE_REQUIRED);
	cr_assert_eq(fake_nasked(z), 1);
}

Test(engine, nodata_is_implicit_mx)
{
	const struct policy_host *h;

	fake_entry(z, D, DNS_T_MX);	/* secure NODATA */
	host_ok(D, DNS_SEC_SECURE);
	TLSA311(D);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->implicit_mx, 1);
	cr_assert_eq(d->mx_status, DNS_NODATA);
	cr_assert_eq(d->nhosts, 1);
	h = host_is(D, POLICY_HOST_DANE, POLICY_R_DANE);
	cr_assert_eq(h->preference, -1);
	cr_assert_str_eq(h->tlsa_base, D);
	cr_assert_eq(fake_asked(z, D, DNS_T_A), 1);
	cr_assert_eq(tlsa_asked(D, 25), 1);
}

Test(engine, nodata_insecure_without_insecure_mx_dane)
{
	struct policy_input in = input(D, POLICY_LEVEL_DANE);

	in.insecure_mx_dane = 0;
	fake_set_sec(fake_entry(z, D, DNS_T_MX), DNS_SEC_INSECURE);
	host_ok(D, DNS_SEC_SECURE);
	TLSA311(D);
	run_in(&in);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_MX_INSECURE);
	cr_assert_eq(d->implicit_mx, 1);
	cr_assert_eq(fake_nasked(z), 1);
	cr_assert_eq(host_is(D, POLICY_HOST_OPPORTUNISTIC, POLICY_R_MX_INSECURE)->addr_queried, 0);
}

Test(engine, null_mx_alone_rejects)
{
	mx(0, "");
	host_ok(D, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REJECT, POLICY_LEVEL_DANE, POLICY_R_NULL_MX);
	cr_assert_eq(fake_nasked(z), 1);
	cr_assert_eq(d->nhosts, 0);
	run(D, POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_REJECT, POLICY_LEVEL_DANE_ONLY, POLICY_R_NULL_MX);
}

Test(engine, null_mx_mixed_with_real_rejects)
{
	mx(10, MX1);
	mx(0, "");
	mx(20, MX2);
	host_ok(MX1, DNS_SEC_SECURE);
	host_ok(MX2, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REJECT, POLICY_LEVEL_DANE, POLICY_R_NULL_MX);
	cr_assert_eq(d->nhosts, 0);
	no_addr_lookups();
}

Test(engine, null_mx_any_preference_rejects)
{
	mx(50, "");
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REJECT, POLICY_LEVEL_DANE, POLICY_R_NULL_MX);
}

Test(engine, insecure_mx_dane_on_host_with_tlsa)
{
	fake_set_sec(mx(10, MX1), DNS_SEC_INSECURE);
	host_ok(MX1, DNS_SEC_SECURE);
	TLSA311(MX1);
	run(D, POLICY_LEVEL_DANE);
	/* The host gets DANE with its MX name as the only reference identifier. */
	cr_assert_eq(d->mx_sec, DNS_SEC_INSECURE);
	cr_assert_eq(d->level, POLICY_LEVEL_DANE);
	cr_assert_eq(d->verdict, POLICY_REQUIRE);
	cr_assert_str_eq(host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->tlsa_base, MX1);
	cr_assert_eq(tlsa_asked(MX1, 25), 1);
}

Test(engine, insecure_mx_dane_on_without_tlsa)
{
	fake_set_sec(mx(10, MX1), DNS_SEC_INSECURE);
	host_ok(MX1, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_MX_INSECURE);
	cr_assert_eq(tlsa_asked(MX1, 25), 1);
}

Test(engine, insecure_mx_dane_off_stops_at_mx)
{
	struct policy_input in = input(D, POLICY_LEVEL_DANE);
	const struct policy_host *h;

	in.insecure_mx_dane = 0;
	fake_set_sec(mx(10, MX1), DNS_SEC_INSECURE);
	host_ok(MX1, DNS_SEC_SECURE);
	TLSA311(MX1);
	run_in(&in);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_MX_INSECURE);
	cr_assert_eq(fake_nasked(z), 1);
	h = host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_MX_INSECURE);
	cr_assert_eq(h->addr_queried, 0);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_NOT_QUERIED);
}

Test(engine, insecure_mx_dane_only_defers)
{
	fake_set_sec(mx(10, MX1), DNS_SEC_INSECURE);
	host_ok(MX1, DNS_SEC_SECURE);
	TLSA311(MX1);
	run(D, POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE_ONLY, POLICY_R_DANE_REQUIRED);
	cr_assert_eq(fake_nasked(z), 1);
}

Test(engine, mx_cname_expansion_sets_mx_domain)
{
	run(D, POLICY_LEVEL_DANE);
	cr_assert_null(d->mx_domain);
	zone_dane1();
	fake_set_canon(fake_entry(z, D, DNS_T_MX), "mail.example.net");
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_not_null(d->mx_domain);
	cr_assert_str_eq(d->mx_domain, "mail.example.net");
	cr_assert_str_eq(d->domain, D);
}

Test(engine, max_hosts_limits_examined_hosts)
{
	struct policy_input in = input(D, POLICY_LEVEL_DANE);
	const char *h[] = { MX4, MX2, MX1, MX3 };

	in.max_hosts = 2;
	for (unsigned i = 0; i < 4; i++) {
		mx(40 - 10 * i, h[i]);	/* mx4:40 mx2:30 mx1:20 mx3:10 */
		host_ok(h[i], DNS_SEC_SECURE);
	}
	run_in(&in);
	cr_assert_eq(d->nhosts, 2);
	cr_assert_str_eq(d->hosts[0].name, MX3);
	cr_assert_str_eq(d->hosts[1].name, MX1);
	cr_assert_eq(fake_asked(z, MX2, 0), 0);
	cr_assert_eq(fake_asked(z, MX4, 0), 0);
	cr_assert_eq(fake_asked(z, MX1, DNS_T_A), 1);
}

Test(engine, max_hosts_counts_distinct_hosts)
{
	struct policy_input in = input(D, POLICY_LEVEL_DANE);

	in.max_hosts = 2;
	mx(10, MX1);
	mx(15, MX1);
	mx(20, MX2);
	mx(30, MX3);
	run_in(&in);
	cr_assert_eq(d->nhosts, 2);
	cr_assert_str_eq(d->hosts[0].name, MX1);
	cr_assert_str_eq(d->hosts[1].name, MX2);
	cr_assert_eq(fake_asked(z, MX1, DNS_T_A), 1);
}

Test(engine, mx_preference_order)
{
	mx(30, MX3);
	mx(10, MX1);
	mx(65535, MX4);
	mx(20, MX2);
	run(D, POLICY_LEVEL_DANE);
	cr_assert_eq(d->nhosts, 4);
	cr_assert_str_eq(d->hosts[0].name, MX1);
	cr_assert_str_eq(d->hosts[1].name, MX2);
	cr_assert_str_eq(d->hosts[2].name, MX3);
	cr_assert_str_eq(d->hosts[3].name, MX4);
	cr_assert_eq(d->hosts[0].preference, 10);
	cr_assert_eq(d->hosts[3].preference, 65535);
}

Test(engine, mx_duplicate_host_keeps_best_preference)
{
	mx(20, MX1);
	mx(10, "MX1.Example.COM.");
	host_ok(MX1, DNS_SEC_SECURE);
	TLSA311(MX1);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->nhosts, 1);
	cr_assert_str_eq(d->hosts[0].name, MX1, "canonical (lower case) exchange");
	cr_assert_eq(d->hosts[0].preference, 10);
	cr_assert_eq(fake_asked(z, MX1, DNS_T_A), 1);
}

/* Equal preferences: the host order must not depend on the RRset order. */
Test(engine, mx_equal_preference_order_deterministic)
{
	char *first[3];

	mx(10, MX2);
	mx(10, MX3);
	mx(10, MX1);
	run(D, POLICY_LEVEL_DANE);
	cr_assert_eq(d->nhosts, 3);
	for (size_t i = 0; i < 3; i++)
		first[i] = xstrdup(d->hosts[i].name);
	fake_zone_free(z);
	z = fake_zone_new();
	mx(10, MX1);
	mx(10, MX3);
	mx(10, MX2);
	run(D, POLICY_LEVEL_DANE);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_str_eq(d->hosts[i].name, first[i], "host %zu", i);
		free(first[i]);
	}
}

/* Hostile MX RDATA, alone: nothing usable, so the lookup failed. */
static void
hostile_mx(const uint8_t *rd, size_t len)
{
	fake_add_raw(z, D, DNS_T_MX, rd, len);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_MX_LOOKUP_FAILED);
	cr_assert_eq(d->nhosts, 0);
	cr_assert_eq(fake_nasked(z), 1);
}

Test(engine, hostile_mx_truncated_label)
{
	static const uint8_t rd[] = { 0, 10, 5, 'm', 'x' };

	hostile_mx(rd, sizeof(rd));
}

Test(engine, hostile_mx_missing_root)
{
	static const uint8_t rd[] = { 0, 10, 2, 'm', 'x' };

	hostile_mx(rd, sizeof(rd));
}

Test(engine, hostile_mx_compression_pointer)
{
	static const uint8_t rd[] = { 0, 10, 2, 'm', 'x', 0xc0, 0x0c };

	hostile_mx(rd, sizeof(rd));
}

Test(engine, hostile_mx_bad_label_bytes)
{
	static const uint8_t sp[] = { 0, 10, 3, 'm', ' ', 'x', 0 };
	static const uint8_t nul[] = { 0, 10, 3, 'm', 0, 'x', 0 };
	static const uint8_t dot[] = { 0, 10, 3, 'a', '.', 'b', 0 };
	static const uint8_t hi[] = { 0, 10, 3, 'm', 0xc3, 'x', 0 };
	static const uint8_t nl[] = { 0, 10, 3, 'm', '\n', 'x', 0 };
	const uint8_t *all[] = { sp, nul, dot, hi, nl };

	for (size_t i = 0; i < 5; i++) {
		fake_zone_free(z);
		z = fake_zone_new();
		hostile_mx(all[i], sizeof(sp));
	}
}

Test(engine, hostile_mx_empty_and_short)
{
	static const uint8_t two[] = { 0, 10 };

	hostile_mx(two, 0);
	fake_zone_free(z);
	z = fake_zone_new();
	hostile_mx(two, 1);
	fake_zone_free(z);
	z = fake_zone_new();
	hostile_mx(two, 2);
}

Test(engine, hostile_mx_trailing_garbage)
{
	static const uint8_t rd[] = { 0, 10, 2, 'm', 'x', 0, 'z', 'z' };

	hostile_mx(rd, sizeof(rd));
}

Test(engine, hostile_mx_reserved_label_type)
{
	uint8_t rd[2 + 1 + 64 + 1];

	memset(rd, 'a', sizeof(rd));
	rd[0] = 0;
	rd[1] = 10;
	rd[2] = 64;	/* 0x40: not a valid label length */
	rd[sizeof(rd) - 1] = 0;
	hostile_mx(rd, sizeof(rd));
}

Test(engine, hostile_mx_name_too_long)
{
	uint8_t rd[2 + 5 * 64 + 1];
	size_t n = 2;

	rd[0] = 0;
	rd[1] = 10;
	for (int l = 0; l < 5; l++) {
		rd[n++] = 63;
		memset(rd + n, 'a', 63);
		n += 63;
	}
	rd[n++] = 0;
	hostile_mx(rd, n);
}

Test(engine, hostile_mx_mixed_with_good_uses_good)
{
	static const uint8_t ptr[] = { 0, 5, 0xc0, 0x0c };
	static const uint8_t trunc[] = { 0, 1, 9, 'x' };

	fake_add_raw(z, D, DNS_T_MX, ptr, sizeof(ptr));
	mx(20, MX1);
	fake_add_raw(z, D, DNS_T_MX, trunc, sizeof(trunc));
	host_ok(MX1, DNS_SEC_SECURE);
	TLSA311(MX1);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->nhosts, 1);
	cr_assert_str_eq(d->hosts[0].name, MX1);
}

Test(engine, mx_host_name_too_long_for_tlsa)
{
	char name[260];
	size_t n = 0;

	for (int l = 0; l < 4; l++) {	/* 63.63.63.61 = 253 characters */
		size_t len = l < 3 ? 63 : 61;

		memset(name + n, 'a' + l, len);
		n += len;
		name[n++] = '.';
	}
	name[n - 1] = 0;
	mx(10, name);
	host_ok(name, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_NO_TLSA);
	host_is(name, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

/* ------------------------------------------------------------ addresses */

Test(engine, host_a_and_aaaa)
{
	const struct policy_host *h;

	zone_dane1();
	run(D, POLICY_LEVEL_DANE);
	h = host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE);
	cr_assert_eq(h->addr_queried, 1);
	cr_assert_eq(h->addr_status, DNS_DATA);
	cr_assert_eq(h->addr_sec, DNS_SEC_SECURE);
	cr_assert_eq(h->naddrs, 2);
	cr_assert_str_eq(h->addrs[0], "192.0.2.25");
	cr_assert_str_eq(h->addrs[1], "2001:db8::25");
	cr_assert_eq(fake_asked(z, MX1, DNS_T_A), 1);
	cr_assert_eq(fake_asked(z, MX1, DNS_T_AAAA), 1);
}

Test(engine, host_ipv4_only)
{
	struct policy_input in = input(D, POLICY_LEVEL_DANE);

	in.want_ipv6 = 0;
	zone_dane1();
	run_in(&in);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_AAAA), 0);
	cr_assert_eq(host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->naddrs, 1);
}

Test(engine, host_ipv6_only)
{
	struct policy_input in = input(D, POLICY_LEVEL_DANE);

	in.want_ipv4 = 0;
	zone_dane1();
	run_in(&in);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_A), 0);
	cr_assert_str_eq(host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->addrs[0], "2001:db8::25");
}

Test(engine, host_no_family_wanted_means_ipv4)
{
	struct policy_input in = input(D, POLICY_LEVEL_DANE);

	in.want_ipv4 = in.want_ipv6 = 0;
	zone_dane1();
	run_in(&in);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(fake_asked(z, MX1, DNS_T_A), 1);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_AAAA), 0);
}

static void
check_one_family_fails(uint16_t bad, enum dns_status st)
{
	zone_dane1();
	fake_clear_rrs(fake_entry(z, MX1, bad));
	fake_answer_with(z, MX1, bad, st, DNS_SEC_INDETERMINATE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->naddrs, 1);
	cr_assert_eq(tlsa_asked(MX1, 25), 1);
}

Test(engine, host_aaaa_servfail_a_usable) { check_one_family_fails(DNS_T_AAAA, DNS_FAIL); }
Test(engine, host_a_timeout_aaaa_usable) { check_one_family_fails(DNS_T_A, DNS_TIMEOUT); }

static void
check_host_unusable(enum dns_status sa, enum dns_sec ca, enum dns_status s6, enum dns_sec c6,
    enum policy_reason r)
{
	const struct policy_host *h;

	mx(10, MX1);
	TLSA311(MX1);
	fake_answer_with(z, MX1, DNS_T_A, sa, ca);
	fake_answer_with(z, MX1, DNS_T_AAAA, s6, c6);
	if (sa == DNS_DATA)
		fake_add_a(z, MX1, "192.0.2.25");
	if (s6 == DNS_DATA)
		fake_add_aaaa(z, MX1, "2001:db8::25");
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, r);
	h = host_is(MX1, POLICY_HOST_UNUSABLE, r);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_NOT_QUERIED);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

Test(engine, host_both_families_fail)
{
	check_host_unusable(DNS_FAIL, DNS_SEC_INDETERMINATE, DNS_FAIL, DNS_SEC_INDETERMINATE,
	    POLICY_R_ADDRESS_LOOKUP_FAILED);
	cr_assert_eq(d->hosts[0].addr_status, DNS_FAIL);
}

Test(engine, host_both_families_timeout)
{
	check_host_unusable(DNS_TIMEOUT, DNS_SEC_INDETERMINATE, DNS_TIMEOUT, DNS_SEC_INDETERMINATE,
	    POLICY_R_DNS_TIMEOUT);
}

Test(engine, host_bogus_a_with_good_aaaa)
{
	check_host_unusable(DNS_FAIL, DNS_SEC_BOGUS, DNS_DATA, DNS_SEC_SECURE, POLICY_R_ADDRESS_BOGUS);
	cr_assert_eq(d->hosts[0].addr_sec, DNS_SEC_BOGUS);
}

Test(engine, host_bogus_aaaa_with_good_a)
{
	check_host_unusable(DNS_DATA, DNS_SEC_SECURE, DNS_FAIL, DNS_SEC_BOGUS, POLICY_R_ADDRESS_BOGUS);
}

Test(engine, host_bogus_flagged_address_data_unused)
{
	check_host_unusable(DNS_DATA, DNS_SEC_BOGUS, DNS_NODATA, DNS_SEC_SECURE,
	    POLICY_R_ADDRESS_BOGUS);
}

Test(engine, host_no_address)
{
	check_host_unusable(DNS_NODATA, DNS_SEC_SECURE, DNS_NODATA, DNS_SEC_SECURE,
	    POLICY_R_NO_ADDRESS);
}

Test(engine, host_nxdomain)
{
	check_host_unusable(DNS_NXDOMAIN, DNS_SEC_SECURE, DNS_NXDOMAIN, DNS_SEC_SECURE,
	    POLICY_R_NO_ADDRESS);
}

Test(engine, host_malformed_address_rdata_skipped)
{
	static const uint8_t three[] = { 192, 0, 2 };

	mx(10, MX1);
	fake_add_raw(z, MX1, DNS_T_A, three, sizeof(three));
	fake_add_raw(z, MX1, DNS_T_AAAA, three, sizeof(three));
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_NO_ADDRESS);
	cr_assert_eq(d->hosts[0].naddrs, 0);
}

/* A failure answer without a why text still gives readable reasons. */
Test(engine, failure_without_why_text)
{
	mx(10, MX1);
	fake_set_sec(fake_set_status(fake_entry(z, MX1, DNS_T_A), DNS_FAIL), DNS_SEC_BOGUS);
	fake_set_status(fake_entry(z, MX1, DNS_T_AAAA), DNS_FAIL);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_ADDRESS_BOGUS);
	host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_ADDRESS_BOGUS);
	mx(20, MX2);
	fake_set_status(fake_entry(z, MX2, DNS_T_A), DNS_FAIL);
	fake_set_status(fake_entry(z, MX2, DNS_T_AAAA), DNS_FAIL);
	run(D, POLICY_LEVEL_DANE);
	host_is(MX2, POLICY_HOST_UNUSABLE, POLICY_R_ADDRESS_LOOKUP_FAILED);
}

Test(engine, host_insecure_addresses_no_tlsa)
{
	const struct policy_host *h;

	mx(10, MX1);
	host_ok(MX1, DNS_SEC_INSECURE);
	TLSA311(MX1);	/* present, but must not be looked up */
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_ADDRESS_INSECURE);
	h = host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_ADDRESS_INSECURE);
	cr_assert_eq(h->addr_sec, DNS_SEC_INSECURE);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_NOT_QUERIED);
	cr_assert_null(h->tlsa_base);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_CNAME), 0);
}

/* An alias MX1 -> target.insecure.example with insecure addresses. */
static void
insecure_alias(enum dns_sec cname_sec)
{
	const char *t = "target.insecure.example";

	mx(10, MX1);
	host_ok(MX1, DNS_SEC_INSECURE);
	fake_set_canon(fake_entry(z, MX1, DNS_T_A), t);
	fake_set_canon(fake_entry(z, MX1, DNS_T_AAAA), t);
	fake_set_sec(fake_add_cname(z, MX1, t), cname_sec);
	TLSA311(MX1);
	TLSA311(t);
}

Test(engine, host_insecure_via_secure_first_cname)
{
	const struct policy_host *h;

	insecure_alias(DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	h = host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE);
	cr_assert_str_eq(h->tlsa_base, MX1, "the original name is the only candidate");
	cr_assert_str_eq(h->canonname, "target.insecure.example");
	cr_assert_eq(fake_asked(z, MX1, DNS_T_CNAME), 1);
	cr_assert_eq(tlsa_asked(MX1, 25), 1);
	cr_assert_eq(tlsa_asked("target.insecure.example", 25), 0);
	cr_assert_gt(fake_first_asked(z, MX1, DNS_T_CNAME), fake_first_asked(z, MX1, DNS_T_AAAA));
	cr_assert_gt(fake_first_asked(z, NULL, DNS_T_TLSA), fake_first_asked(z, MX1, DNS_T_CNAME));
}

Test(engine, host_insecure_via_insecure_first_cname)
{
	insecure_alias(DNS_SEC_INSECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_ADDRESS_INSECURE);
	host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_ADDRESS_INSECURE);
	cr_assert_eq(fake_asked(z, MX1, DNS_T_CNAME), 1);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

Test(engine, host_insecure_alias_cname_lookup_fails)
{
	insecure_alias(DNS_SEC_SECURE);
	fake_clear_rrs(fake_entry(z, MX1, DNS_T_CNAME));
	fake_answer_with(z, MX1, DNS_T_CNAME, DNS_FAIL, DNS_SEC_BOGUS);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_ADDRESS_BOGUS);
	host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_ADDRESS_BOGUS);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

/* A secure alias MX1 -> mx.provider.example (secure addresses). */
#define PROV	"mx.provider.example"
static void
secure_alias(void)
{
	mx(10, MX1);
	host_ok(MX1, DNS_SEC_SECURE);
	fake_set_canon(fake_entry(z, MX1, DNS_T_A), PROV);
	fake_set_canon(fake_entry(z, MX1, DNS_T_AAAA), PROV);
}

Test(engine, secure_alias_tlsa_at_expanded_name)
{
	secure_alias();
	tlsa_at(PROV, 25, 2, 0, 1, 32);
	TLSA311(MX1);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_str_eq(host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->tlsa_base, PROV);
	cr_assert_eq(tlsa_asked(PROV, 25), 1);
	cr_assert_eq(tlsa_asked(MX1, 25), 0, "first secure candidate wins");
	cr_assert_eq(fake_asked(z, NULL, DNS_T_CNAME), 0);
}

Test(engine, secure_alias_denied_then_original)
{
	char a[320], b[320];

	secure_alias();
	TLSA311(MX1);	/* nothing at PROV: secure NXDOMAIN */
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_str_eq(host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->tlsa_base, MX1);
	tlsa_name(a, sizeof(a), 25, PROV);
	tlsa_name(b, sizeof(b), 25, MX1);
	cr_assert_lt(fake_first_asked(z, a, DNS_T_TLSA), fake_first_asked(z, b, DNS_T_TLSA));
}

Test(engine, secure_alias_insecure_then_none)
{
	const struct policy_host *h;

	secure_alias();
	fake_set_sec(tlsa_at(PROV, 25, 3, 1, 1, 32), DNS_SEC_INSECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_NO_TLSA);
	h = host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_NONE);
	cr_assert_null(h->tlsa_base);
	cr_assert_eq(tlsa_asked(PROV, 25), 1);
	cr_assert_eq(tlsa_asked(MX1, 25), 1);
}

Test(engine, secure_alias_failure_no_fallback)
{
	const struct policy_host *h;

	secure_alias();
	tlsa_answer(PROV, DNS_FAIL, DNS_SEC_INDETERMINATE);
	TLSA311(MX1);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_TLSA_LOOKUP_FAILED);
	h = host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_TLSA_LOOKUP_FAILED);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_FAILED);
	cr_assert_eq(tlsa_asked(MX1, 25), 0, "a failure does not move to the next candidate");
}

/* ------------------------------------------------------------ TLSA */

static void
two_hosts(void)
{
	mx(10, MX1);
	mx(20, MX2);
	host_ok(MX1, DNS_SEC_SECURE);
	host_ok(MX2, DNS_SEC_SECURE);
}

Test(engine, tlsa_failure_host_unusable_other_used)
{
	two_hosts();
	tlsa_answer(MX1, DNS_FAIL, DNS_SEC_INDETERMINATE);
	TLSA311(MX2);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_TLSA_LOOKUP_FAILED);
	host_is(MX2, POLICY_HOST_DANE, POLICY_R_DANE);
}

Test(engine, tlsa_failure_other_host_without_tlsa)
{
	two_hosts();
	tlsa_answer(MX1, DNS_FAIL, DNS_SEC_INDETERMINATE);
	run(D, POLICY_LEVEL_DANE);
	/* Level dane, not may: "may" would let the MTA use MX1 in cleartext. */
	expect(POLICY_TRY, POLICY_LEVEL_DANE, POLICY_R_NO_TLSA);
	host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_TLSA_LOOKUP_FAILED);
	host_is(MX2, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA);
}

Test(engine, tlsa_bogus_unusable)
{
	const struct policy_host *h;

	mx(10, MX1);
	host_ok(MX1, DNS_SEC_SECURE);
	tlsa_answer(MX1, DNS_FAIL, DNS_SEC_BOGUS);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_TLSA_LOOKUP_FAILED);
	h = host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_TLSA_LOOKUP_FAILED);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_FAILED);
	cr_assert_eq(h->tlsa_sec, DNS_SEC_BOGUS);
}

/* RFC: 2.2 / 2.1.1: bogus TLSA data makes the host unusable, never opportunistic. */
Test(engine, rfc_tlsa_bogus_flagged_data_unusable)
{
	secure_alias();
	fake_set_sec(tlsa_at(PROV, 25, 3, 1, 1, 32), DNS_SEC_BOGUS);
	TLSA311(MX1);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_TLSA_LOOKUP_FAILED);
	host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_TLSA_LOOKUP_FAILED);
	cr_assert_eq(tlsa_asked(MX1, 25), 0);
}

/* RFC: 2.1.1: indeterminate TLSA data is a failure too. */
Test(engine, rfc_tlsa_indeterminate_data_unusable)
{
	mx(10, MX1);
	host_ok(MX1, DNS_SEC_SECURE);
	fake_set_sec(TLSA311(MX1), DNS_SEC_INDETERMINATE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_TLSA_LOOKUP_FAILED);
}

Test(engine, tlsa_timeout_unusable)
{
	mx(10, MX1);
	host_ok(MX1, DNS_SEC_SECURE);
	tlsa_answer(MX1, DNS_TIMEOUT, DNS_SEC_INDETERMINATE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_DNS_TIMEOUT);
	cr_assert_eq(host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_DNS_TIMEOUT)->tlsa_state,
	    POLICY_TLSA_FAILED);
}

Test(engine, tlsa_insecure_data_is_no_tlsa)
{
	const struct policy_host *h;

	mx(10, MX1);
	host_ok(MX1, DNS_SEC_SECURE);
	fake_set_sec(TLSA311(MX1), DNS_SEC_INSECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_NO_TLSA);
	h = host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_NONE);
	cr_assert_eq(h->tlsa_sec, DNS_SEC_INSECURE);
	cr_assert_eq(h->ntlsa, 0);
}

Test(engine, tlsa_secure_denials_are_no_tlsa)
{
	mx(10, MX1);
	host_ok(MX1, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);	/* secure NXDOMAIN */
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_NO_TLSA);
	tlsa_answer(MX1, DNS_NODATA, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_NO_TLSA);
	tlsa_answer(MX1, DNS_NXDOMAIN, DNS_SEC_INSECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_NO_TLSA);
}

struct rr_case {
	uint8_t u, s, m;
	size_t len;
};

static void
check_tlsa_rr(const struct rr_case *c, enum policy_host_state st, enum policy_reason hr,
    enum policy_verdict v, enum policy_reason r)
{
	const struct policy_host *h;

	fake_zone_free(z);
	z = fake_zone_new();
	mx(10, MX1);
	host_ok(MX1, DNS_SEC_SECURE);
	tlsa_at(MX1, 25, c->u, c->s, c->m, c->len);
	run(D, POLICY_LEVEL_DANE);
	cr_assert_eq(d->verdict, v, "%u %u %u len %zu", c->u, c->s, c->m, c->len);
	cr_assert_eq(d->reason, r, "%u %u %u len %zu: %s", c->u, c->s, c->m, c->len,
	    policy_reason_name(d->reason));
	cr_assert_eq(d->level, POLICY_LEVEL_DANE);
	h = host_is(MX1, st, hr);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_FOUND);
	cr_assert_str_eq(h->tlsa_base, MX1);
	cr_assert_eq(h->ntlsa, 1);
	cr_assert_eq(h->nusable, st == POLICY_HOST_DANE);
	cr_assert_eq(h->tlsa[0].usage, c->u);
}

Test(engine, tlsa_usable_records_dane)
{
	static const struct rr_case ok[] = {
		{ 3, 1, 1, 32 }, { 2, 0, 1, 32 }, { 3, 1, 2, 64 }, { 2, 1, 2, 64 }, { 3, 0, 1, 32 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		check_tlsa_rr(&ok[i], POLICY_HOST_DANE, POLICY_R_DANE, POLICY_REQUIRE, POLICY_R_DANE);
}

Test(engine, tlsa_pkix_usages_unusable)
{
	static const struct rr_case bad[] = { { 0, 0, 1, 32 }, { 1, 1, 1, 32 }, { 255, 1, 1, 32 } };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_tlsa_rr(&bad[i], POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS, POLICY_TRY,
		    POLICY_R_UNAUTH_TLS);
}

Test(engine, tlsa_bad_digest_lengths_unusable)
{
	static const struct rr_case bad[] = {
		{ 3, 1, 1, 31 }, { 3, 1, 1, 33 }, { 3, 1, 2, 32 }, { 2, 0, 2, 63 }, { 3, 1, 1, 0 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_tlsa_rr(&bad[i], POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS, POLICY_TRY,
		    POLICY_R_UNAUTH_TLS);
}

Test(engine, tlsa_unknown_selector_mtype_and_bad_full_unusable)
{
	static const struct rr_case bad[] = { { 3, 2, 1, 32 }, { 3, 1, 3, 32 }, { 3, 1, 0, 10 } };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_tlsa_rr(&bad[i], POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS, POLICY_TRY,
		    POLICY_R_UNAUTH_TLS);
}

Test(engine, tlsa_mixed_rrset_is_dane)
{
	const struct policy_host *h;

	mx(10, MX1);
	host_ok(MX1, DNS_SEC_SECURE);
	tlsa_at(MX1, 25, 1, 1, 1, 32);
	tlsa_at(MX1, 25, 3, 1, 1, 31);
	TLSA311(MX1);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	h = host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE);
	cr_assert_eq(h->ntlsa, 3);
	cr_assert_eq(h->nusable, 1);
}

Test(engine, tlsa_malformed_rdata_kept_unusable)
{
	static const uint8_t two[] = { 3, 1 };
	char name[320];

	mx(10, MX1);
	host_ok(MX1, DNS_SEC_SECURE);
	tlsa_name(name, sizeof(name), 25, MX1);
	fake_add_raw(z, name, DNS_T_TLSA, two, sizeof(two));
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_DANE, POLICY_R_UNAUTH_TLS);
	cr_assert_eq(host_is(MX1, POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS)->ntlsa, 1);
	cr_assert_eq(d->hosts[0].nusable, 0);
}

/* ------------------------------------------------------------ aggregation */

Test(engine, mixed_hosts_dane_partial)
{
	two_hosts();
	TLSA311(MX2);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_DANE, POLICY_R_DANE_PARTIAL);
	host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA);
	host_is(MX2, POLICY_HOST_DANE, POLICY_R_DANE);
}

Test(engine, dane_and_tls_hosts_partial)
{
	two_hosts();
	TLSA311(MX1);
	tlsa_at(MX2, 25, 0, 0, 1, 32);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_DANE, POLICY_R_DANE_PARTIAL);
	host_is(MX2, POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS);
}

Test(engine, tls_and_plain_hosts_unauthenticated)
{
	two_hosts();
	tlsa_at(MX1, 25, 1, 0, 1, 32);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_DANE, POLICY_R_UNAUTH_TLS);
}

Test(engine, dane_plus_unusable_host_requires)
{
	two_hosts();
	TLSA311(MX1);
	fake_clear_rrs(fake_entry(z, MX2, DNS_T_A));
	fake_clear_rrs(fake_entry(z, MX2, DNS_T_AAAA));
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	host_is(MX2, POLICY_HOST_UNUSABLE, POLICY_R_NO_ADDRESS);
}

Test(engine, insecure_and_no_tlsa_hosts_reason)
{
	mx(10, MX1);
	mx(20, MX2);
	host_ok(MX1, DNS_SEC_INSECURE);
	host_ok(MX2, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_MAY, POLICY_R_NO_TLSA);
}

/* The ranking of doc/engine.md, most telling first. */
static const enum policy_reason rank[] = {
	POLICY_R_TLSA_LOOKUP_FAILED, POLICY_R_ADDRESS_BOGUS, POLICY_R_DNS_TIMEOUT,
	POLICY_R_ADDRESS_LOOKUP_FAILED, POLICY_R_TLSA_UNUSABLE, POLICY_R_DANE_REQUIRED,
	POLICY_R_NO_ADDRESS,
};
#define NRANK (sizeof(rank) / sizeof(rank[0]))

/* Make host name fail with reason r (TLSA_UNUSABLE / DANE_REQUIRED need dane-only). */
static void
failing_host(const char *name, enum policy_reason r)
{
	switch (r) {
	case POLICY_R_TLSA_LOOKUP_FAILED:
		host_ok(name, DNS_SEC_SECURE);
		tlsa_answer(name, DNS_FAIL, DNS_SEC_INDETERMINATE);
		break;
	case POLICY_R_ADDRESS_BOGUS:
		fake_answer_with(z, name, DNS_T_A, DNS_FAIL, DNS_SEC_BOGUS);
		fake_add_aaaa(z, name, "2001:db8::25");
		break;
	case POLICY_R_DNS_TIMEOUT:
		fake_answer_with(z, name, DNS_T_A, DNS_TIMEOUT, DNS_SEC_INDETERMINATE);
		fake_answer_with(z, name, DNS_T_AAAA, DNS_TIMEOUT, DNS_SEC_INDETERMINATE);
		break;
	case POLICY_R_ADDRESS_LOOKUP_FAILED:
		fake_answer_with(z, name, DNS_T_A, DNS_FAIL, DNS_SEC_INDETERMINATE);
		fake_answer_with(z, name, DNS_T_AAAA, DNS_FAIL, DNS_SEC_INDETERMINATE);
		break;
	case POLICY_R_TLSA_UNUSABLE:
		host_ok(name, DNS_SEC_SECURE);
		tlsa_at(name, 25, 1, 1, 1, 32);
		break;
	case POLICY_R_DANE_REQUIRED:
		host_ok(name, DNS_SEC_SECURE);
		break;
	default:
		fake_entry(z, name, DNS_T_A);
		fake_entry(z, name, DNS_T_AAAA);
		break;
	}
}

static void
check_rank_pair(enum policy_reason first, enum policy_reason second, enum policy_reason want)
{
	fake_zone_free(z);
	z = fake_zone_new();
	mx(10, MX1);
	mx(20, MX2);
	failing_host(MX1, first);
	failing_host(MX2, second);
	run(D, POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE_ONLY, want);
	host_is(MX1, POLICY_HOST_UNUSABLE, first);
	host_is(MX2, POLICY_HOST_UNUSABLE, second);
}

Test(engine, defer_reason_ranking_all_pairs)
{
	for (size_t i = 0; i < NRANK; i++) {
		for (size_t j = i + 1; j < NRANK; j++) {
			check_rank_pair(rank[i], rank[j], rank[i]);
			check_rank_pair(rank[j], rank[i], rank[i]);
		}
	}
}

Test(engine, defer_reason_ranking_all_seven)
{
	const char *names[NRANK] = { "h1.example.com", "h2.example.com", "h3.example.com",
	    "h4.example.com", "h5.example.com", "h6.example.com", "h7.example.com" };

	for (size_t i = 0; i < NRANK; i++) {	/* best reason on the least preferred host */
		mx(10 * (unsigned)(i + 1), names[i]);
		failing_host(names[i], rank[NRANK - 1 - i]);
	}
	run(D, POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE_ONLY, POLICY_R_TLSA_LOOKUP_FAILED);
	cr_assert_not_null(strstr(d->why, names[NRANK - 1]), "why names the host: %s", d->why);
}

Test(engine, defer_ranking_opportunistic_level)
{
	mx(10, MX1);
	mx(20, MX2);
	mx(30, MX3);
	failing_host(MX1, POLICY_R_NO_ADDRESS);
	failing_host(MX2, POLICY_R_DNS_TIMEOUT);
	failing_host(MX3, POLICY_R_ADDRESS_LOOKUP_FAILED);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_DNS_TIMEOUT);
}

Test(engine, dane_only_tls_host_tlsa_unusable)
{
	mx(10, MX1);
	host_ok(MX1, DNS_SEC_SECURE);
	tlsa_at(MX1, 25, 3, 1, 1, 20);
	run(D, POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE_ONLY, POLICY_R_TLSA_UNUSABLE);
	cr_assert_eq(host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_TLSA_UNUSABLE)->tlsa_state,
	    POLICY_TLSA_FOUND);
}

Test(engine, dane_only_mixed_requires_dane_hosts)
{
	two_hosts();
	TLSA311(MX2);
	run(D, POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE_ONLY, POLICY_R_DANE);
	host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_DANE_REQUIRED);
	host_is(MX2, POLICY_HOST_DANE, POLICY_R_DANE);
}

Test(engine, dane_only_insecure_addresses_defer)
{
	mx(10, MX1);
	host_ok(MX1, DNS_SEC_INSECURE);
	run(D, POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE_ONLY, POLICY_R_DANE_REQUIRED);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

/* ------------------------------------------------------------ answer order */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The multiset of queries asked by the last run, sorted. */
static char **
query_set(size_t *n)
{
	char **s;

	*n = fake_nasked(z);
	s = xcalloc(*n ? *n : 1, sizeof(*s));
	for (size_t i = 0; i < *n; i++) {
		const struct fake_query *q = fake_query_at(z, i);

		s[i] = xasprintf("%u %s", q->type, q->name);
	}
	qsort(s, *n, sizeof(*s), cmp_str);
	return s;
}

static void
free_set(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

static void
same_str(const char *a, const char *b, const char *what)
{
	if (a == NULL || b == NULL)
		cr_assert_eq(a, b, "%s: one is NULL", what);
	else
		cr_assert_str_eq(a, b, "%s", what);
}

static void
same_decision(const struct policy_decision *a, const struct policy_decision *b, const char *o)
{
	cr_assert_eq(a->verdict, b->verdict, "%s: verdict", o);
	cr_assert_eq(a->reason, b->reason, "%s: reason %s vs %s", o,
	    policy_reason_name(a->reason), policy_reason_name(b->reason));
	cr_assert_eq(a->level, b->level, "%s: level", o);
	cr_assert_eq(a->ttl, b->ttl, "%s: ttl", o);
	cr_assert_eq(a->queries, b->queries, "%s: queries", o);
	cr_assert_eq(a->nhosts, b->nhosts, "%s: nhosts", o);
	same_str(a->mx_domain, b->mx_domain, o);
	for (size_t i = 0; i < a->nhosts; i++) {
		const struct policy_host *x = &a->hosts[i], *y = &b->hosts[i];

		cr_assert_str_eq(x->name, y->name, "%s: host %zu", o, i);
		cr_assert_eq(x->state, y->state, "%s: %s state", o, x->name);
		cr_assert_eq(x->reason, y->reason, "%s: %s reason", o, x->name);
		cr_assert_eq(x->tlsa_state, y->tlsa_state, "%s: %s tlsa", o, x->name);
		cr_assert_eq(x->naddrs, y->naddrs, "%s: %s naddrs", o, x->name);
		cr_assert_eq(x->ntlsa, y->ntlsa, "%s: %s ntlsa", o, x->name);
		cr_assert_eq(x->nusable, y->nusable, "%s: %s nusable", o, x->name);
		same_str(x->tlsa_base, y->tlsa_base, o);
		same_str(x->canonname, y->canonname, o);
		same_str(x->why, y->why, o);
	}
}

/* Run the zone in every order; every run must match the FIFO one. */
static void
check_order_independent(enum policy_level lvl)
{
	static const enum fake_order orders[] = { FAKE_LIFO, FAKE_INTERLEAVED };
	struct policy_decision *ref;
	char **refq, **q;
	size_t nref, n;

	fake_zone_order(z, FAKE_FIFO, 0);
	run(D, lvl);
	ref = d;
	d = NULL;
	refq = query_set(&nref);
	for (unsigned k = 0; k < 2 + 24; k++) {
		char what[64];

		if (k < 2)
			fake_zone_order(z, orders[k], 0);
		else
			fake_zone_order(z, FAKE_SHUFFLE, k * 2654435761u);
		snprintf(what, sizeof(what), "order %u", k);
		run(D, lvl);
		same_decision(ref, d, what);
		q = query_set(&n);
		cr_assert_eq(n, nref, "%s: %zu queries, FIFO asked %zu", what, n, nref);
		for (size_t i = 0; i < n; i++)
			cr_assert_str_eq(q[i], refq[i], "%s", what);
		free_set(q, n);
	}
	free_set(refq, nref);
	policy_decision_unref(ref);
}

/* Every kind of host at once. */
static void
zone_mixed(void)
{
	const char *t = "target.insecure.example";

	mx(10, MX1);		/* DANE */
	host_ok(MX1, DNS_SEC_SECURE);
	TLSA311(MX1);
	mx(20, MX2);		/* secure alias, TLSA at the original name */
	host_ok(MX2, DNS_SEC_SECURE);
	fake_set_canon(fake_entry(z, MX2, DNS_T_A), PROV);
	fake_set_canon(fake_entry(z, MX2, DNS_T_AAAA), PROV);
	tlsa_at(MX2, 25, 2, 0, 1, 32);
	mx(30, MX3);		/* insecure alias with a secure first CNAME */
	host_ok(MX3, DNS_SEC_INSECURE);
	fake_set_canon(fake_entry(z, MX3, DNS_T_A), t);
	fake_set_canon(fake_entry(z, MX3, DNS_T_AAAA), t);
	fake_add_cname(z, MX3, t);
	TLSA311(MX3);
	mx(40, MX4);		/* one family failed, all TLSA unusable */
	fake_add_a(z, MX4, "192.0.2.4");
	fake_answer_with(z, MX4, DNS_T_AAAA, DNS_TIMEOUT, DNS_SEC_INDETERMINATE);
	tlsa_at(MX4, 25, 1, 1, 1, 32);
	mx(50, "mx5.example.com");	/* TLSA failure */
	host_ok("mx5.example.com", DNS_SEC_SECURE);
	tlsa_answer("mx5.example.com", DNS_FAIL, DNS_SEC_BOGUS);
	mx(60, "mx6.example.com");	/* insecure */
	host_ok("mx6.example.com", DNS_SEC_INSECURE);
	mx(70, "mx7.example.com");	/* no address */
	fake_entry(z, "mx7.example.com", DNS_T_A);
}

Test(engine, order_independent_mixed)
{
	zone_mixed();
	check_order_independent(POLICY_LEVEL_DANE);
	expect(POLICY_TRY, POLICY_LEVEL_DANE, POLICY_R_DANE_PARTIAL);
	host_is(MX3, POLICY_HOST_DANE, POLICY_R_DANE);
	host_is(MX4, POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS);
}

Test(engine, order_independent_mixed_dane_only)
{
	zone_mixed();
	check_order_independent(POLICY_LEVEL_DANE_ONLY);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE_ONLY, POLICY_R_DANE);
}

Test(engine, order_independent_all_failing)
{
	mx(10, MX1);
	mx(20, MX2);
	mx(30, MX3);
	mx(40, MX4);
	failing_host(MX1, POLICY_R_NO_ADDRESS);
	failing_host(MX2, POLICY_R_ADDRESS_LOOKUP_FAILED);
	failing_host(MX3, POLICY_R_ADDRESS_BOGUS);
	failing_host(MX4, POLICY_R_TLSA_LOOKUP_FAILED);
	check_order_independent(POLICY_LEVEL_DANE);
	expect(POLICY_DEFER, POLICY_LEVEL_DANE, POLICY_R_TLSA_LOOKUP_FAILED);
}

Test(engine, order_independent_candidates)
{
	secure_alias();
	TLSA311(MX1);
	mx(20, MX2);
	host_ok(MX2, DNS_SEC_SECURE);
	fake_set_canon(fake_entry(z, MX2, DNS_T_A), "other.provider.example");
	fake_set_canon(fake_entry(z, MX2, DNS_T_AAAA), "other.provider.example");
	tlsa_at("other.provider.example", 25, 3, 1, 2, 64);
	check_order_independent(POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
}

/* ------------------------------------------------------------ parallelism */

Test(engine, address_lookups_issued_in_parallel)
{
	int pending = 0;

	mx(10, MX1);
	mx(20, MX2);
	mx(30, MX3);
	host_ok(MX1, DNS_SEC_SECURE);
	host_ok(MX2, DNS_SEC_SECURE);
	host_ok(MX3, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	for (size_t i = 0; i < fake_nasked(z); i++) {
		const struct fake_query *q = fake_query_at(z, i);

		if (q->type != DNS_T_A && q->type != DNS_T_AAAA)
			continue;
		cr_assert_eq(q->asked_step, 1, "%s asked after %d answers: not in parallel",
		    q->name, q->asked_step);
		pending += q->answered_at != 1;	/* still out when the first arrived */
	}
	cr_assert_eq(pending, 5, "six address lookups in flight together");
}

Test(engine, tlsa_lookup_does_not_wait_for_other_hosts)
{
	int first_tlsa, last_addr = -1;

	mx(10, MX1);
	mx(20, MX2);
	mx(30, MX3);
	host_ok(MX1, DNS_SEC_SECURE);
	host_ok(MX2, DNS_SEC_SECURE);
	host_ok(MX3, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	first_tlsa = fake_query_at(z, (size_t)fake_first_asked(z, NULL, DNS_T_TLSA))->asked_step;
	for (size_t i = 0; i < fake_nasked(z); i++) {
		const struct fake_query *q = fake_query_at(z, i);

		if ((q->type == DNS_T_A || q->type == DNS_T_AAAA) && q->answered_at > last_addr)
			last_addr = q->answered_at;
	}
	cr_assert_lt(first_tlsa, last_addr, "TLSA of mx1 asked while other hosts' addresses are out");
	cr_assert_eq(tlsa_asked(MX1, 25) + tlsa_asked(MX2, 25) + tlsa_asked(MX3, 25), 3);
}

/* ------------------------------------------------------------ TTL */

Test(engine, ttl_is_min_of_answers_used)
{
	fake_set_ttl(mx(10, MX1), 300);
	fake_set_ttl(fake_add_a(z, MX1, "192.0.2.1"), 900);
	fake_set_ttl(fake_add_aaaa(z, MX1, "2001:db8::1"), 240);
	fake_set_ttl(TLSA311(MX1), 600);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->ttl, 240);
	fake_set_ttl(fake_entry(z, "_25._tcp." MX1, DNS_T_TLSA), 45);
	run(D, POLICY_LEVEL_DANE);
	cr_assert_eq(d->ttl, 45);
	fake_set_ttl(fake_entry(z, D, DNS_T_MX), 7);
	run(D, POLICY_LEVEL_DANE);
	cr_assert_eq(d->ttl, 7);
}

Test(engine, ttl_counts_cname_and_all_hosts)
{
	insecure_alias(DNS_SEC_SECURE);
	fake_set_ttl(fake_entry(z, MX1, DNS_T_CNAME), 33);
	mx(20, MX2);
	host_ok(MX2, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	cr_assert_eq(d->ttl, 33);
	fake_set_ttl(fake_entry(z, MX2, DNS_T_AAAA), 20);
	run(D, POLICY_LEVEL_DANE);
	cr_assert_eq(d->ttl, 20);
}

Test(engine, ttl_ignores_failed_answers)
{
	zone_dane1();
	fake_clear_rrs(fake_entry(z, MX1, DNS_T_AAAA));
	fake_answer_with(z, MX1, DNS_T_AAAA, DNS_FAIL, DNS_SEC_INDETERMINATE);
	run(D, POLICY_LEVEL_DANE);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->ttl, 3600);
}

Test(engine, ttl_of_nxdomain_and_no_dns)
{
	fake_zone_ttl(z, 120);
	fake_answer_with(z, D, DNS_T_MX, DNS_NXDOMAIN, DNS_SEC_SECURE);
	run(D, POLICY_LEVEL_DANE);
	cr_assert_eq(d->ttl, 120);
	run("[192.0.2.1]", POLICY_LEVEL_DANE);
	cr_assert_eq(d->ttl, 0);
}

/* ------------------------------------------------------------ API, refcounts, names */

Test(engine, decision_refcount)
{
	struct policy_decision *r;

	zone_dane1();
	run(D, POLICY_LEVEL_DANE);
	r = policy_decision_ref(d);
	cr_assert_eq(r, d);
	cr_assert_eq(d->refs, 2);
	policy_decision_ref(d);
	cr_assert_eq(d->refs, 3);
	policy_decision_unref(r);
	policy_decision_unref(r);
	cr_assert_eq(d->refs, 1);
	cr_assert_str_eq(d->hosts[0].name, MX1);	/* still alive */
	policy_decision_unref(NULL);
}

Test(engine, decision_simple)
{
	d = policy_decision_simple("x.example", POLICY_DEFER, POLICY_LEVEL_DANE,
	    POLICY_R_INVALID_DOMAIN, "bad name");
	cr_assert_eq(d->refs, 1);
	cr_assert_str_eq(d->domain, "x.example");
	cr_assert_str_eq(d->why, "bad name");
	cr_assert_eq(d->verdict, POLICY_DEFER);
	cr_assert_eq(d->reason, POLICY_R_INVALID_DOMAIN);
	cr_assert_eq(d->nhosts, 0);
	cr_assert_eq(d->ttl, 0);
}

Test(engine, engine_api_step_by_step)
{
	struct policy_input in = input(D, POLICY_LEVEL_DANE);
	struct policy_engine *e;
	struct policy_query q;

	zone_dane1();
	e = policy_engine_new(&in);
	cr_assert_not(policy_engine_done(e));
	cr_assert_null(policy_engine_result(e));
	cr_assert(policy_engine_next_query(e, &q));
	cr_assert_str_eq(q.name, D);
	cr_assert_eq(q.type, DNS_T_MX);
	cr_assert_not(policy_engine_next_query(e, &q), "nothing more before the MX answer");
	policy_engine_answer(e, q.tag + 100, fake_answer(z, D, DNS_T_MX));	/* unknown tag */
	policy_engine_answer(e, q.tag, NULL);
	cr_assert_not(policy_engine_done(e));
	policy_engine_answer(e, q.tag, fake_answer(z, D, DNS_T_MX));
	for (int i = 0; i < 20 && !policy_engine_done(e); i++) {
		struct policy_query w[4];
		int n = 0;

		while (n < 4 && policy_engine_next_query(e, &w[n]))
			n++;
		cr_assert_gt(n, 0, "engine stalled");
		for (int k = n - 1; k >= 0; k--)
			policy_engine_answer(e, w[k].tag, fake_answer(z, w[k].name, w[k].type));
	}
	cr_assert(policy_engine_done(e));
	cr_assert_not(policy_engine_next_query(e, &q));
	policy_engine_answer(e, 0, fake_answer(z, D, DNS_T_MX));	/* late: dropped */
	d = policy_engine_result(e);
	cr_assert_not_null(d);
	cr_assert_null(policy_engine_result(e), "the result is given once");
	policy_engine_free(e);
	expect(POLICY_REQUIRE, POLICY_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->queries, 4);
	policy_engine_free(NULL);
}

Test(engine, engine_freed_unfinished)
{
	struct policy_input in = input(D, POLICY_LEVEL_DANE);
	struct policy_engine *e = policy_engine_new(&in);
	struct policy_query q;

	zone_dane1();
	cr_assert(policy_engine_next_query(e, &q));
	policy_engine_answer(e, q.tag, fake_answer(z, D, DNS_T_MX));
	cr_assert(policy_engine_next_query(e, &q));
	policy_engine_answer(e, q.tag, fake_answer(z, q.name, q.type));
	cr_assert_not(policy_engine_done(e));
	policy_engine_free(e);	/* valgrind: nothing leaks */
}

Test(engine, names_round_trip)
{
	for (unsigned r = 0; r < POLICY_R_COUNT; r++) {
		enum policy_reason back;
		const char *n = policy_reason_name((enum policy_reason)r);

		cr_assert_str_neq(n, "unknown", "reason %u", r);
		cr_assert_eq(policy_reason_parse(n, &back), 0, "%s", n);
		cr_assert_eq((unsigned)back, r);
	}
	for (unsigned l = POLICY_LEVEL_NONE; l <= POLICY_LEVEL_DANE_ONLY; l++) {
		enum policy_level back;

		cr_assert_eq(policy_level_parse(policy_level_name((enum policy_level)l), &back), 0);
		cr_assert_eq((unsigned)back, l);
	}
	cr_assert_str_eq(policy_reason_name(POLICY_R_COUNT), "unknown");
	cr_assert_eq(policy_reason_verdict(POLICY_R_NULL_MX), POLICY_REJECT);
	cr_assert_eq(policy_reason_verdict(POLICY_R_DANE), POLICY_REQUIRE);
	cr_assert_eq(policy_reason_verdict(POLICY_R_NO_TLSA), POLICY_TRY);
	cr_assert_eq(policy_reason_verdict(POLICY_R_TLSA_UNUSABLE), POLICY_DEFER);
}

Test(engine, names_reject_unknown)
{
	enum policy_reason r = POLICY_R_DANE;
	enum policy_level l = POLICY_LEVEL_MAY;

	cr_assert_eq(policy_reason_parse("DANE", &r), -1);
	cr_assert_eq(policy_reason_parse("", &r), -1);
	cr_assert_eq(policy_level_parse("dane_only", &l), -1);
	cr_assert_eq(r, POLICY_R_DANE);
	cr_assert_eq(l, POLICY_LEVEL_MAY);
	cr_assert_str_eq(policy_verdict_name((enum policy_verdict)99), "unknown");
	cr_assert_str_eq(policy_host_state_name(POLICY_HOST_TLS), "tls");
	cr_assert_str_eq(policy_tlsa_state_name(POLICY_TLSA_NOT_QUERIED), "not-queried");
	cr_assert_str_eq(policy_source_name(POLICY_SRC_TABLE), "table");
}
