/*
 * policy_decision.c - names of the engine's enumerations and the lifecycle
 * of struct policy_decision (see policy.h).
 *
 * Decisions are reference counted because the cache shares one immutable
 * decision among many threads; the count uses C11 atomics. The last
 * policy_decision_unref() frees the decision and everything it points to.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "policy.h"

static const char *const verdict_names[] = {
	[POLICY_REQUIRE] = "require",
	[POLICY_TRY] = "try",
	[POLICY_DEFER] = "defer",
	[POLICY_REJECT] = "reject",
};

static const struct {
	const char *name;
	enum policy_verdict verdict;
} reasons[POLICY_R_COUNT] = {
	[POLICY_R_DANE] = { "dane", POLICY_REQUIRE },
	[POLICY_R_STS_ENFORCE] = { "sts-enforce", POLICY_REQUIRE },
	[POLICY_R_DANE_PARTIAL] = { "dane-partial", POLICY_TRY },
	[POLICY_R_UNAUTH_TLS] = { "unauthenticated-tls", POLICY_TRY },
	[POLICY_R_NO_TLSA] = { "no-tlsa", POLICY_TRY },
	[POLICY_R_MX_INSECURE] = { "mx-insecure", POLICY_TRY },
	[POLICY_R_ADDRESS_INSECURE] = { "address-insecure", POLICY_TRY },
	[POLICY_R_ADDRESS_LITERAL] = { "address-literal", POLICY_TRY },
	[POLICY_R_LOCAL_POLICY] = { "local-policy", POLICY_TRY },
	[POLICY_R_NO_SUCH_DOMAIN] = { "no-such-domain", POLICY_TRY },
	[POLICY_R_STS_TESTING] = { "sts-testing", POLICY_TRY },
	[POLICY_R_MX_LOOKUP_FAILED] = { "mx-lookup-failed", POLICY_DEFER },
	[POLICY_R_MX_BOGUS] = { "mx-dnssec-bogus", POLICY_DEFER },
	[POLICY_R_DNS_TIMEOUT] = { "dns-timeout", POLICY_DEFER },
	[POLICY_R_ADDRESS_LOOKUP_FAILED] = { "address-lookup-failed", POLICY_DEFER },
	[POLICY_R_ADDRESS_BOGUS] = { "address-dnssec-bogus", POLICY_DEFER },
	[POLICY_R_NO_ADDRESS] = { "no-address", POLICY_DEFER },
	[POLICY_R_TLSA_LOOKUP_FAILED] = { "tlsa-lookup-failed", POLICY_DEFER },
	[POLICY_R_DANE_REQUIRED] = { "dane-required", POLICY_DEFER },
	[POLICY_R_TLSA_UNUSABLE] = { "tlsa-unusable", POLICY_DEFER },
	[POLICY_R_INVALID_DOMAIN] = { "invalid-domain", POLICY_DEFER },
	[POLICY_R_INTERNAL_ERROR] = { "internal-error", POLICY_DEFER },
	[POLICY_R_DANE_AUTH_FAILED] = { "dane-auth-failed", POLICY_DEFER },
	[POLICY_R_STS_MX_MISMATCH] = { "sts-mx-mismatch", POLICY_DEFER },
	[POLICY_R_NULL_MX] = { "null-mx", POLICY_REJECT },
};

static const char *const host_state_names[] = {
	[POLICY_HOST_DANE] = "dane",
	[POLICY_HOST_TLS] = "tls",
	[POLICY_HOST_OPPORTUNISTIC] = "opportunistic",
	[POLICY_HOST_UNUSABLE] = "unusable",
};

static const char *const tlsa_state_names[] = {
	[POLICY_TLSA_NOT_QUERIED] = "not-queried",
	[POLICY_TLSA_NONE] = "none",
	[POLICY_TLSA_FOUND] = "found",
	[POLICY_TLSA_FAILED] = "failed",
};

static const char *const source_names[] = {
	[POLICY_SRC_DNS] = "dns",
	[POLICY_SRC_TABLE] = "table",
	[POLICY_SRC_DEFAULT] = "default",
};

#define NAME_OF(tab, v) \
	((unsigned)(v) < sizeof(tab) / sizeof(tab[0]) && tab[v] ? tab[v] : "unknown")

const char *
policy_verdict_name(enum policy_verdict v)
{
	return NAME_OF(verdict_names, v);
}

const char *
policy_reason_name(enum policy_reason r)
{
	return (unsigned)r < POLICY_R_COUNT ? reasons[r].name : "unknown";
}

int
policy_reason_parse(const char *s, enum policy_reason *r)
{
	for (unsigned i = 0; i < POLICY_R_COUNT; i++) {
		if (strcmp(s, reasons[i].name) == 0) {
			*r = (enum policy_reason)i;
			return 0;
		}
	}
	return -1;
}

enum policy_verdict
policy_reason_verdict(enum policy_reason r)
{
	return (unsigned)r < POLICY_R_COUNT ? reasons[r].verdict : POLICY_DEFER;
}

const char *
policy_host_state_name(enum policy_host_state s)
{
	return NAME_OF(host_state_names, s);
}

const char *
policy_tlsa_state_name(enum policy_tlsa_state s)
{
	return NAME_OF(tlsa_state_names, s);
}

const char *
policy_source_name(enum policy_source s)
{
	return NAME_OF(source_names, s);
}

struct policy_decision *
policy_decision_ref(struct policy_decision *d)
{
	atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
	return d;
}

static void
policy_host_clear(struct policy_host *h)
{
	free(h->name);
	free(h->canonname);
	for (size_t i = 0; i < h->naddrs; i++)
		free(h->addrs[i]);
	free(h->addrs);
	free(h->tlsa_base);
	for (size_t i = 0; i < h->ntlsa; i++)
		tlsa_rr_clear(&h->tlsa[i]);
	free(h->tlsa);
	free(h->why);
}

void
policy_sts_free(struct policy_sts *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nmx; i++)
		free(s->mx[i]);
	free(s->mx);
	free(s->id);
	free(s->txt_id);
	free(s->note);
	free(s->fetch_error);
	free(s);
}

void
policy_decision_unref(struct policy_decision *d)
{
	if (d == NULL)
		return;
	if (atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(d->domain);
	free(d->mx_domain);
	free(d->why);
	free(d->table_key);
	for (size_t i = 0; i < d->nhosts; i++)
		policy_host_clear(&d->hosts[i]);
	free(d->hosts);
	policy_sts_free(d->sts);
	free(atomic_load_explicit(&d->json_memo, memory_order_acquire));
	free(d);
}

struct policy_decision *
policy_decision_simple(const char *domain, enum policy_verdict v, enum tls_level level,
    enum policy_reason r, const char *why)
{
	struct policy_decision *d = xcalloc(1, sizeof(*d));

	d->domain = xstrdup(domain ? domain : "");
	d->verdict = v;
	d->level = level;
	d->reason = r;
	d->why = xstrdup(why ? why : "");
	d->policy_level = level;
	d->source = POLICY_SRC_DEFAULT;
	d->mx_status = DNS_NODATA;
	d->mx_sec = DNS_SEC_INDETERMINATE;
	d->refs = 1;
	return d;
}
