/*
 * test_engine_hosts.c - unit tests of the per-host stage of the pure
 * RFC 7672 decision engine (policy/policy.h), driven by the in-memory
 * resolver of fake_dns.h.
 *
 * Covers every per-host address outcome (both families, one family
 * failing, bogus, insecure, NXDOMAIN, malformed RDATA), CNAME handling
 * (insecure aliases, secure aliases and the TLSA base candidates of RFC
 * 7672 2.2.2), and every TLSA outcome (failures, bogus, indeterminate,
 * insecure, denials, usable and unusable records, malformed RDATA). Each
 * test asserts which lookups were asked and, where it matters, which were
 * not.
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

#include "engine_fixture.h"
#include "fake_dns.h"
#include "policy.h"

TestSuite(engine_hosts, .init = fx_setup, .fini = fx_teardown);

/* ------------------------------------------------------------ addresses */

Test(engine_hosts, host_a_and_aaaa)
{
	const struct policy_host *h;

	fx_zone_dane1();
	fx_run(D, TLS_LEVEL_DANE);
	h = fx_host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE);
	cr_assert_eq(h->addr_queried, 1);
	cr_assert_eq(h->addr_status, DNS_DATA);
	cr_assert_eq(h->addr_sec, DNS_SEC_SECURE);
	cr_assert_eq(h->naddrs, 2);
	cr_assert_str_eq(h->addrs[0], "192.0.2.25");
	cr_assert_str_eq(h->addrs[1], "2001:db8::25");
	cr_assert_eq(fake_asked(z, MX1, DNS_T_A), 1);
	cr_assert_eq(fake_asked(z, MX1, DNS_T_AAAA), 1);
}

Test(engine_hosts, host_ipv4_only)
{
	struct policy_input in = fx_input(D, TLS_LEVEL_DANE);

	in.want_ipv6 = 0;
	fx_zone_dane1();
	fx_run_in(&in);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_AAAA), 0);
	cr_assert_eq(fx_host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->naddrs, 1);
}

Test(engine_hosts, host_ipv6_only)
{
	struct policy_input in = fx_input(D, TLS_LEVEL_DANE);

	in.want_ipv4 = 0;
	fx_zone_dane1();
	fx_run_in(&in);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_A), 0);
	cr_assert_str_eq(fx_host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->addrs[0], "2001:db8::25");
}

Test(engine_hosts, host_no_family_wanted_means_ipv4)
{
	struct policy_input in = fx_input(D, TLS_LEVEL_DANE);

	in.want_ipv4 = in.want_ipv6 = 0;
	fx_zone_dane1();
	fx_run_in(&in);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(fake_asked(z, MX1, DNS_T_A), 1);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_AAAA), 0);
}

static void
check_one_family_fails(uint16_t bad, enum dns_status st)
{
	fx_zone_dane1();
	fake_clear_rrs(fake_entry(z, MX1, bad));
	fake_answer_with(z, MX1, bad, st, DNS_SEC_INDETERMINATE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(fx_host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->naddrs, 1);
	cr_assert_eq(fx_tlsa_asked(MX1, 25), 1);
}

Test(engine_hosts, host_aaaa_servfail_a_usable) { check_one_family_fails(DNS_T_AAAA, DNS_FAIL); }
Test(engine_hosts, host_a_timeout_aaaa_usable) { check_one_family_fails(DNS_T_A, DNS_TIMEOUT); }

static void
check_host_unusable(enum dns_status sa, enum dns_sec ca, enum dns_status s6, enum dns_sec c6,
    enum policy_reason r)
{
	const struct policy_host *h;

	fx_mx(10, MX1);
	FX_TLSA311(MX1);
	fake_answer_with(z, MX1, DNS_T_A, sa, ca);
	fake_answer_with(z, MX1, DNS_T_AAAA, s6, c6);
	if (sa == DNS_DATA)
		fake_add_a(z, MX1, "192.0.2.25");
	if (s6 == DNS_DATA)
		fake_add_aaaa(z, MX1, "2001:db8::25");
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, r);
	h = fx_host_is(MX1, POLICY_HOST_UNUSABLE, r);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_NOT_QUERIED);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

Test(engine_hosts, host_both_families_fail)
{
	check_host_unusable(DNS_FAIL, DNS_SEC_INDETERMINATE, DNS_FAIL, DNS_SEC_INDETERMINATE,
	    POLICY_R_ADDRESS_LOOKUP_FAILED);
	cr_assert_eq(d->hosts[0].addr_status, DNS_FAIL);
}

Test(engine_hosts, host_both_families_timeout)
{
	check_host_unusable(DNS_TIMEOUT, DNS_SEC_INDETERMINATE, DNS_TIMEOUT, DNS_SEC_INDETERMINATE,
	    POLICY_R_DNS_TIMEOUT);
}

Test(engine_hosts, host_bogus_a_with_good_aaaa)
{
	check_host_unusable(DNS_FAIL, DNS_SEC_BOGUS, DNS_DATA, DNS_SEC_SECURE, POLICY_R_ADDRESS_BOGUS);
	cr_assert_eq(d->hosts[0].addr_sec, DNS_SEC_BOGUS);
}

Test(engine_hosts, host_bogus_aaaa_with_good_a)
{
	check_host_unusable(DNS_DATA, DNS_SEC_SECURE, DNS_FAIL, DNS_SEC_BOGUS, POLICY_R_ADDRESS_BOGUS);
}

Test(engine_hosts, host_bogus_flagged_address_data_unused)
{
	check_host_unusable(DNS_DATA, DNS_SEC_BOGUS, DNS_NODATA, DNS_SEC_SECURE,
	    POLICY_R_ADDRESS_BOGUS);
}

Test(engine_hosts, host_no_address)
{
	check_host_unusable(DNS_NODATA, DNS_SEC_SECURE, DNS_NODATA, DNS_SEC_SECURE,
	    POLICY_R_NO_ADDRESS);
	cr_assert_eq(fake_host(d, MX1)->addr_status, DNS_NODATA, "the name exists: nodata");
}

Test(engine_hosts, host_nxdomain)
{
	check_host_unusable(DNS_NXDOMAIN, DNS_SEC_SECURE, DNS_NXDOMAIN, DNS_SEC_SECURE,
	    POLICY_R_NO_ADDRESS);
	cr_assert_eq(fake_host(d, MX1)->addr_status, DNS_NXDOMAIN);
}

Test(engine_hosts, host_malformed_address_rdata_skipped)
{
	static const uint8_t three[] = { 192, 0, 2 };

	fx_mx(10, MX1);
	fake_add_raw(z, MX1, DNS_T_A, three, sizeof(three));
	fake_add_raw(z, MX1, DNS_T_AAAA, three, sizeof(three));
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_NO_ADDRESS);
	cr_assert_eq(d->hosts[0].naddrs, 0);
}

/* A failure answer without a why text still gives readable reasons. */
Test(engine_hosts, failure_without_why_text)
{
	fx_mx(10, MX1);
	fake_set_sec(fake_set_status(fake_entry(z, MX1, DNS_T_A), DNS_FAIL), DNS_SEC_BOGUS);
	fake_set_status(fake_entry(z, MX1, DNS_T_AAAA), DNS_FAIL);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_ADDRESS_BOGUS);
	fx_host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_ADDRESS_BOGUS);
	fx_mx(20, MX2);
	fake_set_status(fake_entry(z, MX2, DNS_T_A), DNS_FAIL);
	fake_set_status(fake_entry(z, MX2, DNS_T_AAAA), DNS_FAIL);
	fx_run(D, TLS_LEVEL_DANE);
	fx_host_is(MX2, POLICY_HOST_UNUSABLE, POLICY_R_ADDRESS_LOOKUP_FAILED);
}

Test(engine_hosts, host_insecure_addresses_no_tlsa)
{
	const struct policy_host *h;

	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_INSECURE);
	FX_TLSA311(MX1);	/* present, but must not be looked up */
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_ADDRESS_INSECURE);
	h = fx_host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_ADDRESS_INSECURE);
	cr_assert_eq(h->addr_sec, DNS_SEC_INSECURE);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_NOT_QUERIED);
	cr_assert_null(h->tlsa_base);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_CNAME), 0);
}

Test(engine_hosts, host_insecure_via_secure_first_cname)
{
	const struct policy_host *h;

	fx_insecure_alias(DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	h = fx_host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE);
	cr_assert_str_eq(h->tlsa_base, MX1, "the original name is the only candidate");
	cr_assert_str_eq(h->canonname, "target.insecure.example");
	cr_assert_eq(fake_asked(z, MX1, DNS_T_CNAME), 1);
	cr_assert_eq(fx_tlsa_asked(MX1, 25), 1);
	cr_assert_eq(fx_tlsa_asked("target.insecure.example", 25), 0);
	cr_assert_gt(fake_first_asked(z, MX1, DNS_T_CNAME), fake_first_asked(z, MX1, DNS_T_AAAA));
	cr_assert_gt(fake_first_asked(z, NULL, DNS_T_TLSA), fake_first_asked(z, MX1, DNS_T_CNAME));
}

Test(engine_hosts, host_insecure_via_insecure_first_cname)
{
	fx_insecure_alias(DNS_SEC_INSECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_ADDRESS_INSECURE);
	fx_host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_ADDRESS_INSECURE);
	cr_assert_eq(fake_asked(z, MX1, DNS_T_CNAME), 1);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

Test(engine_hosts, host_insecure_alias_cname_lookup_fails)
{
	fx_insecure_alias(DNS_SEC_SECURE);
	fake_clear_rrs(fake_entry(z, MX1, DNS_T_CNAME));
	fake_answer_with(z, MX1, DNS_T_CNAME, DNS_FAIL, DNS_SEC_BOGUS);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_ADDRESS_BOGUS);
	fx_host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_ADDRESS_BOGUS);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

Test(engine_hosts, secure_alias_tlsa_at_expanded_name)
{
	fx_secure_alias();
	fx_tlsa_at(PROV, 25, 2, 0, 1, 32);
	FX_TLSA311(MX1);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_str_eq(fx_host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->tlsa_base, PROV);
	cr_assert_eq(fx_tlsa_asked(PROV, 25), 1);
	cr_assert_eq(fx_tlsa_asked(MX1, 25), 0, "first secure candidate wins");
	cr_assert_eq(fake_asked(z, NULL, DNS_T_CNAME), 0);
}

Test(engine_hosts, secure_alias_denied_then_original)
{
	char a[320], b[320];

	fx_secure_alias();
	FX_TLSA311(MX1);	/* nothing at PROV: secure NXDOMAIN */
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_str_eq(fx_host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->tlsa_base, MX1);
	fx_tlsa_name(a, sizeof(a), 25, PROV);
	fx_tlsa_name(b, sizeof(b), 25, MX1);
	cr_assert_lt(fake_first_asked(z, a, DNS_T_TLSA), fake_first_asked(z, b, DNS_T_TLSA));
}

Test(engine_hosts, secure_alias_insecure_then_none)
{
	const struct policy_host *h;

	fx_secure_alias();
	fake_set_sec(fx_tlsa_at(PROV, 25, 3, 1, 1, 32), DNS_SEC_INSECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA);
	h = fx_host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_NONE);
	cr_assert_null(h->tlsa_base);
	cr_assert_eq(fx_tlsa_asked(PROV, 25), 1);
	cr_assert_eq(fx_tlsa_asked(MX1, 25), 1);
}

Test(engine_hosts, secure_alias_failure_no_fallback)
{
	const struct policy_host *h;

	fx_secure_alias();
	fx_tlsa_answer(PROV, DNS_FAIL, DNS_SEC_INDETERMINATE);
	FX_TLSA311(MX1);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_TLSA_LOOKUP_FAILED);
	h = fx_host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_TLSA_LOOKUP_FAILED);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_FAILED);
	cr_assert_eq(fx_tlsa_asked(MX1, 25), 0, "a failure does not move to the next candidate");
}

/* ------------------------------------------------------------ TLSA */

Test(engine_hosts, tlsa_failure_host_unusable_other_used)
{
	fx_two_hosts();
	fx_tlsa_answer(MX1, DNS_FAIL, DNS_SEC_INDETERMINATE);
	FX_TLSA311(MX2);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	fx_host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_TLSA_LOOKUP_FAILED);
	fx_host_is(MX2, POLICY_HOST_DANE, POLICY_R_DANE);
}

Test(engine_hosts, tlsa_failure_other_host_without_tlsa)
{
	fx_two_hosts();
	fx_tlsa_answer(MX1, DNS_FAIL, DNS_SEC_INDETERMINATE);
	fx_run(D, TLS_LEVEL_DANE);
	/* Level dane, not may: "may" would let the MTA use MX1 in cleartext. */
	fx_expect(POLICY_TRY, TLS_LEVEL_DANE, POLICY_R_NO_TLSA);
	fx_host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_TLSA_LOOKUP_FAILED);
	fx_host_is(MX2, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA);
}

Test(engine_hosts, tlsa_bogus_unusable)
{
	const struct policy_host *h;

	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_tlsa_answer(MX1, DNS_FAIL, DNS_SEC_BOGUS);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_TLSA_LOOKUP_FAILED);
	h = fx_host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_TLSA_LOOKUP_FAILED);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_FAILED);
	cr_assert_eq(h->tlsa_sec, DNS_SEC_BOGUS);
}

/* RFC: 2.2 / 2.1.1: bogus TLSA data makes the host unusable, never opportunistic. */
Test(engine_hosts, rfc_tlsa_bogus_flagged_data_unusable)
{
	fx_secure_alias();
	fake_set_sec(fx_tlsa_at(PROV, 25, 3, 1, 1, 32), DNS_SEC_BOGUS);
	FX_TLSA311(MX1);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_TLSA_LOOKUP_FAILED);
	fx_host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_TLSA_LOOKUP_FAILED);
	cr_assert_eq(fx_tlsa_asked(MX1, 25), 0);
}

/* RFC: 2.1.1: indeterminate TLSA data is a failure too. */
Test(engine_hosts, rfc_tlsa_indeterminate_data_unusable)
{
	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fake_set_sec(FX_TLSA311(MX1), DNS_SEC_INDETERMINATE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_TLSA_LOOKUP_FAILED);
}

Test(engine_hosts, tlsa_timeout_unusable)
{
	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_tlsa_answer(MX1, DNS_TIMEOUT, DNS_SEC_INDETERMINATE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_DNS_TIMEOUT);
	cr_assert_eq(fx_host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_DNS_TIMEOUT)->tlsa_state,
	    POLICY_TLSA_FAILED);
}

Test(engine_hosts, tlsa_insecure_data_is_no_tlsa)
{
	const struct policy_host *h;

	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fake_set_sec(FX_TLSA311(MX1), DNS_SEC_INSECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA);
	h = fx_host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_NONE);
	cr_assert_eq(h->tlsa_sec, DNS_SEC_INSECURE);
	cr_assert_eq(h->ntlsa, 0);
}

Test(engine_hosts, tlsa_secure_denials_are_no_tlsa)
{
	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);	/* secure NXDOMAIN */
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA);
	fx_tlsa_answer(MX1, DNS_NODATA, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA);
	fx_tlsa_answer(MX1, DNS_NXDOMAIN, DNS_SEC_INSECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA);
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
	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_tlsa_at(MX1, 25, c->u, c->s, c->m, c->len);
	fx_run(D, TLS_LEVEL_DANE);
	cr_assert_eq(d->verdict, v, "%u %u %u len %zu", c->u, c->s, c->m, c->len);
	cr_assert_eq(d->reason, r, "%u %u %u len %zu: %s", c->u, c->s, c->m, c->len,
	    policy_reason_name(d->reason));
	cr_assert_eq(d->level, TLS_LEVEL_DANE);
	h = fx_host_is(MX1, st, hr);
	cr_assert_eq(h->tlsa_state, POLICY_TLSA_FOUND);
	cr_assert_str_eq(h->tlsa_base, MX1);
	cr_assert_eq(h->ntlsa, 1);
	cr_assert_eq(h->nusable, st == POLICY_HOST_DANE);
	cr_assert_eq(h->tlsa[0].usage, c->u);
}

Test(engine_hosts, tlsa_usable_records_dane)
{
	static const struct rr_case ok[] = {
		{ 3, 1, 1, 32 }, { 2, 0, 1, 32 }, { 3, 1, 2, 64 }, { 2, 1, 2, 64 }, { 3, 0, 1, 32 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		check_tlsa_rr(&ok[i], POLICY_HOST_DANE, POLICY_R_DANE, POLICY_REQUIRE, POLICY_R_DANE);
}

Test(engine_hosts, tlsa_pkix_usages_unusable)
{
	static const struct rr_case bad[] = { { 0, 0, 1, 32 }, { 1, 1, 1, 32 }, { 255, 1, 1, 32 } };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_tlsa_rr(&bad[i], POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS, POLICY_TRY,
		    POLICY_R_UNAUTH_TLS);
}

Test(engine_hosts, tlsa_bad_digest_lengths_unusable)
{
	static const struct rr_case bad[] = {
		{ 3, 1, 1, 31 }, { 3, 1, 1, 33 }, { 3, 1, 2, 32 }, { 2, 0, 2, 63 }, { 3, 1, 1, 0 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_tlsa_rr(&bad[i], POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS, POLICY_TRY,
		    POLICY_R_UNAUTH_TLS);
}

Test(engine_hosts, tlsa_unknown_selector_mtype_and_bad_full_unusable)
{
	static const struct rr_case bad[] = { { 3, 2, 1, 32 }, { 3, 1, 3, 32 }, { 3, 1, 0, 10 } };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_tlsa_rr(&bad[i], POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS, POLICY_TRY,
		    POLICY_R_UNAUTH_TLS);
}

Test(engine_hosts, tlsa_mixed_rrset_is_dane)
{
	const struct policy_host *h;

	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_tlsa_at(MX1, 25, 1, 1, 1, 32);
	fx_tlsa_at(MX1, 25, 3, 1, 1, 31);
	FX_TLSA311(MX1);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	h = fx_host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE);
	cr_assert_eq(h->ntlsa, 3);
	cr_assert_eq(h->nusable, 1);
}

Test(engine_hosts, tlsa_malformed_rdata_kept_unusable)
{
	static const uint8_t two[] = { 3, 1 };
	char name[320];

	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_tlsa_name(name, sizeof(name), 25, MX1);
	fake_add_raw(z, name, DNS_T_TLSA, two, sizeof(two));
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_DANE, POLICY_R_UNAUTH_TLS);
	cr_assert_eq(fx_host_is(MX1, POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS)->ntlsa, 1);
	cr_assert_eq(d->hosts[0].nusable, 0);
}

