/*
 * test_engine.c - unit tests of the pure RFC 7672 decision engine
 * (policy/policy.h: policy_engine.c, policy_hosts.c, policy_decision.c),
 * driven by the in-memory resolver of fake_dns.h.
 *
 * Covers the ladder of doc/engine.md and the decision table of RFC 7672
 * (standards digest 1.11) up to the MX stage: local levels, address
 * literals, "[host]" next hops and ports, every MX outcome (failures,
 * bogus, NXDOMAIN, NODATA, null MX, insecure MX, CNAME expansion, limits,
 * ordering, hostile RDATA). Per-host outcomes are in test_engine_hosts.c,
 * aggregation, order, parallelism, TTL and the API in test_engine_agg.c.
 * Each test asserts which lookups were asked and, where it matters, which
 * were not.
 *
 * Tests marked "RFC:" check a rule of RFC 7672 that the engine once got
 * wrong (see the helper report); they are written to the RFC.
 *
 * Ownership: the fixture (engine_fixture.h) owns the zone z and the last
 * decision d; fx_run_in() drops the previous decision. The three files
 * link into the one binary tests/unit/test_engine. Run under valgrind with
 * --trace-children=yes (criterion forks a child per test); see the recipe
 * in test_policy_cache.c.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine_fixture.h"
#include "fake_dns.h"
#include "mem.h"
#include "policy.h"

TestSuite(engine, .init = fx_setup, .fini = fx_teardown);

/* ------------------------------------------------------------ local levels */

static void
check_local(enum tls_level lvl)
{
	fx_zone_dane1();
	fx_run(D, lvl);
	fx_expect(POLICY_TRY, lvl, POLICY_R_LOCAL_POLICY);
	cr_assert_eq(fake_nasked(z), 0);
	cr_assert_eq(d->queries, 0);
	cr_assert_eq(d->nhosts, 0);
	cr_assert_eq(d->mx_queried, 0);
	cr_assert_eq(d->ttl, 0);
	cr_assert_eq(d->policy_level, lvl);
}

Test(engine, local_none_no_dns) { check_local(TLS_LEVEL_NONE); }
Test(engine, local_may_no_dns) { check_local(TLS_LEVEL_MAY); }
Test(engine, local_encrypt_no_dns) { check_local(TLS_LEVEL_ENCRYPT); }

Test(engine, dane_asks_mx_first_then_requires)
{
	fx_zone_dane1();
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->mx_queried, 1);
	cr_assert_eq(fake_first_asked(z, D, DNS_T_MX), 0);
	cr_assert_eq(fake_asked(z, NULL, 0), 4);	/* MX, A, AAAA, TLSA */
	cr_assert_gt(fake_first_asked(z, NULL, DNS_T_TLSA), fake_first_asked(z, MX1, DNS_T_A));
	cr_assert_eq(d->mx_status, DNS_DATA);
	cr_assert_eq(d->mx_sec, DNS_SEC_SECURE);
}

Test(engine, dane_only_requires_with_dane_only_level)
{
	fx_zone_dane1();
	fx_run(D, TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE_ONLY, POLICY_R_DANE);
	fx_host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE);
}

Test(engine, dane_vs_dane_only_without_tlsa)
{
	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA);
	fx_host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA);
	cr_assert_eq(fx_tlsa_asked(MX1, 25), 1);
	fx_run(D, TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE_ONLY, POLICY_R_DANE_REQUIRED);
	fx_host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_DANE_REQUIRED);
}

Test(engine, input_is_copied_into_decision)
{
	char dom[] = "example.com";
	struct policy_input in = fx_input(dom, TLS_LEVEL_MAY);
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
	cr_assert_eq(d->policy_level, TLS_LEVEL_MAY);
}

/* ------------------------------------------------------------ address literals, [host], ports */

Test(engine, literal_ipv4_try)
{
	fx_run("[192.0.2.1]", TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_ADDRESS_LITERAL);
	cr_assert_eq(fake_nasked(z), 0);
	cr_assert_eq(d->nhosts, 0);
}

Test(engine, literal_ipv6_dane_only_defers)
{
	fx_run("[IPv6:2001:db8::1]", TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE_ONLY, POLICY_R_DANE_REQUIRED);
	cr_assert_eq(fake_nasked(z), 0);
}

Test(engine, literal_under_local_level_is_local_policy)
{
	fx_run("[192.0.2.1]", TLS_LEVEL_ENCRYPT);
	fx_expect(POLICY_TRY, TLS_LEVEL_ENCRYPT, POLICY_R_LOCAL_POLICY);
	cr_assert_eq(fake_nasked(z), 0);
}

Test(engine, no_mx_relay_skips_mx_lookup)
{
	struct policy_input in = fx_input("relay.example.net", TLS_LEVEL_DANE);
	const struct policy_host *h;

	in.no_mx = 1;
	fake_add_mx(z, "relay.example.net", 10, MX1);	/* must be ignored */
	fx_host_ok("relay.example.net", DNS_SEC_SECURE);
	FX_TLSA311("relay.example.net");
	fx_run_in(&in);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_MX), 0);
	cr_assert_eq(fake_asked(z, MX1, 0), 0);
	cr_assert_eq(d->no_mx, 1);
	cr_assert_eq(d->mx_queried, 0);
	cr_assert_eq(d->implicit_mx, 0);
	cr_assert_eq(d->nhosts, 1);
	h = fx_host_is("relay.example.net", POLICY_HOST_DANE, POLICY_R_DANE);
	cr_assert_eq(h->preference, -1);
	cr_assert_str_eq(h->tlsa_base, "relay.example.net");
}

Test(engine, no_mx_relay_insecure)
{
	struct policy_input in = fx_input("relay.example.net", TLS_LEVEL_DANE);

	in.no_mx = 1;
	fx_host_ok("relay.example.net", DNS_SEC_INSECURE);
	fx_run_in(&in);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_ADDRESS_INSECURE);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

Test(engine, port_587_in_tlsa_owner)
{
	struct policy_input in = fx_input("relay.example.net", TLS_LEVEL_DANE);

	in.no_mx = 1;
	in.port = 587;
	fx_host_ok("relay.example.net", DNS_SEC_SECURE);
	fx_tlsa_at("relay.example.net", 587, 3, 1, 1, 32);
	fx_run_in(&in);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->port, 587);
	cr_assert_eq(fx_tlsa_asked("relay.example.net", 587), 1);
	cr_assert_eq(fx_tlsa_asked("relay.example.net", 25), 0);
}

Test(engine, port_587_ignores_port_25_records)
{
	struct policy_input in = fx_input(D, TLS_LEVEL_DANE);

	in.port = 587;
	fx_zone_dane1();	/* TLSA only at _25._tcp */
	fx_run_in(&in);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA);
	cr_assert_eq(fx_tlsa_asked(MX1, 587), 1);
	cr_assert_eq(fx_tlsa_asked(MX1, 25), 0);
}

Test(engine, port_zero_means_25)
{
	struct policy_input in = fx_input(D, TLS_LEVEL_DANE);

	in.port = 0;
	fx_zone_dane1();
	fx_run_in(&in);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->port, 25);
}

/* ------------------------------------------------------------ MX stage */

static void
check_mx_failure(enum dns_status st, enum dns_sec sec, enum policy_reason r)
{
	fx_host_ok(D, DNS_SEC_SECURE);	/* the domain's own addresses: never a fallback */
	FX_TLSA311(D);
	fake_answer_with(z, D, DNS_T_MX, st, sec);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, r);
	cr_assert_eq(fake_nasked(z), 1, "only the MX lookup (RFC 7672 2.1.2)");
	cr_assert_eq(d->nhosts, 0);
	cr_assert_eq(d->mx_queried, 1);
	fx_no_addr_lookups();
	fx_run(D, TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE_ONLY, r);
	cr_assert_eq(fake_nasked(z), 1);
}

Test(engine, mx_servfail_defers) { check_mx_failure(DNS_FAIL, DNS_SEC_INDETERMINATE, POLICY_R_MX_LOOKUP_FAILED); }
Test(engine, mx_timeout_defers) { check_mx_failure(DNS_TIMEOUT, DNS_SEC_INDETERMINATE, POLICY_R_DNS_TIMEOUT); }
Test(engine, mx_bogus_defers) { check_mx_failure(DNS_FAIL, DNS_SEC_BOGUS, POLICY_R_MX_BOGUS); }

/* RFC: 2.1.1: bogus data is a failure, whatever rcode/status came with it. */
Test(engine, rfc_mx_bogus_data_never_used)
{
	fake_set_sec(fx_mx(10, MX1), DNS_SEC_BOGUS);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_MX_BOGUS);
	cr_assert_eq(d->nhosts, 0);
	fx_no_addr_lookups();
}

/* RFC: 2.1.1: indeterminate is treated like bogus (a failure). */
Test(engine, rfc_mx_indeterminate_data_is_failure)
{
	fake_set_sec(fx_mx(10, MX1), DNS_SEC_INDETERMINATE);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_MX_LOOKUP_FAILED);
	fx_no_addr_lookups();
}

Test(engine, nxdomain_secure_try)
{
	fx_run(D, TLS_LEVEL_DANE);	/* default answer: secure NXDOMAIN */
	fx_expect(POLICY_TRY, TLS_LEVEL_DANE, POLICY_R_NO_SUCH_DOMAIN);
	cr_assert_eq(fake_nasked(z), 1);
	cr_assert_eq(d->mx_status, DNS_NXDOMAIN);
	fx_run(D, TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_TRY, TLS_LEVEL_DANE_ONLY, POLICY_R_NO_SUCH_DOMAIN);
}

Test(engine, nxdomain_insecure_try_or_dane_required)
{
	fake_zone_default(z, DNS_NXDOMAIN, DNS_SEC_INSECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_DANE, POLICY_R_NO_SUCH_DOMAIN);
	fx_run(D, TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE_ONLY, POLICY_R_DANE_REQUIRED);
	cr_assert_eq(fake_nasked(z), 1);
}

Test(engine, nodata_is_implicit_mx)
{
	const struct policy_host *h;

	fake_entry(z, D, DNS_T_MX);	/* secure NODATA */
	fx_host_ok(D, DNS_SEC_SECURE);
	FX_TLSA311(D);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->implicit_mx, 1);
	cr_assert_eq(d->mx_status, DNS_NODATA);
	cr_assert_eq(d->nhosts, 1);
	h = fx_host_is(D, POLICY_HOST_DANE, POLICY_R_DANE);
	cr_assert_eq(h->preference, -1);
	cr_assert_str_eq(h->tlsa_base, D);
	cr_assert_eq(fake_asked(z, D, DNS_T_A), 1);
	cr_assert_eq(fx_tlsa_asked(D, 25), 1);
}

Test(engine, nodata_insecure_without_insecure_mx_dane)
{
	struct policy_input in = fx_input(D, TLS_LEVEL_DANE);

	in.insecure_mx_dane = 0;
	fake_set_sec(fake_entry(z, D, DNS_T_MX), DNS_SEC_INSECURE);
	fx_host_ok(D, DNS_SEC_SECURE);
	FX_TLSA311(D);
	fx_run_in(&in);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_MX_INSECURE);
	cr_assert_eq(d->implicit_mx, 1);
	cr_assert_eq(fake_nasked(z), 1);
	cr_assert_eq(fx_host_is(D, POLICY_HOST_OPPORTUNISTIC, POLICY_R_MX_INSECURE)->addr_queried, 0);
}

Test(engine, null_mx_alone_rejects)
{
	fx_mx(0, "");
	fx_host_ok(D, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REJECT, TLS_LEVEL_DANE, POLICY_R_NULL_MX);
	cr_assert_eq(fake_nasked(z), 1);
	cr_assert_eq(d->nhosts, 0);
	fx_run(D, TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_REJECT, TLS_LEVEL_DANE_ONLY, POLICY_R_NULL_MX);
}

Test(engine, null_mx_mixed_with_real_rejects)
{
	fx_mx(10, MX1);
	fx_mx(0, "");
	fx_mx(20, MX2);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_host_ok(MX2, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REJECT, TLS_LEVEL_DANE, POLICY_R_NULL_MX);
	cr_assert_eq(d->nhosts, 0);
	fx_no_addr_lookups();
}

Test(engine, null_mx_any_preference_rejects)
{
	fx_mx(50, "");
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REJECT, TLS_LEVEL_DANE, POLICY_R_NULL_MX);
}

Test(engine, insecure_mx_dane_on_host_with_tlsa)
{
	fake_set_sec(fx_mx(10, MX1), DNS_SEC_INSECURE);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	FX_TLSA311(MX1);
	fx_run(D, TLS_LEVEL_DANE);
	/* The host gets DANE with its MX name as the only reference identifier. */
	cr_assert_eq(d->mx_sec, DNS_SEC_INSECURE);
	cr_assert_eq(d->level, TLS_LEVEL_DANE);
	cr_assert_eq(d->verdict, POLICY_REQUIRE);
	cr_assert_str_eq(fx_host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->tlsa_base, MX1);
	cr_assert_eq(fx_tlsa_asked(MX1, 25), 1);
}

Test(engine, insecure_mx_dane_on_without_tlsa)
{
	fake_set_sec(fx_mx(10, MX1), DNS_SEC_INSECURE);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_MX_INSECURE);
	cr_assert_eq(fx_tlsa_asked(MX1, 25), 1);
}

Test(engine, insecure_mx_dane_off_stops_at_mx)
{
	struct policy_input in = fx_input(D, TLS_LEVEL_DANE);
	const struct policy_host *h;

	in.insecure_mx_dane = 0;
	fake_set_sec(fx_mx(10, MX1), DNS_SEC_INSECURE);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	FX_TLSA311(MX1);
	fx_run_in(&in);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_MX_INSECURE);
	cr_assert_eq(fake_nasked(z), 1);
	h = fx_host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_MX_INSECURE);
	cr_assert_eq(h->addr_queried, 0);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_NOT_QUERIED);
}

Test(engine, insecure_mx_dane_only_defers)
{
	fake_set_sec(fx_mx(10, MX1), DNS_SEC_INSECURE);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	FX_TLSA311(MX1);
	fx_run(D, TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE_ONLY, POLICY_R_DANE_REQUIRED);
	cr_assert_eq(fake_nasked(z), 1);
}

Test(engine, mx_cname_expansion_sets_mx_domain)
{
	fx_run(D, TLS_LEVEL_DANE);
	cr_assert_null(d->mx_domain);
	fx_zone_dane1();
	fake_set_canon(fake_entry(z, D, DNS_T_MX), "mail.example.net");
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_not_null(d->mx_domain);
	cr_assert_str_eq(d->mx_domain, "mail.example.net");
	cr_assert_str_eq(d->domain, D);
}

Test(engine, max_hosts_limits_examined_hosts)
{
	struct policy_input in = fx_input(D, TLS_LEVEL_DANE);
	const char *h[] = { MX4, MX2, MX1, MX3 };

	in.max_hosts = 2;
	for (unsigned i = 0; i < 4; i++) {
		fx_mx(40 - 10 * i, h[i]);	/* mx4:40 mx2:30 mx1:20 mx3:10 */
		fx_host_ok(h[i], DNS_SEC_SECURE);
	}
	fx_run_in(&in);
	cr_assert_eq(d->nhosts, 2);
	cr_assert_str_eq(d->hosts[0].name, MX3);
	cr_assert_str_eq(d->hosts[1].name, MX1);
	cr_assert_eq(fake_asked(z, MX2, 0), 0);
	cr_assert_eq(fake_asked(z, MX4, 0), 0);
	cr_assert_eq(fake_asked(z, MX1, DNS_T_A), 1);
}

Test(engine, max_hosts_counts_distinct_hosts)
{
	struct policy_input in = fx_input(D, TLS_LEVEL_DANE);

	in.max_hosts = 2;
	fx_mx(10, MX1);
	fx_mx(15, MX1);
	fx_mx(20, MX2);
	fx_mx(30, MX3);
	fx_run_in(&in);
	cr_assert_eq(d->nhosts, 2);
	cr_assert_str_eq(d->hosts[0].name, MX1);
	cr_assert_str_eq(d->hosts[1].name, MX2);
	cr_assert_eq(fake_asked(z, MX1, DNS_T_A), 1);
}

Test(engine, mx_preference_order)
{
	fx_mx(30, MX3);
	fx_mx(10, MX1);
	fx_mx(65535, MX4);
	fx_mx(20, MX2);
	fx_run(D, TLS_LEVEL_DANE);
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
	fx_mx(20, MX1);
	fx_mx(10, "MX1.Example.COM.");
	fx_host_ok(MX1, DNS_SEC_SECURE);
	FX_TLSA311(MX1);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->nhosts, 1);
	cr_assert_str_eq(d->hosts[0].name, MX1, "canonical (lower case) exchange");
	cr_assert_eq(d->hosts[0].preference, 10);
	cr_assert_eq(fake_asked(z, MX1, DNS_T_A), 1);
}

/* Equal preferences: the host order must not depend on the RRset order. */
Test(engine, mx_equal_preference_order_deterministic)
{
	char *first[3];

	fx_mx(10, MX2);
	fx_mx(10, MX3);
	fx_mx(10, MX1);
	fx_run(D, TLS_LEVEL_DANE);
	cr_assert_eq(d->nhosts, 3);
	for (size_t i = 0; i < 3; i++)
		first[i] = xstrdup(d->hosts[i].name);
	fake_zone_free(z);
	z = fake_zone_new();
	fx_mx(10, MX1);
	fx_mx(10, MX3);
	fx_mx(10, MX2);
	fx_run(D, TLS_LEVEL_DANE);
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
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_MX_LOOKUP_FAILED);
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
	fx_mx(20, MX1);
	fake_add_raw(z, D, DNS_T_MX, trunc, sizeof(trunc));
	fx_host_ok(MX1, DNS_SEC_SECURE);
	FX_TLSA311(MX1);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
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
	fx_mx(10, name);
	fx_host_ok(name, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA);
	fx_host_is(name, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

