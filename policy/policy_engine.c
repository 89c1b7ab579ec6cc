/*
 * policy_engine.c - the RFC 7672 decision engine: entry points, query
 * queue, the MX stage (RFC 7672 section 2.2.1) and decision assembly.
 * The per-host address and TLSA stages live in policy_hosts.c.
 *
 * Pure: no I/O, no clock, no globals. The driver (policy_run.c) asks for
 * queries with policy_engine_next_query(), performs them however it likes
 * (in parallel), and hands back classified answers in any order. Every
 * answer is owned by the engine once handed over. The decision is built
 * in e->d and given away exactly once by policy_engine_result().
 *
 * Not here: DNS transport, caching, deadlines (a late answer simply
 * arrives as DNS_TIMEOUT), the local policy table lookup (the caller
 * passes the level in struct policy_input).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dnsname.h"
#include "mem.h"
#include "policy.h"
#include "policy_hosts.h"

/* ------------------------------------------------------------ plumbing */

void
policy_hosts_enqueue(struct policy_engine *e, const char *name, uint16_t type, enum eng_kind kind,
    int host, int cand)
{
	struct eng_query *q;

	if (e->nq == e->capq) {
		e->capq = e->capq ? e->capq * 2 : 8;
		e->q = xreallocarray(e->q, e->capq, sizeof(*e->q));
	}
	q = &e->q[e->nq++];
	q->name = xstrdup(name);
	q->type = type;
	q->kind = kind;
	q->host = host;
	q->cand = cand;
	e->d->queries++;
}

void
policy_hosts_note_ttl(struct policy_engine *e, const struct dns_answer *a)
{
	if (a->status == DNS_FAIL || a->status == DNS_TIMEOUT)
		return;
	if (!e->have_ttl || a->ttl < e->ttl)
		e->ttl = a->ttl;
	e->have_ttl = 1;
}

void
policy_hosts_finish(struct policy_engine *e, enum policy_verdict v, enum tls_level lvl,
    enum policy_reason r, char *why)
{
	struct policy_decision *d = e->d;

	d->verdict = v;
	d->level = lvl;
	d->reason = r;
	free(d->why);
	d->why = why;
	d->ttl = e->have_ttl ? e->ttl : 0;
	e->done = 1;
}

static int
eng_mandatory(const struct policy_engine *e)
{
	return e->in.level == TLS_LEVEL_DANE_ONLY;
}

/* ------------------------------------------------------------ MX stage */

struct mx_rr {
	int pref;
	char name[DNSNAME_MAX];
};

static int
mx_cmp(const void *a, const void *b)
{
	const struct mx_rr *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref - y->pref;
	return strcmp(x->name, y->name);
}

/*
 * Parse the MX RDATA into rr[] (sorted by preference; qsort is not stable
 * and RRset order is arbitrary, so ties are broken by name for
 * determinism). Returns the number of valid
 * records; *nullmx is set when any record has the root as exchange.
 */
static size_t
mx_parse(const struct dns_answer *a, struct mx_rr *rr, int *nullmx, size_t *bad)
{
	size_t n = 0;

	*nullmx = 0;
	*bad = 0;
	for (size_t i = 0; i < a->count; i++) {
		const uint8_t *p = a->rr[i].data;
		size_t off = 2;

		if (a->rr[i].len < 3 || dnsname_from_wire(p, a->rr[i].len, &off, rr[n].name) < 0 ||
		    off != a->rr[i].len) {
			(*bad)++;
			continue;
		}
		rr[n].pref = (p[0] << 8) | p[1];
		if (rr[n].name[0] == 0) {
			*nullmx = 1;
			continue;
		}
		n++;
	}
	qsort(rr, n, sizeof(*rr), mx_cmp);
	return n;
}

static void
mx_add_host(struct policy_decision *d, const char *name, int pref)
{
	struct policy_host *h;

	for (size_t i = 0; i < d->nhosts; i++)
		if (strcmp(d->hosts[i].name, name) == 0)
			return; /* same exchange twice: keep the best preference */
	d->hosts = xreallocarray(d->hosts, d->nhosts + 1, sizeof(*d->hosts));
	h = &d->hosts[d->nhosts++];
	memset(h, 0, sizeof(*h));
	h->name = xstrdup(name);
	h->preference = pref;
	h->addr_status = DNS_NODATA;
	h->addr_sec = DNS_SEC_INDETERMINATE;
	h->tlsa_sec = DNS_SEC_INDETERMINATE;
	h->state = POLICY_HOST_OPPORTUNISTIC;
	h->reason = POLICY_R_NO_TLSA;
}

static void
mx_failed(struct policy_engine *e, const struct dns_answer *a)
{
	enum policy_reason r = a->sec == DNS_SEC_BOGUS ? POLICY_R_MX_BOGUS
	    : a->status == DNS_TIMEOUT		       ? POLICY_R_DNS_TIMEOUT
						       : POLICY_R_MX_LOOKUP_FAILED;

	policy_hosts_finish(e, POLICY_DEFER, e->in.level, r,
	    xasprintf("MX lookup for %.255s: %.300s", e->domain, a->why ? a->why : "failed"));
}

/* Insecure MX RRset: no DANE from DNS unless insecure_mx_dane. */
static int
mx_insecure(struct policy_engine *e)
{
	struct policy_decision *d = e->d;

	if (eng_mandatory(e)) {
		policy_hosts_finish(e, POLICY_DEFER, TLS_LEVEL_DANE_ONLY, POLICY_R_DANE_REQUIRED,
		    xasprintf("the MX records of %.255s are not DNSSEC-signed", e->domain));
		return 1;
	}
	if (e->in.insecure_mx_dane)
		return 0;
	for (size_t i = 0; i < d->nhosts; i++) {
		d->hosts[i].reason = POLICY_R_MX_INSECURE;
		d->hosts[i].why = xstrdup("MX RRset insecure: DANE not applied");
	}
	policy_hosts_finish(e, POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_MX_INSECURE,
	    xasprintf("the MX records of %.255s are not DNSSEC-signed", e->domain));
	return 1;
}

static void
mx_data(struct policy_engine *e, const struct dns_answer *a)
{
	struct policy_decision *d = e->d;
	struct mx_rr *rr = xcalloc(a->count ? a->count : 1, sizeof(*rr));
	size_t n, bad;
	int nullmx;

	n = mx_parse(a, rr, &nullmx, &bad);
	if (nullmx) {
		/* Like Postfix: any root exchange makes the whole domain null MX. */
		policy_hosts_finish(e, POLICY_REJECT, e->in.level, POLICY_R_NULL_MX,
		    xasprintf("%.255s publishes a null MX (RFC 7505)", e->domain));
		goto out;
	}
	if (n == 0) {
		policy_hosts_finish(e, POLICY_DEFER, e->in.level, POLICY_R_MX_LOOKUP_FAILED,
		    xasprintf("MX lookup for %.255s: %zu malformed record(s), none usable",
			e->domain, bad));
		goto out;
	}
	for (size_t i = 0; i < n && d->nhosts < e->in.max_hosts; i++)
		mx_add_host(d, rr[i].name, rr[i].pref);
	if (a->sec == DNS_SEC_INSECURE && mx_insecure(e))
		goto out;
	policy_hosts_start(e);
out:
	free(rr);
}

static void
mx_answer(struct policy_engine *e, struct dns_answer *a)
{
	struct policy_decision *d = e->d;

	d->mx_status = a->status;
	d->mx_sec = a->sec;
	policy_hosts_note_ttl(e, a);
	if (a->canonname)
		d->mx_domain = xstrdup(a->canonname);
	switch (a->status) {
	case DNS_FAIL:
	case DNS_TIMEOUT:
		mx_failed(e, a);
		break;
	case DNS_NXDOMAIN:
		if (a->sec != DNS_SEC_SECURE && eng_mandatory(e))
			policy_hosts_finish(e, POLICY_DEFER, TLS_LEVEL_DANE_ONLY,
			    POLICY_R_DANE_REQUIRED,
			    xasprintf("%.255s does not exist, and the denial is not DNSSEC-signed",
				e->domain));
		else
			policy_hosts_finish(e, POLICY_TRY, e->in.level, POLICY_R_NO_SUCH_DOMAIN,
			    xasprintf("%.255s does not exist (%s NXDOMAIN)", e->domain,
				dns_sec_name(a->sec)));
		break;
	case DNS_NODATA:
		/* Implicit MX (RFC 5321 5.1): the domain itself is the host. */
		d->implicit_mx = 1;
		mx_add_host(d, e->domain, -1);
		if (a->sec == DNS_SEC_INSECURE && mx_insecure(e))
			break;
		policy_hosts_start(e);
		break;
	case DNS_DATA:
		mx_data(e, a);
		break;
	}
	dns_answer_free(a);
}

/* ------------------------------------------------------------ entry points */

static void
eng_start(struct policy_engine *e)
{
	enum tls_level lvl = e->in.level;

	if (lvl == TLS_LEVEL_NONE || lvl == TLS_LEVEL_MAY || lvl == TLS_LEVEL_ENCRYPT) {
		policy_hosts_finish(e, POLICY_TRY, lvl, POLICY_R_LOCAL_POLICY,
		    xasprintf("local policy sets TLS level %s for %.255s", tls_level_name(lvl),
			e->domain));
		return;
	}
	if (dnsname_is_address_literal(e->domain)) {
		if (eng_mandatory(e))
			policy_hosts_finish(e, POLICY_DEFER, lvl, POLICY_R_DANE_REQUIRED,
			    xasprintf("DANE cannot apply to the address literal %.255s",
				e->domain));
		else
			policy_hosts_finish(e, POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_ADDRESS_LITERAL,
			    xasprintf("%.255s is an address literal: DANE does not apply",
				e->domain));
		return;
	}
	if (e->in.no_mx) {
		/* A relay named in brackets is not subject to MX lookup. */
		mx_add_host(e->d, e->domain, -1);
		policy_hosts_start(e);
		return;
	}
	e->d->mx_queried = 1;
	policy_hosts_enqueue(e, e->domain, DNS_T_MX, ENG_Q_MX, -1, 0);
}

struct policy_engine *
policy_engine_new(const struct policy_input *in)
{
	struct policy_engine *e = xcalloc(1, sizeof(*e));
	struct policy_decision *d;

	e->in = *in;
	e->domain = xstrdup(in->domain ? in->domain : "");
	e->table_key = xstrdup_null(in->table_key);
	e->in.domain = e->domain;
	e->in.table_key = e->table_key;
	if (e->in.max_hosts == 0)
		e->in.max_hosts = 10;
	if (!e->in.want_ipv4 && !e->in.want_ipv6)
		e->in.want_ipv4 = 1;
	if (e->in.port == 0)
		e->in.port = 25;
	d = policy_decision_simple(e->domain, POLICY_DEFER, in->level, POLICY_R_INTERNAL_ERROR,
	    "decision not finished");
	d->policy_level = in->level;
	d->source = in->source;
	d->table_key = xstrdup_null(in->table_key);
	d->no_mx = e->in.no_mx;
	d->port = e->in.port;
	e->d = d;
	eng_start(e);
	return e;
}

void
policy_engine_free(struct policy_engine *e)
{
	if (e == NULL)
		return;
	policy_hosts_free(e);
	for (size_t i = 0; i < e->nq; i++)
		free(e->q[i].name);
	free(e->q);
	policy_decision_unref(e->d);
	free(e->domain);
	free(e->table_key);
	free(e);
}

int
policy_engine_next_query(struct policy_engine *e, struct policy_query *q)
{
	if (e->done || e->next_issue >= e->nq)
		return 0;
	q->name = e->q[e->next_issue].name;
	q->type = e->q[e->next_issue].type;
	q->tag = (unsigned)e->next_issue;
	e->next_issue++;
	return 1;
}

void
policy_engine_answer(struct policy_engine *e, unsigned tag, struct dns_answer *ans)
{
	if (ans == NULL)
		return;
	if (e->done || tag >= e->next_issue) {
		dns_answer_free(ans); /* late or unknown: nothing to do */
		return;
	}
	/*
	 * Bogus or indeterminate data is a lookup failure whatever status came
	 * with it (RFC 7672 2.1.1); its records are never used.
	 */
	if ((ans->sec == DNS_SEC_BOGUS || ans->sec == DNS_SEC_INDETERMINATE) &&
	    ans->status != DNS_FAIL && ans->status != DNS_TIMEOUT)
		ans->status = DNS_FAIL;
	if (e->q[tag].kind == ENG_Q_MX)
		mx_answer(e, ans);
	else
		policy_hosts_answer(e, &e->q[tag], ans);
}

int
policy_engine_done(const struct policy_engine *e)
{
	return e->done;
}

struct policy_decision *
policy_engine_result(struct policy_engine *e)
{
	struct policy_decision *d;

	if (!e->done || e->d == NULL)
		return NULL;
	d = e->d;
	e->d = NULL;
	return d;
}
