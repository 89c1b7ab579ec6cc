/*
 * test_engine_prefetch.c - policy_input.tlsa_prefetch (the TLSA lookup at
 * a host's own name asked together with its addresses) never changes a
 * decision: for each scenario below, the decision with prefetch equals the
 * one without it (verdict, level, reason, TTL and every host's state,
 * reason, TLSA state and base), in every answer order fake_run() offers
 * (FIFO, LIFO, interleaved, eight shuffles), and the prefetched lookup is
 * the only extra query. Linked into tests/unit/test_engine (fixture:
 * engine_fixture.h).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine_fixture.h"
#include "fake_dns.h"
#include "policy.h"

TestSuite(engine_prefetch, .init = fx_setup, .fini = fx_teardown);

static int
str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Assert that decision b (prefetch) says what a (no prefetch) says. */
static void
same_decision(const struct policy_decision *a, const struct policy_decision *b,
    const char *what)
{
	cr_assert_eq(b->verdict, a->verdict, "%s: verdict", what);
	cr_assert_eq(b->level, a->level, "%s: level", what);
	cr_assert_eq(b->reason, a->reason, "%s: reason %s vs %s", what,
	    policy_reason_name(b->reason), policy_reason_name(a->reason));
	cr_assert_eq(b->ttl, a->ttl, "%s: ttl", what);
	cr_assert_eq(b->nhosts, a->nhosts, "%s: hosts", what);
	for (size_t i = 0; i < a->nhosts; i++) {
		const struct policy_host *x = &a->hosts[i], *y = &b->hosts[i];

		cr_assert_str_eq(y->name, x->name, "%s", what);
		cr_assert_eq(y->state, x->state, "%s: %s state", what, x->name);
		cr_assert_eq(y->reason, x->reason, "%s: %s reason", what, x->name);
		cr_assert_eq(y->tlsa_state, x->tlsa_state, "%s: %s tlsa", what, x->name);
		cr_assert_eq(y->tlsa_sec, x->tlsa_sec, "%s: %s tlsa sec", what, x->name);
		cr_assert_eq(y->nusable, x->nusable, "%s: %s usable", what, x->name);
		cr_assert(str_same(y->tlsa_base, x->tlsa_base), "%s: %s base", what, x->name);
	}
}

/*
 * Run the zone z at level lvl without prefetch (FIFO), then with prefetch
 * in every order; each must match. Returns how many TLSA lookups the
 * prefetch runs asked beyond the plain run (the same in every order).
 */
static unsigned
check_all_orders(enum tls_level lvl)
{
	struct policy_input in = fx_input(D, lvl);
	struct policy_decision *plain;
	unsigned plain_q, extra = 0;
	char what[64];

	fake_zone_order(z, FAKE_FIFO, 0);
	fx_run_in(&in);
	plain = d;
	plain_q = d->queries;
	d = NULL;
	in.tlsa_prefetch = 1;
	for (unsigned k = 0; k < 11; k++) {
		enum fake_order o = k < 3 ? (enum fake_order)k : FAKE_SHUFFLE;

		fake_zone_order(z, o, k);
		fx_run_in(&in);
		snprintf(what, sizeof(what), "order %u", k);
		same_decision(plain, d, what);
		cr_assert_geq(d->queries, plain_q, "%s: prefetch asked fewer", what);
		if (k == 0)
			extra = d->queries - plain_q;
		cr_assert_eq(d->queries - plain_q, extra, "%s: extra queries vary", what);
	}
	policy_decision_unref(plain);
	return extra;
}

Test(engine_prefetch, dane_host)
{
	fx_zone_dane1();
	cr_assert_eq(check_all_orders(TLS_LEVEL_DANE), 0, "the prefetch is the TLSA lookup");
	cr_assert_eq(fx_tlsa_asked(MX1, 25), 1);
}

Test(engine_prefetch, insecure_addresses_drop_the_answer)
{
	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_INSECURE);
	FX_TLSA311(MX1);
	cr_assert_eq(check_all_orders(TLS_LEVEL_DANE), 1, "one discarded TLSA lookup");
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_ADDRESS_INSECURE);
	cr_assert_eq(fx_host_is(MX1, POLICY_HOST_OPPORTUNISTIC,
	    POLICY_R_ADDRESS_INSECURE)->tlsa_state, POLICY_TLSA_NOT_QUERIED);
}

Test(engine_prefetch, bogus_addresses)
{
	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_BOGUS);
	FX_TLSA311(MX1);
	check_all_orders(TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_ADDRESS_BOGUS);
}

Test(engine_prefetch, tlsa_failures)
{
	enum dns_status st[] = { DNS_FAIL, DNS_TIMEOUT, DNS_DATA, DNS_NODATA };
	enum dns_sec sec[] = { DNS_SEC_BOGUS, DNS_SEC_INDETERMINATE, DNS_SEC_BOGUS, DNS_SEC_INSECURE };

	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		fake_zone_free(z);
		z = fake_zone_new();
		fx_two_hosts();
		FX_TLSA311(MX2);
		fx_tlsa_answer(MX1, st[i], sec[i]);
		check_all_orders(TLS_LEVEL_DANE);
		check_all_orders(TLS_LEVEL_DANE_ONLY);
	}
}

Test(engine_prefetch, secure_alias_expanded_name_first)
{
	fx_secure_alias();
	fx_tlsa_at(PROV, 25, 2, 0, 1, 32);
	FX_TLSA311(MX1);
	cr_assert_eq(check_all_orders(TLS_LEVEL_DANE), 1,
	    "the own-name answer is asked but not used");
	cr_assert_str_eq(fx_host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->tlsa_base, PROV);
}

Test(engine_prefetch, secure_alias_falls_back_to_own_name)
{
	fx_secure_alias();
	FX_TLSA311(MX1);	/* nothing at PROV */
	cr_assert_eq(check_all_orders(TLS_LEVEL_DANE), 0,
	    "the prefetched answer serves the second candidate");
	cr_assert_str_eq(fx_host_is(MX1, POLICY_HOST_DANE, POLICY_R_DANE)->tlsa_base, MX1);
}

Test(engine_prefetch, insecure_alias)
{
	fx_insecure_alias(DNS_SEC_SECURE);
	check_all_orders(TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	fake_zone_free(z);
	z = fake_zone_new();
	fx_insecure_alias(DNS_SEC_INSECURE);
	check_all_orders(TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_ADDRESS_INSECURE);
}

Test(engine_prefetch, unusable_and_mixed_hosts)
{
	fx_mx(10, MX1);
	fx_mx(20, MX2);
	fx_mx(30, MX3);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_host_ok(MX2, DNS_SEC_SECURE);
	fx_host_ok(MX3, DNS_SEC_INSECURE);
	fx_tlsa_at(MX1, 25, 0, 0, 1, 32);	/* PKIX-TA: unusable for SMTP */
	FX_TLSA311(MX2);
	check_all_orders(TLS_LEVEL_DANE);
	check_all_orders(TLS_LEVEL_DANE_ONLY);
	fake_answer_with(z, MX2, DNS_T_A, DNS_FAIL, DNS_SEC_BOGUS);
	check_all_orders(TLS_LEVEL_DANE);
}
