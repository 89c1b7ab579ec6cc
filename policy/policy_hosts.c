/*
 * policy_hosts.c - the per-host stages of the RFC 7672 engine and the
 * aggregation of host outcomes into the destination verdict.
 *
 * For each SMTP server name (an MX exchange or the implicit-MX domain),
 * RFC 7672 section 2.2.2 and 2.2.3:
 *   1. A and AAAA lookups first (in parallel). A bogus family makes the
 *      host unusable; both failed: unusable; no address: unusable.
 *   2. Insecure addresses: no TLSA lookup, unless the name is an alias
 *      whose first CNAME is secure (separate CNAME query): then the
 *      original name is the only TLSA base domain candidate.
 *   3. Secure addresses: candidates are the CNAME-expanded name, then the
 *      original name. The first candidate with a secure TLSA RRset is the
 *      TLSA base domain; insecure or denied: next candidate; a lookup
 *      failure: the host is unusable (no fallback to the next candidate).
 *   4. Secure TLSA with a usable record: DANE; all unusable: TLS without
 *      authentication (never cleartext); none: opportunistic.
 * With tlsa_prefetch (policy_input), the TLSA lookup at the host's own
 * name is asked together with its addresses, and its answer is used only
 * when step 3 reaches that candidate (it is dropped when the addresses are
 * insecure or fail, or an earlier candidate decides): the decision is the
 * same, one round trip sooner.
 * Aggregation (dane-only makes every non-DANE host unusable): no usable
 * host -> defer with the most telling host reason; all usable hosts DANE
 * -> require; otherwise try.
 *
 * Ownership: answers handed in are owned here; address answers (and a
 * prefetched TLSA answer not yet needed) are kept in struct eng_host until
 * the engine is freed, all others freed at once.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsname.h"
#include "mem.h"
#include "policy.h"
#include "policy_hosts.h"

static void hosts_aggregate(struct policy_engine *e);

static void
host_set(struct policy_engine *e, int i, enum policy_host_state st, enum policy_reason r, char *why)
{
	struct policy_host *h = &e->d->hosts[i];

	h->state = st;
	h->reason = r;
	free(h->why);
	h->why = why;
	e->host_work[i].finished = 1;
	hosts_aggregate(e);
}

/* Reason for a failed lookup answer. */
static enum policy_reason
fail_reason(const struct dns_answer *a, enum policy_reason otherwise)
{
	if (a->sec == DNS_SEC_BOGUS)
		return otherwise == POLICY_R_TLSA_LOOKUP_FAILED ? otherwise
								: POLICY_R_ADDRESS_BOGUS;
	if (a->status == DNS_TIMEOUT)
		return POLICY_R_DNS_TIMEOUT;
	return otherwise;
}

/* ------------------------------------------------------------ TLSA */

static void tlsa_answer(struct policy_engine *e, int i, int k, struct dns_answer *a);

/* TLSA owner name of base into name (DNSNAME_MAX + 32); 0, or -1 if too long. */
static int
tlsa_name(const struct policy_engine *e, const char *base, char *name)
{
	int n = snprintf(name, DNSNAME_MAX + 32, "_%u._tcp.%s", e->in.port, base);

	return n < 0 || (size_t)n >= DNSNAME_MAX ? -1 : 0;
}

/*
 * Candidate k is the host's own name and its TLSA was prefetched: use
 * that answer (now, or when it arrives) instead of asking again.
 * Returns 1 when handled.
 */
static int
tlsa_use_prefetch(struct policy_engine *e, int i, int k)
{
	struct eng_host *w = &e->host_work[i];
	struct dns_answer *a;

	if ((w->pre_state != PRE_ASKED && w->pre_state != PRE_HAVE) ||
	    strcmp(w->cand[k], e->d->hosts[i].name) != 0)
		return 0;
	if (w->pre_state == PRE_ASKED) {
		w->pre_wait = k;
		return 1;
	}
	a = w->pre;
	w->pre = NULL;
	w->pre_state = PRE_USED;
	tlsa_answer(e, i, k, a);
	return 1;
}

/* A prefetched TLSA answer arrived (a is taken over). */
static void
tlsa_prefetched(struct policy_engine *e, int i, struct dns_answer *a)
{
	struct eng_host *w = &e->host_work[i];
	int k = w->pre_wait;

	if (w->pre_state != PRE_ASKED) {
		dns_answer_free(a);
		return;
	}
	if (k < 0) {
		w->pre = a; /* not needed yet: kept until it is (or never) */
		w->pre_state = PRE_HAVE;
		return;
	}
	w->pre_wait = -1;
	w->pre_state = PRE_USED;
	tlsa_answer(e, i, k, a);
}

static void
tlsa_lookup(struct policy_engine *e, int i, int k)
{
	struct eng_host *w = &e->host_work[i];
	char name[DNSNAME_MAX + 32];

	if (tlsa_use_prefetch(e, i, k))
		return;
	if (tlsa_name(e, w->cand[k], name) < 0) {
		/* Such an owner name cannot exist: no TLSA at this candidate. */
		if (k + 1 < w->ncand)
			tlsa_lookup(e, i, k + 1);
		else
			host_set(e, i, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA,
			    xstrdup("TLSA owner name too long: no TLSA"));
		return;
	}
	policy_hosts_enqueue(e, name, DNS_T_TLSA, ENG_Q_TLSA, i, k);
}

static void
tlsa_found(struct policy_engine *e, int i, int k, const struct dns_answer *a)
{
	struct policy_host *h = &e->d->hosts[i];

	h->tlsa_state = POLICY_TLSA_FOUND;
	h->tlsa_base = xstrdup(e->host_work[i].cand[k]);
	h->tlsa = xcalloc(a->count ? a->count : 1, sizeof(*h->tlsa));
	for (size_t j = 0; j < a->count; j++) {
		struct tlsa_rr *rr = &h->tlsa[h->ntlsa];

		if (tlsa_parse(a->rr[j].data, a->rr[j].len, rr) < 0) {
			/* Malformed (< 3 octets): kept as an unusable record. */
			memset(rr, 0, sizeof(*rr));
			rr->usage = rr->selector = rr->mtype = 255;
			rr->unusable_why = "malformed TLSA RDATA";
		}
		h->ntlsa++;
		if (rr->usable)
			h->nusable++;
	}
	if (h->nusable > 0)
		host_set(e, i, POLICY_HOST_DANE, POLICY_R_DANE,
		    xasprintf("%zu of %zu TLSA records at %.255s usable", h->nusable, h->ntlsa,
			h->tlsa_base));
	else
		host_set(e, i, POLICY_HOST_TLS, POLICY_R_UNAUTH_TLS,
		    xasprintf("all %zu TLSA records at %.255s unusable: TLS required, "
			      "without authentication",
			h->ntlsa, h->tlsa_base));
}

static void
tlsa_answer(struct policy_engine *e, int i, int k, struct dns_answer *a)
{
	struct policy_host *h = &e->d->hosts[i];

	policy_hosts_note_ttl(e, a);
	h->tlsa_sec = a->sec;
	if (a->status == DNS_FAIL || a->status == DNS_TIMEOUT) {
		h->tlsa_state = POLICY_TLSA_FAILED;
		host_set(e, i, POLICY_HOST_UNUSABLE, fail_reason(a, POLICY_R_TLSA_LOOKUP_FAILED),
		    xasprintf("TLSA lookup %.280s: %.300s", a->qname, a->why ? a->why : "failed"));
	} else if (a->status == DNS_DATA && a->sec == DNS_SEC_SECURE) {
		tlsa_found(e, i, k, a);
	} else if (k + 1 < e->host_work[i].ncand) {
		tlsa_lookup(e, i, k + 1);
	} else {
		h->tlsa_state = POLICY_TLSA_NONE;
		host_set(e, i, POLICY_HOST_OPPORTUNISTIC, POLICY_R_NO_TLSA,
		    xstrdup("no secure TLSA records"));
	}
	dns_answer_free(a);
}

/* ------------------------------------------------------------ addresses */

static void
addr_collect(struct policy_host *h, const struct dns_answer *a)
{
	char text[INET6_ADDRSTRLEN];

	for (size_t j = 0; j < a->count; j++) {
		if (dns_answer_addr(a, j, text, sizeof(text)) < 0)
			continue; /* malformed address RDATA: skipped */
		h->addrs = xreallocarray(h->addrs, h->naddrs + 1, sizeof(*h->addrs));
		h->addrs[h->naddrs++] = xstrdup(text);
	}
}

/* Both families answered: classify the host's addresses. */
static void
addr_classify(struct policy_engine *e, int i)
{
	struct policy_host *h = &e->d->hosts[i];
	struct eng_host *w = &e->host_work[i];
	const struct dns_answer *failed = NULL, *bogus = NULL;
	int ndata = 0, insecure = 0, nxdomain = 0, answered = 0;

	for (int f = 0; f < 2; f++) {
		const struct dns_answer *a = w->addr[f];

		if (a == NULL)
			continue;
		answered++;
		nxdomain += a->status == DNS_NXDOMAIN;
		if (a->sec == DNS_SEC_BOGUS)
			bogus = a;
		else if (a->status == DNS_FAIL || a->status == DNS_TIMEOUT)
			failed = failed ? failed : a;
		else if (a->sec == DNS_SEC_INSECURE)
			insecure = 1;
		if (a->status == DNS_DATA) {
			ndata++;
			addr_collect(h, a);
		}
		if (a->canonname && h->canonname == NULL && !bogus)
			h->canonname = xstrdup(a->canonname);
	}
	if (bogus) {
		h->addr_status = DNS_FAIL;
		h->addr_sec = DNS_SEC_BOGUS;
		host_set(e, i, POLICY_HOST_UNUSABLE, POLICY_R_ADDRESS_BOGUS,
		    xasprintf("address lookup %.255s: %.300s", bogus->qname,
			bogus->why ? bogus->why : "DNSSEC validation failed"));
		return;
	}
	if (h->naddrs == 0) {
		/* the name exists unless every family said NXDOMAIN */
		h->addr_status = failed	   ? failed->status
		    : nxdomain == answered ? DNS_NXDOMAIN
					   : DNS_NODATA;
		h->addr_sec = failed ? DNS_SEC_INDETERMINATE
		    : insecure	     ? DNS_SEC_INSECURE
				     : DNS_SEC_SECURE;
		if (failed)
			host_set(e, i, POLICY_HOST_UNUSABLE,
			    fail_reason(failed, POLICY_R_ADDRESS_LOOKUP_FAILED),
			    xasprintf("address lookup %.255s: %.300s", failed->qname,
				failed->why ? failed->why : "failed"));
		else
			host_set(e, i, POLICY_HOST_UNUSABLE, POLICY_R_NO_ADDRESS,
			    xasprintf("%.255s has no address", h->name));
		return;
	}
	h->addr_status = DNS_DATA;
	h->addr_sec = insecure ? DNS_SEC_INSECURE : DNS_SEC_SECURE;
	if (insecure && h->canonname) {
		/* Is the first hop of the alias chain secure? */
		policy_hosts_enqueue(e, h->name, DNS_T_CNAME, ENG_Q_CNAME, i, 0);
	} else if (insecure) {
		host_set(e, i, POLICY_HOST_OPPORTUNISTIC, POLICY_R_ADDRESS_INSECURE,
		    xstrdup("address records insecure: no TLSA lookup"));
	} else {
		if (h->canonname)
			w->cand[w->ncand++] = xstrdup(h->canonname);
		w->cand[w->ncand++] = xstrdup(h->name);
		tlsa_lookup(e, i, 0);
	}
}

static void
cname_answer(struct policy_engine *e, int i, struct dns_answer *a)
{
	struct eng_host *w = &e->host_work[i];

	policy_hosts_note_ttl(e, a);
	if (a->status == DNS_FAIL || a->status == DNS_TIMEOUT) {
		host_set(e, i, POLICY_HOST_UNUSABLE, fail_reason(a, POLICY_R_ADDRESS_LOOKUP_FAILED),
		    xasprintf("CNAME lookup %.255s: %.300s", a->qname, a->why ? a->why : "failed"));
	} else if (a->status == DNS_DATA && a->sec == DNS_SEC_SECURE) {
		/* Secure first CNAME, insecure target: the original name only. */
		w->cand[w->ncand++] = xstrdup(e->d->hosts[i].name);
		tlsa_lookup(e, i, 0);
	} else {
		host_set(e, i, POLICY_HOST_OPPORTUNISTIC, POLICY_R_ADDRESS_INSECURE,
		    xstrdup("insecure alias chain: no TLSA lookup"));
	}
	dns_answer_free(a);
}

/* ------------------------------------------------------------ stage API */

void
policy_hosts_start(struct policy_engine *e)
{
	struct policy_decision *d = e->d;
	char name[DNSNAME_MAX + 32];

	e->host_work = xcalloc(d->nhosts ? d->nhosts : 1, sizeof(*e->host_work));
	e->nhost_work = d->nhosts;
	for (size_t i = 0; i < d->nhosts; i++) {
		d->hosts[i].addr_queried = 1;
		if (e->in.want_ipv4) {
			policy_hosts_enqueue(e, d->hosts[i].name, DNS_T_A, ENG_Q_ADDR, (int)i, 0);
			e->host_work[i].addr_asked++;
		}
		if (e->in.want_ipv6) {
			policy_hosts_enqueue(e, d->hosts[i].name, DNS_T_AAAA, ENG_Q_ADDR, (int)i,
			    1);
			e->host_work[i].addr_asked++;
		}
		e->host_work[i].pre_wait = -1;
		if (e->in.tlsa_prefetch && e->host_work[i].addr_asked &&
		    tlsa_name(e, d->hosts[i].name, name) == 0) {
			policy_hosts_enqueue(e, name, DNS_T_TLSA, ENG_Q_TLSA, (int)i,
			    ENG_CAND_PREFETCH);
			e->host_work[i].pre_state = PRE_ASKED;
		}
	}
}

void
policy_hosts_answer(struct policy_engine *e, const struct eng_query *q, struct dns_answer *a)
{
	struct eng_host *w;

	if (e->host_work == NULL || q->host < 0 || (size_t)q->host >= e->d->nhosts ||
	    e->host_work[q->host].finished) {
		dns_answer_free(a);
		return;
	}
	w = &e->host_work[q->host];
	switch (q->kind) {
	case ENG_Q_ADDR:
		policy_hosts_note_ttl(e, a);
		dns_answer_free(w->addr[q->cand]);
		w->addr[q->cand] = a;
		if (++w->addr_answered == w->addr_asked)
			addr_classify(e, q->host);
		break;
	case ENG_Q_CNAME:
		cname_answer(e, q->host, a);
		break;
	case ENG_Q_TLSA:
		if (q->cand == ENG_CAND_PREFETCH)
			tlsa_prefetched(e, q->host, a);
		else
			tlsa_answer(e, q->host, q->cand, a);
		break;
	default:
		dns_answer_free(a);
	}
}

void
policy_hosts_free(struct policy_engine *e)
{
	for (size_t i = 0; i < e->nhost_work; i++) {
		dns_answer_free(e->host_work[i].addr[0]);
		dns_answer_free(e->host_work[i].addr[1]);
		free(e->host_work[i].cand[0]);
		free(e->host_work[i].cand[1]);
		dns_answer_free(e->host_work[i].pre);
	}
	free(e->host_work);
	e->host_work = NULL;
	e->nhost_work = 0;
}

/* ------------------------------------------------------------ aggregation */

/*
 * Order in which host reasons explain a defer: signs of attack or
 * breakage first, then transient failures, then local policy, then the
 * plain absence of addresses.
 */
static const enum policy_reason defer_rank[] = {
	POLICY_R_TLSA_LOOKUP_FAILED,
	POLICY_R_ADDRESS_BOGUS,
	POLICY_R_DNS_TIMEOUT,
	POLICY_R_ADDRESS_LOOKUP_FAILED,
	POLICY_R_TLSA_UNUSABLE,
	POLICY_R_DANE_REQUIRED,
	POLICY_R_NO_ADDRESS,
};

static void
hosts_defer(struct policy_engine *e)
{
	struct policy_decision *d = e->d;

	for (size_t r = 0; r < sizeof(defer_rank) / sizeof(defer_rank[0]); r++) {
		for (size_t i = 0; i < d->nhosts; i++) {
			if (d->hosts[i].reason != defer_rank[r])
				continue;
			policy_hosts_finish(e, POLICY_DEFER, e->in.level, defer_rank[r],
			    xasprintf("no usable MX host; %.255s: %.400s", d->hosts[i].name,
				d->hosts[i].why ? d->hosts[i].why : "unusable"));
			return;
		}
	}
	policy_hosts_finish(e, POLICY_DEFER, e->in.level, POLICY_R_INTERNAL_ERROR,
	    xstrdup("no usable MX host"));
}

/* dane-only: hosts without usable TLSA must not be used. */
static void
hosts_mandatory(struct policy_engine *e)
{
	struct policy_decision *d = e->d;

	for (size_t i = 0; i < d->nhosts; i++) {
		struct policy_host *h = &d->hosts[i];
		const char *what;

		if (h->state == POLICY_HOST_TLS) {
			h->reason = POLICY_R_TLSA_UNUSABLE;
			what = "every TLSA record is unusable";
		} else if (h->state == POLICY_HOST_OPPORTUNISTIC) {
			h->reason = POLICY_R_DANE_REQUIRED;
			what = "no DANE";
		} else
			continue;
		h->state = POLICY_HOST_UNUSABLE;
		free(h->why);
		h->why = xasprintf("local policy dane-only: %s", what);
	}
}

static void
hosts_aggregate(struct policy_engine *e)
{
	struct policy_decision *d = e->d;
	size_t usable = 0, ndane = 0, ntls = 0, naddr_insecure = 0;
	enum tls_level lvl, opp;

	for (size_t i = 0; i < e->nhost_work; i++)
		if (!e->host_work[i].finished)
			return;
	if (e->in.level == TLS_LEVEL_DANE_ONLY)
		hosts_mandatory(e);
	for (size_t i = 0; i < d->nhosts; i++) {
		enum policy_host_state st = d->hosts[i].state;

		usable += st != POLICY_HOST_UNUSABLE;
		ndane += st == POLICY_HOST_DANE;
		ntls += st == POLICY_HOST_TLS;
		naddr_insecure += st == POLICY_HOST_OPPORTUNISTIC &&
		    d->hosts[i].reason == POLICY_R_ADDRESS_INSECURE;
	}
	if (usable == 0) {
		hosts_defer(e);
		return;
	}
	lvl = e->in.level == TLS_LEVEL_DANE_ONLY ? TLS_LEVEL_DANE_ONLY : TLS_LEVEL_DANE;
	/*
	 * "may" would let the MTA use every host, in cleartext too; with an
	 * unusable host (e.g. its TLSA lookup failed) the MTA must stay at
	 * "dane" so that its own validated lookups keep it off that host.
	 */
	opp = usable < d->nhosts ? lvl : TLS_LEVEL_MAY;
	if (ndane == usable)
		policy_hosts_finish(e, POLICY_REQUIRE, lvl, POLICY_R_DANE,
		    xasprintf("all %zu usable MX host(s) have usable TLSA records", usable));
	else if (ndane > 0)
		policy_hosts_finish(e, POLICY_TRY, lvl, POLICY_R_DANE_PARTIAL,
		    xasprintf("%zu of %zu usable MX hosts have usable TLSA records; "
			      "the others are opportunistic",
			ndane, usable));
	else if (ntls > 0)
		policy_hosts_finish(e, POLICY_TRY, lvl, POLICY_R_UNAUTH_TLS,
		    xstrdup("TLSA records published but none usable: TLS required "
			    "without authentication"));
	else if (d->mx_sec == DNS_SEC_INSECURE)
		policy_hosts_finish(e, POLICY_TRY, opp, POLICY_R_MX_INSECURE,
		    xasprintf("the MX records of %.255s are not DNSSEC-signed, no host has TLSA",
			e->domain));
	else if (naddr_insecure == usable)
		policy_hosts_finish(e, POLICY_TRY, opp, POLICY_R_ADDRESS_INSECURE,
		    xstrdup("the MX host addresses are not DNSSEC-signed"));
	else
		policy_hosts_finish(e, POLICY_TRY, opp, POLICY_R_NO_TLSA,
		    xstrdup("no MX host publishes secure TLSA records"));
}
