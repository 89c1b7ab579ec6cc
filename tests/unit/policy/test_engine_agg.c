/*
 * test_engine_agg.c - unit tests of the aggregation stage and the API of
 * the pure RFC 7672 decision engine (policy/policy.h), driven by the
 * in-memory resolver of fake_dns.h.
 *
 * Covers aggregation of host outcomes into one decision and the defer
 * ranking of doc/engine.md, dane-only, answer-order independence (FIFO,
 * LIFO, interleaved and seeded shuffles must give the same decision and
 * the same queries), parallel issue of lookups, the decision TTL,
 * reference counting, the step-by-step engine API and the name tables.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_fixture.h"
#include "fake_dns.h"
#include "mem.h"
#include "policy.h"

TestSuite(engine_agg, .init = fx_setup, .fini = fx_teardown);

/* ------------------------------------------------------------ aggregation */

Test(engine_agg, mixed_hosts_dane_partial)
{
	fx_two_hosts();
	FX_TLSA311(MX2);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_DANE, POLICY_R_DANE_PARTIAL);
	fx_host_is(MX1, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA);
	fx_host_is(MX2, POLICY_HOST_DANE, POLICY_R_DANE);
}

Test(engine_agg, dane_and_tls_hosts_partial)
{
	fx_two_hosts();
	FX_TLSA311(MX1);
	fx_tlsa_at(MX2, 25, 0, 0, 1, 32);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_DANE, POLICY_R_DANE_PARTIAL);
	fx_host_is(MX2, POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS);
}

Test(engine_agg, tls_and_plain_hosts_unauthenticated)
{
	fx_two_hosts();
	fx_tlsa_at(MX1, 25, 1, 0, 1, 32);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_DANE, POLICY_R_UNAUTH_TLS);
}

Test(engine_agg, dane_plus_unusable_host_requires)
{
	fx_two_hosts();
	FX_TLSA311(MX1);
	fake_clear_rrs(fake_entry(z, MX2, DNS_T_A));
	fake_clear_rrs(fake_entry(z, MX2, DNS_T_AAAA));
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	fx_host_is(MX2, POLICY_HOST_UNUSABLE, POLICY_R_NO_ADDRESS);
}

Test(engine_agg, insecure_and_no_tlsa_hosts_reason)
{
	fx_mx(10, MX1);
	fx_mx(20, MX2);
	fx_host_ok(MX1, DNS_SEC_INSECURE);
	fx_host_ok(MX2, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA);
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
		fx_host_ok(name, DNS_SEC_SECURE);
		fx_tlsa_answer(name, DNS_FAIL, DNS_SEC_INDETERMINATE);
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
		fx_host_ok(name, DNS_SEC_SECURE);
		fx_tlsa_at(name, 25, 1, 1, 1, 32);
		break;
	case POLICY_R_DANE_REQUIRED:
		fx_host_ok(name, DNS_SEC_SECURE);
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
	fx_mx(10, MX1);
	fx_mx(20, MX2);
	failing_host(MX1, first);
	failing_host(MX2, second);
	fx_run(D, TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE_ONLY, want);
	fx_host_is(MX1, POLICY_HOST_UNUSABLE, first);
	fx_host_is(MX2, POLICY_HOST_UNUSABLE, second);
}

Test(engine_agg, defer_reason_ranking_all_pairs)
{
	for (size_t i = 0; i < NRANK; i++) {
		for (size_t j = i + 1; j < NRANK; j++) {
			check_rank_pair(rank[i], rank[j], rank[i]);
			check_rank_pair(rank[j], rank[i], rank[i]);
		}
	}
}

Test(engine_agg, defer_reason_ranking_all_seven)
{
	const char *names[NRANK] = { "h1.example.com", "h2.example.com", "h3.example.com",
	    "h4.example.com", "h5.example.com", "h6.example.com", "h7.example.com" };

	for (size_t i = 0; i < NRANK; i++) {	/* best reason on the least preferred host */
		fx_mx(10 * (unsigned)(i + 1), names[i]);
		failing_host(names[i], rank[NRANK - 1 - i]);
	}
	fx_run(D, TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE_ONLY, POLICY_R_TLSA_LOOKUP_FAILED);
	cr_assert_not_null(strstr(d->why, names[NRANK - 1]), "why names the host: %s", d->why);
}

Test(engine_agg, defer_ranking_opportunistic_level)
{
	fx_mx(10, MX1);
	fx_mx(20, MX2);
	fx_mx(30, MX3);
	failing_host(MX1, POLICY_R_NO_ADDRESS);
	failing_host(MX2, POLICY_R_DNS_TIMEOUT);
	failing_host(MX3, POLICY_R_ADDRESS_LOOKUP_FAILED);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_DNS_TIMEOUT);
}

Test(engine_agg, dane_only_tls_host_tlsa_unusable)
{
	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_tlsa_at(MX1, 25, 3, 1, 1, 20);
	fx_run(D, TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE_ONLY, POLICY_R_TLSA_UNUSABLE);
	cr_assert_eq(fx_host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_TLSA_UNUSABLE)->tlsa_state,
	    POLICY_TLSA_FOUND);
}

Test(engine_agg, dane_only_mixed_requires_dane_hosts)
{
	fx_two_hosts();
	FX_TLSA311(MX2);
	fx_run(D, TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE_ONLY, POLICY_R_DANE);
	fx_host_is(MX1, POLICY_HOST_UNUSABLE, POLICY_R_DANE_REQUIRED);
	fx_host_is(MX2, POLICY_HOST_DANE, POLICY_R_DANE);
}

Test(engine_agg, dane_only_insecure_addresses_defer)
{
	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_INSECURE);
	fx_run(D, TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE_ONLY, POLICY_R_DANE_REQUIRED);
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
check_order_independent(enum tls_level lvl)
{
	static const enum fake_order orders[] = { FAKE_LIFO, FAKE_INTERLEAVED };
	struct policy_decision *ref;
	char **refq, **q;
	size_t nref, n;

	fake_zone_order(z, FAKE_FIFO, 0);
	fx_run(D, lvl);
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
		fx_run(D, lvl);
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

	fx_mx(10, MX1);		/* DANE */
	fx_host_ok(MX1, DNS_SEC_SECURE);
	FX_TLSA311(MX1);
	fx_mx(20, MX2);		/* secure alias, TLSA at the original name */
	fx_host_ok(MX2, DNS_SEC_SECURE);
	fake_set_canon(fake_entry(z, MX2, DNS_T_A), PROV);
	fake_set_canon(fake_entry(z, MX2, DNS_T_AAAA), PROV);
	fx_tlsa_at(MX2, 25, 2, 0, 1, 32);
	fx_mx(30, MX3);		/* insecure alias with a secure first CNAME */
	fx_host_ok(MX3, DNS_SEC_INSECURE);
	fake_set_canon(fake_entry(z, MX3, DNS_T_A), t);
	fake_set_canon(fake_entry(z, MX3, DNS_T_AAAA), t);
	fake_add_cname(z, MX3, t);
	FX_TLSA311(MX3);
	fx_mx(40, MX4);		/* one family failed, all TLSA unusable */
	fake_add_a(z, MX4, "192.0.2.4");
	fake_answer_with(z, MX4, DNS_T_AAAA, DNS_TIMEOUT, DNS_SEC_INDETERMINATE);
	fx_tlsa_at(MX4, 25, 1, 1, 1, 32);
	fx_mx(50, "mx5.example.com");	/* TLSA failure */
	fx_host_ok("mx5.example.com", DNS_SEC_SECURE);
	fx_tlsa_answer("mx5.example.com", DNS_FAIL, DNS_SEC_BOGUS);
	fx_mx(60, "mx6.example.com");	/* insecure */
	fx_host_ok("mx6.example.com", DNS_SEC_INSECURE);
	fx_mx(70, "mx7.example.com");	/* no address */
	fake_entry(z, "mx7.example.com", DNS_T_A);
}

Test(engine_agg, order_independent_mixed)
{
	zone_mixed();
	check_order_independent(TLS_LEVEL_DANE);
	fx_expect(POLICY_TRY, TLS_LEVEL_DANE, POLICY_R_DANE_PARTIAL);
	fx_host_is(MX3, POLICY_HOST_DANE, POLICY_R_DANE);
	fx_host_is(MX4, POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS);
}

Test(engine_agg, order_independent_mixed_dane_only)
{
	zone_mixed();
	check_order_independent(TLS_LEVEL_DANE_ONLY);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE_ONLY, POLICY_R_DANE);
}

Test(engine_agg, order_independent_all_failing)
{
	fx_mx(10, MX1);
	fx_mx(20, MX2);
	fx_mx(30, MX3);
	fx_mx(40, MX4);
	failing_host(MX1, POLICY_R_NO_ADDRESS);
	failing_host(MX2, POLICY_R_ADDRESS_LOOKUP_FAILED);
	failing_host(MX3, POLICY_R_ADDRESS_BOGUS);
	failing_host(MX4, POLICY_R_TLSA_LOOKUP_FAILED);
	check_order_independent(TLS_LEVEL_DANE);
	fx_expect(POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_TLSA_LOOKUP_FAILED);
}

Test(engine_agg, order_independent_candidates)
{
	fx_secure_alias();
	FX_TLSA311(MX1);
	fx_mx(20, MX2);
	fx_host_ok(MX2, DNS_SEC_SECURE);
	fake_set_canon(fake_entry(z, MX2, DNS_T_A), "other.provider.example");
	fake_set_canon(fake_entry(z, MX2, DNS_T_AAAA), "other.provider.example");
	fx_tlsa_at("other.provider.example", 25, 3, 1, 2, 64);
	check_order_independent(TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
}

/* ------------------------------------------------------------ parallelism */

Test(engine_agg, address_lookups_issued_in_parallel)
{
	int pending = 0;

	fx_mx(10, MX1);
	fx_mx(20, MX2);
	fx_mx(30, MX3);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_host_ok(MX2, DNS_SEC_SECURE);
	fx_host_ok(MX3, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
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

Test(engine_agg, tlsa_lookup_does_not_wait_for_other_hosts)
{
	int first_tlsa, last_addr = -1;

	fx_mx(10, MX1);
	fx_mx(20, MX2);
	fx_mx(30, MX3);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_host_ok(MX2, DNS_SEC_SECURE);
	fx_host_ok(MX3, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	first_tlsa = fake_query_at(z, (size_t)fake_first_asked(z, NULL, DNS_T_TLSA))->asked_step;
	for (size_t i = 0; i < fake_nasked(z); i++) {
		const struct fake_query *q = fake_query_at(z, i);

		if ((q->type == DNS_T_A || q->type == DNS_T_AAAA) && q->answered_at > last_addr)
			last_addr = q->answered_at;
	}
	cr_assert_lt(first_tlsa, last_addr, "TLSA of mx1 asked while other hosts' addresses are out");
	cr_assert_eq(fx_tlsa_asked(MX1, 25) + fx_tlsa_asked(MX2, 25) + fx_tlsa_asked(MX3, 25), 3);
}

/* ------------------------------------------------------------ TTL */

Test(engine_agg, ttl_is_min_of_answers_used)
{
	fake_set_ttl(fx_mx(10, MX1), 300);
	fake_set_ttl(fake_add_a(z, MX1, "192.0.2.1"), 900);
	fake_set_ttl(fake_add_aaaa(z, MX1, "2001:db8::1"), 240);
	fake_set_ttl(FX_TLSA311(MX1), 600);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->ttl, 240);
	fake_set_ttl(fake_entry(z, "_25._tcp." MX1, DNS_T_TLSA), 45);
	fx_run(D, TLS_LEVEL_DANE);
	cr_assert_eq(d->ttl, 45);
	fake_set_ttl(fake_entry(z, D, DNS_T_MX), 7);
	fx_run(D, TLS_LEVEL_DANE);
	cr_assert_eq(d->ttl, 7);
}

Test(engine_agg, ttl_counts_cname_and_all_hosts)
{
	fx_insecure_alias(DNS_SEC_SECURE);
	fake_set_ttl(fake_entry(z, MX1, DNS_T_CNAME), 33);
	fx_mx(20, MX2);
	fx_host_ok(MX2, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	cr_assert_eq(d->ttl, 33);
	fake_set_ttl(fake_entry(z, MX2, DNS_T_AAAA), 20);
	fx_run(D, TLS_LEVEL_DANE);
	cr_assert_eq(d->ttl, 20);
}

Test(engine_agg, ttl_ignores_failed_answers)
{
	fx_zone_dane1();
	fake_clear_rrs(fake_entry(z, MX1, DNS_T_AAAA));
	fake_answer_with(z, MX1, DNS_T_AAAA, DNS_FAIL, DNS_SEC_INDETERMINATE);
	fx_run(D, TLS_LEVEL_DANE);
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->ttl, 3600);
}

Test(engine_agg, ttl_of_nxdomain_and_no_dns)
{
	fake_zone_ttl(z, 120);
	fake_answer_with(z, D, DNS_T_MX, DNS_NXDOMAIN, DNS_SEC_SECURE);
	fx_run(D, TLS_LEVEL_DANE);
	cr_assert_eq(d->ttl, 120);
	fx_run("[192.0.2.1]", TLS_LEVEL_DANE);
	cr_assert_eq(d->ttl, 0);
}

/* ------------------------------------------------------------ API, refcounts, names */

Test(engine_agg, decision_refcount)
{
	struct policy_decision *r;

	fx_zone_dane1();
	fx_run(D, TLS_LEVEL_DANE);
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

Test(engine_agg, decision_simple)
{
	d = policy_decision_simple("x.example", POLICY_DEFER, TLS_LEVEL_DANE,
	    POLICY_R_INVALID_DOMAIN, "bad name");
	cr_assert_eq(d->refs, 1);
	cr_assert_str_eq(d->domain, "x.example");
	cr_assert_str_eq(d->why, "bad name");
	cr_assert_eq(d->verdict, POLICY_DEFER);
	cr_assert_eq(d->reason, POLICY_R_INVALID_DOMAIN);
	cr_assert_eq(d->nhosts, 0);
	cr_assert_eq(d->ttl, 0);
}

Test(engine_agg, engine_api_step_by_step)
{
	struct policy_input in = fx_input(D, TLS_LEVEL_DANE);
	struct policy_engine *e;
	struct policy_query q;

	fx_zone_dane1();
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
	fx_expect(POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE);
	cr_assert_eq(d->queries, 4);
	policy_engine_free(NULL);
}

Test(engine_agg, engine_freed_unfinished)
{
	struct policy_input in = fx_input(D, TLS_LEVEL_DANE);
	struct policy_engine *e = policy_engine_new(&in);
	struct policy_query q;

	fx_zone_dane1();
	cr_assert(policy_engine_next_query(e, &q));
	policy_engine_answer(e, q.tag, fake_answer(z, D, DNS_T_MX));
	cr_assert(policy_engine_next_query(e, &q));
	policy_engine_answer(e, q.tag, fake_answer(z, q.name, q.type));
	cr_assert_not(policy_engine_done(e));
	policy_engine_free(e);	/* valgrind: nothing leaks */
}

Test(engine_agg, names_round_trip)
{
	for (unsigned r = 0; r < POLICY_R_COUNT; r++) {
		enum policy_reason back;
		const char *n = policy_reason_name((enum policy_reason)r);

		cr_assert_str_neq(n, "unknown", "reason %u", r);
		cr_assert_eq(policy_reason_parse(n, &back), 0, "%s", n);
		cr_assert_eq((unsigned)back, r);
	}
	for (unsigned l = TLS_LEVEL_NONE; l <= TLS_LEVEL_DANE_ONLY; l++) {
		enum tls_level back;

		cr_assert_eq(tls_level_parse(tls_level_name((enum tls_level)l), &back), 0);
		cr_assert_eq((unsigned)back, l);
	}
	cr_assert_str_eq(policy_reason_name(POLICY_R_COUNT), "unknown");
	cr_assert_eq(policy_reason_verdict(POLICY_R_NULL_MX), POLICY_REJECT);
	cr_assert_eq(policy_reason_verdict(POLICY_R_DANE), POLICY_REQUIRE);
	cr_assert_eq(policy_reason_verdict(POLICY_R_NO_TLSA), POLICY_TRY);
	cr_assert_eq(policy_reason_verdict(POLICY_R_TLSA_UNUSABLE), POLICY_DEFER);
}

Test(engine_agg, names_reject_unknown)
{
	enum policy_reason r = POLICY_R_DANE;
	enum tls_level l = TLS_LEVEL_MAY;

	cr_assert_eq(policy_reason_parse("DANE", &r), -1);
	cr_assert_eq(policy_reason_parse("", &r), -1);
	cr_assert_eq(tls_level_parse("dane_only", &l), -1);
	cr_assert_eq(r, POLICY_R_DANE);
	cr_assert_eq(l, TLS_LEVEL_MAY);
	cr_assert_str_eq(policy_verdict_name((enum policy_verdict)99), "unknown");
	cr_assert_str_eq(policy_host_state_name(POLICY_HOST_TLS), "tls");
	cr_assert_str_eq(policy_tlsa_state_name(POLICY_TLSA_NOT_QUERIED), "not-queried");
	cr_assert_str_eq(policy_source_name(POLICY_SRC_TABLE), "table");
}
