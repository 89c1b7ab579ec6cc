/*
 * selfcheck_dns.c - the DNSSEC signatures and the TLSA TTL of an own
 * domain (selfcheck_int.h): one batch of lookups for the MX RRset, the
 * A/AAAA RRsets of every MX host and the TLSA RRset of every DANE host,
 * each answer's earliest RRSIG expiration (dns_answer.sig_expire) held
 * against the warning and critical windows. A signer that stopped shows
 * here days before the signatures run out and the domain goes bogus.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "dns.h"
#include "mem.h"
#include "selfcheck_int.h"

#define DAY	   86400
#define T_A	   1
#define T_MX	   15
#define T_AAAA	   28
#define T_TLSA	   52
#define TLSA_TTL_LONG 86400 /* a longer TTL makes a key rollover slow */

struct sig_q {
	char *name;
	uint16_t type;
};

static void
sig_finding(const struct dns_answer *a, const char *tname, const struct selfcheck_opts *o,
    struct selfcheck_result *r)
{
	int64_t left = a->sig_expire - o->now;
	time_t t = (time_t)a->sig_expire;
	char when[32];
	struct tm tm;

	if (r->sig_expire == 0 || a->sig_expire < r->sig_expire)
		r->sig_expire = a->sig_expire;
	if (left > (int64_t)o->sig_warn_days * DAY)
		return;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	findings_add(&r->f,
	    left <= (int64_t)o->sig_crit_days * DAY ? FINDING_CRITICAL : FINDING_WARNING,
	    "rrsig-expiring", a->qname,
	    "re-sign the zone and check the signer (when the signatures run out the "
	    "domain is bogus: every validating sender defers its mail)",
	    "the RRSIG over %s %s expires %s (in %.1f days)", a->qname, tname, when,
	    (double)left / DAY);
}

static void
sig_answer(const struct dns_answer *a, const struct selfcheck_opts *o,
    struct selfcheck_result *r)
{
	char tbuf[16];
	const char *tname = dns_type_name(a->qtype, tbuf);

	if (a->status != DNS_DATA || a->sec != DNS_SEC_SECURE)
		return; /* the decision's findings already say so */
	if (a->sig_expire > 0)
		sig_finding(a, tname, o, r);
	if (a->qtype == T_TLSA) {
		if (r->tlsa_ttl == 0 || a->ttl < r->tlsa_ttl)
			r->tlsa_ttl = a->ttl;
		if (a->ttl > TLSA_TTL_LONG)
			findings_add(&r->f, FINDING_WARNING, "tlsa-ttl-long", a->qname,
			    "lower the TLSA TTL (an hour is common): a key rollover waits 2 TTLs",
			    "TLSA TTL %u s (over a day)", (unsigned)a->ttl);
	}
}

static size_t
sig_queries(const struct policy_decision *d, const struct conf *c, struct sig_q *q, size_t max)
{
	size_t n = 0;

	if (d->mx_queried && !d->implicit_mx && n < max)
		q[n++] = (struct sig_q){ xstrdup(d->domain), T_MX };
	for (size_t i = 0; i < d->nhosts; i++) {
		const struct policy_host *h = &d->hosts[i];

		if (c->ipv4 && n < max)
			q[n++] = (struct sig_q){ xstrdup(h->name), T_A };
		if (c->ipv6 && n < max)
			q[n++] = (struct sig_q){ xstrdup(h->name), T_AAAA };
		if (h->tlsa_base && n < max)
			q[n++] = (struct sig_q){ xasprintf("_%u._tcp.%s", d->port, h->tlsa_base),
				T_TLSA };
	}
	return n;
}

void
selfcheck_dns(struct policy_runtime *rt, const struct policy_decision *d,
    const struct selfcheck_opts *o, struct selfcheck_result *r)
{
	struct sig_q q[1 + 3 * 64];
	size_t n = sig_queries(d, rt->conf, q, sizeof(q) / sizeof(q[0]));
	struct dns_batch *b = dns_batch_new(policy_run_resolver_for(rt, d->domain));
	int64_t deadline = clock_now_ms() + rt->conf->decision_timeout_ms;
	struct dns_answer *a;
	unsigned tag;

	for (size_t i = 0; i < n; i++)
		(void)dns_batch_add(b, q[i].name, q[i].type, (unsigned)i);
	while (dns_batch_next(b, deadline, &tag, &a) == 1) {
		if (a->status == DNS_TIMEOUT && tag < n)
			findings_add(&r->f, FINDING_UNKNOWN, "dns-timeout", q[tag].name,
			    "check the resolver (resolver_forward) and the zone's servers",
			    "no answer within %u ms", rt->conf->decision_timeout_ms);
		else
			sig_answer(a, o, r);
		dns_answer_free(a);
	}
	dns_batch_free(b);
	for (size_t i = 0; i < n; i++)
		free(q[i].name);
}
