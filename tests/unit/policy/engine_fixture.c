/*
 * engine_fixture.c - the shared fixture of the decision engine unit tests:
 * the zone and decision of the running test, the suite init/fini, and the
 * helpers that build zones, run the engine and check its decision (see
 * engine_fixture.h for the contracts).
 *
 * Ownership: z and d belong to the fixture (fx_setup() / fx_teardown());
 * fx_run_in() drops the previous decision.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine_fixture.h"
#include "fake_dns.h"
#include "policy.h"

struct fake_zone *z;
struct policy_decision *d;

void
fx_setup(void)
{
	z = fake_zone_new();
	d = NULL;
}

void
fx_teardown(void)
{
	policy_decision_unref(d);
	fake_zone_free(z);
}

/* ------------------------------------------------------------ helpers */

struct policy_input
fx_input(const char *domain, enum tls_level lvl)
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
void
fx_run_in(const struct policy_input *in)
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

void
fx_run(const char *domain, enum tls_level lvl)
{
	struct policy_input in = fx_input(domain, lvl);

	fx_run_in(&in);
}

void
fx_expect(enum policy_verdict v, enum tls_level lvl, enum policy_reason r)
{
	cr_assert_eq(d->verdict, v, "verdict %s, want %s (%s: %s)", policy_verdict_name(d->verdict),
	    policy_verdict_name(v), policy_reason_name(d->reason), d->why);
	cr_assert_eq(d->reason, r, "reason %s, want %s (%s)", policy_reason_name(d->reason),
	    policy_reason_name(r), d->why);
	cr_assert_eq(d->level, lvl, "level %s, want %s", tls_level_name(d->level),
	    tls_level_name(lvl));
	cr_assert_eq(policy_reason_verdict(d->reason), d->verdict);
}

const struct policy_host *
fx_host_is(const char *name, enum policy_host_state st, enum policy_reason r)
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

void
fx_tlsa_name(char *buf, size_t cap, unsigned port, const char *host)
{
	snprintf(buf, cap, "_%u._tcp.%s", port, host);
}

struct fake_entry *
fx_tlsa_at(const char *host, unsigned port, uint8_t u, uint8_t s, uint8_t m, size_t len)
{
	char name[320];

	fx_tlsa_name(name, sizeof(name), port, host);
	return fake_add_tlsa(z, name, u, s, m, NULL, len);
}

struct fake_entry *
fx_tlsa_answer(const char *host, enum dns_status st, enum dns_sec sec)
{
	char name[320];

	fx_tlsa_name(name, sizeof(name), 25, host);
	return fake_answer_with(z, name, DNS_T_TLSA, st, sec);
}

unsigned
fx_tlsa_asked(const char *host, unsigned port)
{
	char name[320];

	fx_tlsa_name(name, sizeof(name), port, host);
	return fake_asked(z, name, DNS_T_TLSA);
}

/* A host with one A and one AAAA record, both with security sec. */
void
fx_host_ok(const char *name, enum dns_sec sec)
{
	fake_set_sec(fake_add_a(z, name, "192.0.2.25"), sec);
	fake_set_sec(fake_add_aaaa(z, name, "2001:db8::25"), sec);
}

struct fake_entry *
fx_mx(unsigned pref, const char *exchange)
{
	return fake_add_mx(z, D, pref, exchange);
}

/* The basic signed destination: MX 10 mx1, secure addresses, TLSA 3 1 1. */
void
fx_zone_dane1(void)
{
	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	FX_TLSA311(MX1);
}

void
fx_no_addr_lookups(void)
{
	cr_assert_eq(fake_asked(z, NULL, DNS_T_A), 0);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_AAAA), 0);
	cr_assert_eq(fake_asked(z, NULL, DNS_T_TLSA), 0);
}

/* ------------------------------------------------------------ shared zones */

/* An alias MX1 -> target.insecure.example with insecure addresses. */
void
fx_insecure_alias(enum dns_sec cname_sec)
{
	const char *t = "target.insecure.example";

	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_INSECURE);
	fake_set_canon(fake_entry(z, MX1, DNS_T_A), t);
	fake_set_canon(fake_entry(z, MX1, DNS_T_AAAA), t);
	fake_set_sec(fake_add_cname(z, MX1, t), cname_sec);
	FX_TLSA311(MX1);
	FX_TLSA311(t);
}

/* A secure alias MX1 -> mx.provider.example (secure addresses). */
void
fx_secure_alias(void)
{
	fx_mx(10, MX1);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fake_set_canon(fake_entry(z, MX1, DNS_T_A), PROV);
	fake_set_canon(fake_entry(z, MX1, DNS_T_AAAA), PROV);
}

void
fx_two_hosts(void)
{
	fx_mx(10, MX1);
	fx_mx(20, MX2);
	fx_host_ok(MX1, DNS_SEC_SECURE);
	fx_host_ok(MX2, DNS_SEC_SECURE);
}
