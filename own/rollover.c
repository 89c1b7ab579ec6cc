/*
 * rollover.c - the key-rollover gate and plan (rollover.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/x509.h>

#include "buf.h"
#include "mem.h"
#include "probe.h"
#include "rollover.h"
#include "seen.h"
#include "selfcheck_int.h"
#include "tlsa.h"
#include "tlsa_gen.h"

#define MAX_WANT     8
#define DEFAULT_TTL  3600 /* when the TLSA TTL cannot be read */
#define TIMEBUF	     32

/* A set of "U S M HEX" record strings. */
struct recs {
	char *v[MAX_WANT * 4];
	size_t n;
};

static void
recs_add(struct recs *r, unsigned usage, char *sm_hex)
{
	if (sm_hex != NULL && r->n < sizeof(r->v) / sizeof(r->v[0]))
		r->v[r->n++] = xasprintf("%u %s", usage, sm_hex);
	free(sm_hex);
}

static int
recs_has(const struct recs *r, const char *rec)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcasecmp(r->v[i], rec) == 0)
			return 1;
	return 0;
}

static void
recs_clear(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i]);
	r->n = 0;
}

/* The DANE-EE records that name a key and/or certificate. */
static void
recs_of(struct recs *r, EVP_PKEY *k, X509 *x)
{
	if (k == NULL && x != NULL)
		k = X509_get0_pubkey(x);
	if (k) {
		recs_add(r, 3, tlsa_gen_key(k, 1));
		recs_add(r, 3, tlsa_gen_key(k, 2));
	}
	if (x) {
		recs_add(r, 3, tlsa_gen_cert(x, 0, 1));
		recs_add(r, 3, tlsa_gen_cert(x, 0, 2));
	}
}

static void
fmt_time(int64_t t, char *buf)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, TIMEBUF, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* The smallest TLSA TTL of d's hosts (selfcheck_dns()), DEFAULT_TTL when none. */
static uint32_t
tlsa_ttl(struct policy_runtime *rt, const struct policy_decision *d, int64_t now)
{
	struct selfcheck_opts so;
	struct selfcheck_result r;
	uint32_t ttl;

	selfcheck_opts_conf(&so, rt->conf, now);
	memset(&r, 0, sizeof(r));
	selfcheck_dns(rt, d, &so, &r);
	ttl = r.tlsa_ttl ? r.tlsa_ttl : DEFAULT_TTL;
	selfcheck_result_clear(&r);
	return ttl;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The host's records as strings, sorted (DNS gives an RRset in any
 * order; a plan must read the same each time). Free each and the array.
 */
static char **
host_records(const struct policy_host *h)
{
	char **v = xcalloc(h->ntlsa + 1, sizeof(char *));

	for (size_t i = 0; i < h->ntlsa; i++)
		v[i] = tlsa_to_string(&h->tlsa[i]);
	qsort(v, h->ntlsa, sizeof(*v), str_cmp);
	return v;
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Observe the records of h in the history: first[i] for each. Without a
 * store, or on a store error (an UNKNOWN finding), first[i] = now.
 */
static void
observe(const struct rollover_opts *o, const char *kind, const char *owner, char **items,
    size_t n, int64_t max_gap, int64_t *first, struct findings *f)
{
	char *err = NULL;

	for (size_t i = 0; i < n; i++)
		first[i] = o->now;
	if (o->store == NULL || n == 0)
		return;
	if (seen_observe(o->store, kind, owner, (const char *const *)items, n, o->now, max_gap,
		first, &err) < 0) {
		findings_add(f, FINDING_UNKNOWN, "store-failed", owner,
		    "check outcome_db (danepol needs to write its history there)", "%s", err);
		free(err);
		for (size_t i = 0; i < n; i++)
			first[i] = o->now;
	}
}

/* ------------------------------------------------------------- check */

/*
 * The next key at one host: the index of its record in recs (or -1),
 * with a finding. *ready_at: when the record has been there long enough.
 */
static int
next_at_host(const struct policy_host *h, char *owner, char **recs, const int64_t *first,
    const struct recs *want, uint32_t ttl, const struct rollover_opts *o, struct findings *f)
{
	int64_t need = (int64_t)o->ttls * ttl, ready;
	char since[TIMEBUF], at[TIMEBUF];

	for (size_t i = 0; i < h->ntlsa; i++) {
		if (!recs_has(want, recs[i]))
			continue;
		ready = first[i] + need;
		fmt_time(first[i], since);
		fmt_time(ready, at);
		if (o->store != NULL && o->now >= ready)
			findings_add(f, FINDING_OK, "next-key-ready", owner, NULL,
			    "%s published since %s: %u x TTL %u s have passed", recs[i], since,
			    o->ttls, (unsigned)ttl);
		else
			findings_add(f, FINDING_WARNING, "next-key-too-recent", owner,
			    "run danepol rollover check again later (a timer builds the history); "
			    "do not deploy the next key before",
			    "%s seen since %s; ready at %s (%u x TTL %u s)%s", recs[i], since, at,
			    o->ttls, (unsigned)ttl,
			    o->store ? "" : " - no outcome_db: no history is kept");
		return (int)i;
	}
	findings_add(f, FINDING_CRITICAL, "next-key-missing", owner,
	    "publish the next key's record (danepol tlsa --next FILE HOST) and wait",
	    "no record of the next key is published (want %s)", want->n ? want->v[0] : "?");
	return -1;
}

/* A host that is not DANE: CRITICAL; else its owner name (caller frees). */
static char *
host_owner(const struct policy_host *h, unsigned port, struct findings *f)
{
	if (h->state == POLICY_HOST_DANE && h->tlsa_base)
		return xasprintf("_%u._tcp.%s.", port, h->tlsa_base);
	findings_add(f, FINDING_CRITICAL, "host-not-dane", h->name,
	    "publish signed TLSA records for the host first (danepol selfcheck says why)",
	    "%s: %s", policy_host_state_name(h->state),
	    h->why ? h->why : policy_reason_name(h->reason));
	return NULL;
}

static int
usable_decision(const struct policy_decision *d, const char *domain, struct findings *f)
{
	if (d->nhosts > 0 && d->verdict != POLICY_REJECT)
		return 1;
	findings_add(f, FINDING_CRITICAL, "no-mx-host", domain,
	    "danepol selfcheck DOMAIN explains the DNS", "no MX host to check: %s",
	    d->why ? d->why : policy_reason_name(d->reason));
	return 0;
}

void
rollover_observe(const struct policy_decision *d, uint32_t ttl,
    const struct rollover_opts *o, struct findings *f)
{
	for (size_t i = 0; o->store && i < d->nhosts; i++) {
		const struct policy_host *h = &d->hosts[i];
		char *owner, **recs;
		int64_t *first;

		if (h->state != POLICY_HOST_DANE || h->tlsa_base == NULL)
			continue;
		owner = xasprintf("_%u._tcp.%s.", d->port, h->tlsa_base);
		recs = host_records(h);
		first = xcalloc(h->ntlsa + 1, sizeof(*first));
		observe(o, "tlsa", owner, recs, h->ntlsa, (int64_t)o->ttls * ttl, first, f);
		free(first);
		strv_free(recs, h->ntlsa);
		free(owner);
	}
}

void
rollover_check(struct policy_runtime *rt, const char *domain, const struct rollover_opts *o,
    struct findings *f)
{
	struct policy_outcome out;
	struct recs want = { { 0 }, 0 };
	uint32_t ttl;

	policy_run_decide_uncached(rt, domain, &out);
	if (!usable_decision(out.d, domain, f))
		goto out;
	recs_of(&want, o->next_key, o->next_cert);
	ttl = tlsa_ttl(rt, out.d, o->now);
	for (size_t i = 0; i < out.d->nhosts; i++) {
		const struct policy_host *h = &out.d->hosts[i];
		char *owner = host_owner(h, out.d->port, f), **recs;
		int64_t *first;

		if (owner == NULL)
			continue;
		recs = host_records(h);
		first = xcalloc(h->ntlsa + 1, sizeof(*first));
		observe(o, "tlsa", owner, recs, h->ntlsa, (int64_t)o->ttls * ttl, first, f);
		(void)next_at_host(h, owner, recs, first, &want, ttl, o, f);
		free(first);
		strv_free(recs, h->ntlsa);
		free(owner);
	}
out:
	recs_clear(&want);
	policy_decision_unref(out.d);
}

/* ------------------------------------------------------------- plan */

/* What the probe saw at the addresses of one host. */
struct served {
	struct recs ee, ta; /* records of the served leaves / of their chains' CAs */
	int64_t since;	    /* when every address served its current leaf (latest first_seen) */
	unsigned addrs;	    /* addresses that presented a chain */
};

static void
served_chain(const struct probe_addr *a, struct served *s)
{
	for (size_t i = 0; i < a->nchain; i++) {
		const unsigned char *p = a->chain[i].der;
		X509 *x = p ? d2i_X509(NULL, &p, (long)a->chain[i].der_len) : NULL;

		if (x == NULL)
			continue;
		if (i == 0)
			recs_of(&s->ee, NULL, x);
		else {
			recs_add(&s->ta, 2, tlsa_gen_cert(x, 0, 1));
			recs_add(&s->ta, 2, tlsa_gen_cert(x, 1, 1));
			recs_add(&s->ta, 2, tlsa_gen_cert(x, 1, 2));
		}
		X509_free(x);
	}
}

/* Probe h's addresses; their served keys into s and the history. */
static void
served_at(const struct probe_result *p, const struct policy_host *h,
    const struct rollover_opts *o, int64_t max_gap, struct served *s, struct findings *f)
{
	for (size_t i = 0; i < p->naddrs; i++) {
		const struct probe_addr *a = &p->addrs[i];
		char *owner, *item;
		int64_t first;

		if (a->host == NULL || strcmp(a->host, h->name) != 0 || a->nchain == 0 ||
		    a->chain[0].spki_sha256 == NULL)
			continue;
		served_chain(a, s);
		owner = xasprintf("%s[%s]:%u", a->host, a->addr ? a->addr : "?", a->port);
		item = xasprintf("3 1 1 %s", a->chain[0].spki_sha256);
		observe(o, "served", owner, &item, 1, max_gap, &first, f);
		if (first > s->since)
			s->since = first;
		s->addrs++;
		free(owner);
		free(item);
	}
}

#define PLAN_RANKS 5

/* A record's place in the plan: served key, served CA, next key, an old key, the rest. */
static int
plan_rank(const char *rec, const struct served *s, const struct recs *want)
{
	if (recs_has(&s->ee, rec))
		return 0;
	if (recs_has(&s->ta, rec))
		return 1;
	if (recs_has(want, rec))
		return 2;
	return rec[0] == '3' && s->addrs > 0 ? 3 : 4;
}

/* The comment of one published record in the plan. */
static void
plan_record(struct buf *b, const char *rec, int64_t first, const struct served *s,
    const struct recs *want, int64_t need, const struct rollover_opts *o)
{
	int have_history = o->store != NULL;
	char t[TIMEBUF];

	switch (plan_rank(rec, s, want)) {
	case 0:
		buf_puts(b, "keep: the key served now");
		break;
	case 1:
		buf_puts(b, "keep: DANE-TA of a CA in the served chain");
		break;
	case 2:
		fmt_time(first + need, t);
		if (have_history && o->now >= first + need)
			buf_puts(b, "next key: ready (deploy it, then keep this record)");
		else
			buf_printf(b, "next key: wait until %s", t);
		break;
	case 3:
		fmt_time(s->since + need, t);
		if (have_history && o->now >= s->since + need)
			buf_puts(b, "remove: no server uses this key, and the served key has "
				    "been up long enough");
		else
			buf_printf(b, "remove after %s: no server uses this key", t);
		break;
	default:
		buf_puts(b, "check: matches no served certificate and no next key");
	}
}

static void
plan_host(struct buf *b, const struct policy_host *h, const struct probe_result *p,
    const struct recs *want, uint32_t ttl, const struct rollover_opts *o, struct findings *f,
    unsigned port)
{
	int64_t need = (int64_t)o->ttls * ttl, *first;
	struct served s = { { { 0 }, 0 }, { { 0 }, 0 }, 0, 0 };
	char *owner = host_owner(h, port, f), **recs;

	if (owner == NULL)
		return;
	recs = host_records(h);
	first = xcalloc(h->ntlsa + 1, sizeof(*first));
	observe(o, "tlsa", owner, recs, h->ntlsa, need, first, f);
	served_at(p, h, o, need, &s, f);
	/* the records in the order an operator acts on them, then sorted */
	for (int rank = 0; rank < PLAN_RANKS; rank++)
		for (size_t i = 0; i < h->ntlsa; i++) {
			if (plan_rank(recs[i], &s, want) != rank)
				continue;
			buf_printf(b, "%s %u IN TLSA %s ; ", owner, (unsigned)ttl, recs[i]);
			plan_record(b, recs[i], first[i], &s, want, need, o);
			buf_putc(b, '\n');
		}
	if (want->n > 0 && next_at_host(h, owner, recs, first, want, ttl, o, f) < 0)
		buf_printf(b, "%s %u IN TLSA %s ; publish now: the next key\n", owner,
		    (unsigned)ttl, want->v[0]);
	recs_clear(&s.ee);
	recs_clear(&s.ta);
	free(first);
	strv_free(recs, h->ntlsa);
	free(owner);
}

char *
rollover_plan(struct policy_runtime *rt, const char *domain, const struct rollover_opts *o,
    struct findings *f)
{
	struct probe_opts po = { o->step_timeout_ms, o->helo, o->port, 0, NULL };
	struct policy_outcome out;
	struct probe_result *p = NULL;
	struct recs want = { { 0 }, 0 };
	struct buf b;
	uint32_t ttl;

	buf_init(&b);
	policy_run_decide_uncached(rt, domain, &out);
	if (!usable_decision(out.d, domain, f))
		goto out;
	recs_of(&want, o->next_key, o->next_cert);
	ttl = tlsa_ttl(rt, out.d, o->now);
	p = probe_run(out.d, &po);
	for (size_t i = 0; i < out.d->nhosts; i++)
		plan_host(&b, &out.d->hosts[i], p, &want, ttl, o, f, out.d->port);
out:
	probe_result_free(p);
	recs_clear(&want);
	policy_decision_unref(out.d);
	return buf_steal(&b);
}
