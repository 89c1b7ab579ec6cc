/*
 * policy_sts.c - MTA-STS applied to a decision (contract in policy_sts.h).
 *
 * Steps: the _mta-sts TXT record through the validating resolver (a
 * bogus or failed answer is a lookup failure: a cached policy still
 * applies, nothing is fetched); the cache (sts/sts_cache.h); a fetch
 * when the cache wants one and the deadline allows, to the addresses of
 * mta-sts.<domain> from the same resolver; then the policy: enforce
 * keeps the MX hosts its patterns name (the others become unusable) and
 * requires authenticated TLS ("secure"), or defers when it names none;
 * testing only marks the decision. policy_sts_host() answers, from a
 * decision already made, whether its enforce policy names one MX host
 * (the Exim front door's "host" request: Exim routes to every MX host).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "mem.h"
#include "policy_run.h"
#include "policy_sts.h"
#include "sts_cache.h"
#include "sts_policy.h"
#include "sts_txt.h"

#define TXT_TEXT_MAX 1024 /* bytes of one TXT record's text we look at */
#define TXT_MAX	     8	  /* TXT records considered */
#define FETCH_MIN_MS 300  /* a fetch needs at least this much time left */

enum { TAG_TXT = 1, TAG_A, TAG_AAAA };

static int
applicable(const struct policy_runtime *rt, const struct policy_input *in,
    const struct policy_decision *d)
{
	if (rt->sts == NULL || in->no_mx || in->source != POLICY_SRC_DEFAULT || in->domain[0] == '[')
		return 0;
	if (d->verdict != POLICY_TRY)
		return 0;
	return d->reason == POLICY_R_NO_TLSA || d->reason == POLICY_R_MX_INSECURE ||
	       d->reason == POLICY_R_ADDRESS_INSECURE;
}

/* the id of the TXT answer a into id (or "" with s->note set) */
static void
txt_id(const struct dns_answer *a, struct policy_sts *s, char *id)
{
	char *texts[TXT_MAX] = { 0 };
	const char *why = NULL;
	size_t n = 0;

	id[0] = 0;
	if (a->status == DNS_NODATA || a->status == DNS_NXDOMAIN) {
		s->note = xstrdup("no _mta-sts TXT record");
		return;
	}
	if (a->status != DNS_DATA || a->sec == DNS_SEC_BOGUS) {
		s->note = xasprintf("_mta-sts TXT lookup failed (%s%s%s)",
		    a->sec == DNS_SEC_BOGUS ? "bogus" : dns_status_name(a->status),
		    a->why ? ": " : "", a->why ? a->why : "");
		return;
	}
	for (size_t i = 0; i < a->count && n < TXT_MAX; i++) {
		texts[n] = xmalloc(TXT_TEXT_MAX);
		if (sts_txt_text(a->rr[i].data, a->rr[i].len, texts[n], TXT_TEXT_MAX) == 0)
			n++;
		else
			free(texts[n]);
	}
	if (!sts_txt_select(texts, n, id, &why)) {
		id[0] = 0;
		s->note = xasprintf("_mta-sts TXT record not usable: %s", why);
	}
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
}

/* wait for the batch's answers (tags TAG_*), all or until the deadline */
static void
collect(struct dns_batch *b, int64_t deadline, struct dns_answer **ans, unsigned want)
{
	unsigned tag;
	struct dns_answer *a;

	while (want > 0 && dns_batch_next(b, deadline, &tag, &a)) {
		if (tag <= TAG_AAAA && ans[tag] == NULL) {
			ans[tag] = a;
			want--;
		} else {
			dns_answer_free(a);
		}
	}
}

/* the addresses of mta-sts.<domain> in the answers (text; caller frees) */
static size_t
addresses(struct dns_answer *const *ans, char ***out)
{
	char text[64];
	size_t n = 0;

	*out = NULL;
	for (int t = TAG_A; t <= TAG_AAAA; t++) {
		const struct dns_answer *a = ans[t];

		for (size_t j = 0; a && a->status == DNS_DATA && a->sec != DNS_SEC_BOGUS && j < a->count;
		     j++) {
			if (dns_answer_addr(a, j, text, sizeof(text)) < 0)
				continue;
			*out = xreallocarray(*out, n + 1, sizeof(char *));
			(*out)[n++] = xstrdup(text);
		}
	}
	return n;
}

/* the addresses of mta-sts.<domain> through the resolver (caller frees) */
static size_t
policy_host_addrs(struct dns_batch *b, const char *domain, int64_t deadline, char ***addrs)
{
	struct dns_answer *ans[TAG_AAAA + 1] = { 0 };
	char *host = xasprintf("mta-sts.%s", domain);
	size_t n;

	dns_batch_add(b, host, DNS_T_A, TAG_A);
	dns_batch_add(b, host, DNS_T_AAAA, TAG_AAAA);
	collect(b, deadline, ans, 2);
	n = addresses(ans, addrs);
	dns_answer_free(ans[TAG_A]);
	dns_answer_free(ans[TAG_AAAA]);
	free(host);
	return n;
}

/*
 * Fetch the policy: in the background when a policy is cached (it goes
 * on applying meanwhile) and danepold runs refresh threads, else now,
 * when the deadline leaves time. Notes on s.
 */
static void
fetch(struct policy_runtime *rt, struct dns_batch *b, const char *domain, const char *id,
    int have, int64_t deadline, struct policy_sts *s)
{
	char **addrs = NULL, *err = NULL;
	size_t n = policy_host_addrs(b, domain, deadline, &addrs);
	int64_t left = deadline - clock_now_ms() - 100;
	enum sts_fetch_status st;

	if (n == 0) {
		s->fetch_error = xstrdup(sts_fetch_status_name(STS_FETCH_ERROR));
		s->note = xasprintf("mta-sts.%s has no address: policy not fetched", domain);
	} else if (have && sts_cache_refresh_later(rt->sts, domain, id, (const char *const *)addrs, n)) {
		s->note = xstrdup("policy refresh queued");
	} else if (left < FETCH_MIN_MS) {
		s->note = xstrdup("no time left before the decision deadline to fetch the policy");
	} else {
		unsigned ms = rt->conf->sts_fetch_timeout_ms;

		if ((int64_t)ms > left)
			ms = (unsigned)left;
		st = sts_cache_refresh(rt->sts, domain, id, (const char *const *)addrs, n, ms,
		    (int64_t)time(NULL), &err);
		if (st != STS_FETCH_OK) {
			s->fetch_error = xstrdup(sts_fetch_status_name(st));
			s->note = err;
			err = NULL;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(addrs[i]);
	free(addrs);
	free(err);
}

/* a line "a, b, c" of the policy's patterns (caller frees) */
static char *
patterns(const struct sts_policy *p)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < p->nmx; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", p->mx[i]);
	return buf_steal(&b);
}

/* enforce: keep the hosts the patterns name; the verdict */
static void
enforce(struct policy_decision *d, const struct sts_policy *p, const char *id)
{
	char *pats = patterns(p);
	size_t named = 0;

	for (size_t i = 0; i < d->nhosts; i++) {
		struct policy_host *h = &d->hosts[i];

		if (sts_policy_mx_match(p, h->name)) {
			named++;
			continue;
		}
		h->state = POLICY_HOST_UNUSABLE;
		h->reason = POLICY_R_STS_MX_MISMATCH;
		free(h->why);
		h->why = xasprintf("not named by the MTA-STS policy (mx: %s)", pats);
	}
	free(d->why);
	if (named == 0) {
		d->verdict = POLICY_DEFER;
		d->reason = POLICY_R_STS_MX_MISMATCH;
		d->why = xasprintf("MTA-STS policy %s (enforce) names none of the %zu MX hosts (mx: %s)",
		    id, d->nhosts, pats);
	} else {
		d->verdict = POLICY_REQUIRE;
		d->reason = POLICY_R_STS_ENFORCE;
		d->level = TLS_LEVEL_SECURE;
		d->why = xasprintf("MTA-STS policy %s (enforce): TLS with a certificate valid for "
				   "the MX host, %zu of %zu MX hosts named (mx: %s)",
		    id, named, d->nhosts, pats);
	}
	free(pats);
}

/* the policy p (fetched under id) onto d and s */
static void
apply(struct policy_decision *d, struct policy_sts *s, const struct sts_policy *p,
    const struct sts_cache_state *cs)
{
	s->have = 1;
	s->mode = (int)p->mode;
	s->id = xstrdup(cs->id);
	s->max_age = p->max_age;
	s->expires = cs->expires;
	s->nmx = p->nmx;
	s->mx = p->nmx ? xcalloc(p->nmx, sizeof(char *)) : NULL;
	for (size_t i = 0; i < p->nmx; i++)
		s->mx[i] = xstrdup(p->mx[i]);
	if (p->mode == STS_MODE_ENFORCE) {
		enforce(d, p, cs->id);
	} else if (p->mode == STS_MODE_TESTING) {
		char *why = xasprintf("%s; MTA-STS policy %s in testing mode (failures reported)",
		    d->why ? d->why : "", cs->id);

		free(d->why);
		d->why = why;
		d->reason = POLICY_R_STS_TESTING;
	}
}

void
policy_sts_apply(struct policy_runtime *rt, const struct policy_input *in,
    struct policy_decision *d, int64_t deadline)
{
	struct dns_answer *ans[TAG_AAAA + 1] = { 0 };
	struct policy_sts *s;
	struct sts_policy p;
	struct sts_cache_state cs;
	struct dns_batch *b;
	char id[STS_ID_MAX + 1] = "", *name;

	if (!applicable(rt, in, d))
		return;
	s = d->sts = xcalloc(1, sizeof(*s));
	b = dns_batch_new(policy_run_resolver_for(rt, in->domain));
	name = xasprintf("_mta-sts.%s", in->domain);
	dns_batch_add(b, name, DNS_T_TXT, TAG_TXT);
	collect(b, deadline, ans, 1);
	if (ans[TAG_TXT] == NULL)
		s->note = xstrdup("_mta-sts TXT lookup: no answer before the decision deadline");
	else
		txt_id(ans[TAG_TXT], s, id);
	s->txt_id = id[0] ? xstrdup(id) : NULL;
	sts_cache_lookup(rt->sts, in->domain, s->txt_id, (int64_t)time(NULL), &p, &cs);
	if (cs.want_fetch) {
		sts_policy_clear(&p);
		fetch(rt, b, in->domain, s->txt_id, cs.have, deadline, s);
		sts_cache_lookup(rt->sts, in->domain, s->txt_id, (int64_t)time(NULL), &p, &cs);
	}
	if (cs.have)
		apply(d, s, &p, &cs);
	else if (s->note == NULL)
		s->note = xstrdup("no MTA-STS policy");
	sts_policy_clear(&p);
	dns_answer_free(ans[TAG_TXT]);
	dns_batch_free(b);
	free(name);
}

size_t
policy_sts_lines(const struct policy_sts *s, char ***lines)
{
	struct sts_policy p;

	*lines = NULL;
	if (s == NULL || !s->have)
		return 0;
	p = (struct sts_policy){ .mode = (enum sts_mode)s->mode, .max_age = s->max_age,
		.mx = s->mx, .nmx = s->nmx };
	return sts_policy_strings(&p, lines);
}

enum policy_sts_host
policy_sts_host(const struct policy_decision *d, const char *host)
{
	const struct policy_sts *s = d->sts;
	struct sts_policy p;

	if (s == NULL || !s->have || s->mode != STS_MODE_ENFORCE)
		return POLICY_STS_HOST_NO_POLICY;
	/* the decision's copy of the patterns, borrowed (not freed here) */
	memset(&p, 0, sizeof(p));
	p.mode = STS_MODE_ENFORCE;
	p.mx = s->mx;
	p.nmx = s->nmx;
	return sts_policy_mx_match(&p, host) ? POLICY_STS_HOST_NAMED : POLICY_STS_HOST_NOT_NAMED;
}
