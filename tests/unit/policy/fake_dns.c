/*
 * fake_dns.c - canned DNS answers and an engine driver for unit tests
 * (contract in fake_dns.h).
 *
 * Nothing here validates what a test asks for: hostile RDATA, impossible
 * status/security pairs and over-long names are the point. Allocation goes
 * through lib/mem.h (abort on exhaustion), like the code under test.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake_dns.h"
#include "mem.h"

#define FAKE_MAX_STEPS	100000	/* answers before a run counts as runaway */

struct fake_entry {
	char *name;
	uint16_t type;
	enum dns_status status;
	enum dns_sec sec;
	char *why;
	char *canon;
	uint32_t ttl;
	struct dns_rdata *rr;
	size_t count;
};

/* The query log is behind a pointer so that a const zone can record runs. */
struct fake_log {
	struct fake_query *q;
	size_t n, cap;
};

struct fake_zone {
	struct fake_entry **e;		/* pointers: entries never move */
	size_t n;
	enum dns_status dflt_status;
	enum dns_sec dflt_sec;
	enum fake_order order;
	unsigned seed;
	uint32_t ttl;
	struct fake_log *log;
};

/* ------------------------------------------------------------ names */

/* Equal ignoring case and one trailing dot on either side. */
static int
name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

size_t
fake_wire_name(const char *name, uint8_t *out, size_t cap)
{
	size_t n = 0;
	const char *p = name;

	while (*p != 0) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63 || n + 1 + l >= cap)
			return 0;
		out[n++] = (uint8_t)l;
		memcpy(out + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	if (n + 1 > cap)
		return 0;
	out[n++] = 0;
	return n;
}

/* ------------------------------------------------------------ zone */

struct fake_zone *
fake_zone_new(void)
{
	struct fake_zone *z = xcalloc(1, sizeof(*z));

	z->dflt_status = DNS_NXDOMAIN;
	z->dflt_sec = DNS_SEC_SECURE;
	z->order = FAKE_FIFO;
	z->ttl = 3600;
	z->log = xcalloc(1, sizeof(*z->log));
	return z;
}

static void
log_reset(struct fake_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->q[i].name);
	l->n = 0;
}

static void
entry_free(struct fake_entry *e)
{
	fake_clear_rrs(e);
	free(e->rr);
	free(e->name);
	free(e->why);
	free(e->canon);
	free(e);
}

void
fake_zone_free(struct fake_zone *z)
{
	if (z == NULL)
		return;
	for (size_t i = 0; i < z->n; i++)
		entry_free(z->e[i]);
	free(z->e);
	log_reset(z->log);
	free(z->log->q);
	free(z->log);
	free(z);
}

void
fake_zone_default(struct fake_zone *z, enum dns_status st, enum dns_sec sec)
{
	z->dflt_status = st;
	z->dflt_sec = sec;
}

void
fake_zone_order(struct fake_zone *z, enum fake_order o, unsigned seed)
{
	z->order = o;
	z->seed = seed ? seed : 1;
}

void
fake_zone_ttl(struct fake_zone *z, uint32_t ttl)
{
	z->ttl = ttl;
}

static struct fake_entry *
entry_find(const struct fake_zone *z, const char *name, uint16_t type)
{
	for (size_t i = 0; i < z->n; i++)
		if (z->e[i]->type == type && name_eq(z->e[i]->name, name))
			return z->e[i];
	return NULL;
}

struct fake_entry *
fake_entry(struct fake_zone *z, const char *name, uint16_t type)
{
	struct fake_entry *e = entry_find(z, name, type);

	if (e != NULL)
		return e;
	e = xcalloc(1, sizeof(*e));
	e->name = xstrdup(name);
	e->type = type;
	e->status = DNS_NODATA;
	e->sec = DNS_SEC_SECURE;
	e->ttl = z->ttl;
	z->e = xreallocarray(z->e, z->n + 1, sizeof(*z->e));
	z->e[z->n++] = e;
	return e;
}

struct fake_entry *
fake_set_status(struct fake_entry *e, enum dns_status st)
{
	e->status = st;
	return e;
}

struct fake_entry *
fake_set_sec(struct fake_entry *e, enum dns_sec sec)
{
	e->sec = sec;
	return e;
}

struct fake_entry *
fake_set_why(struct fake_entry *e, const char *why)
{
	free(e->why);
	e->why = xstrdup_null(why);
	return e;
}

struct fake_entry *
fake_set_canon(struct fake_entry *e, const char *canonname)
{
	free(e->canon);
	e->canon = xstrdup_null(canonname);
	return e;
}

struct fake_entry *
fake_set_ttl(struct fake_entry *e, uint32_t ttl)
{
	e->ttl = ttl;
	return e;
}

struct fake_entry *
fake_clear_rrs(struct fake_entry *e)
{
	for (size_t i = 0; i < e->count; i++)
		free(e->rr[i].data);
	e->count = 0;
	return e;
}

struct fake_entry *
fake_answer_with(struct fake_zone *z, const char *name, uint16_t type,
    enum dns_status st, enum dns_sec sec)
{
	struct fake_entry *e = fake_entry(z, name, type);

	e->status = st;
	e->sec = sec;
	if (sec == DNS_SEC_BOGUS)
		fake_set_why(e, "bogus: test signature expired");
	else if (st == DNS_FAIL)
		fake_set_why(e, "lookup failed (rcode 2, SERVFAIL)");
	else if (st == DNS_TIMEOUT)
		fake_set_why(e, "no answer before the decision deadline");
	return e;
}

struct fake_entry *
fake_add_raw(struct fake_zone *z, const char *name, uint16_t type, const void *rdata, size_t len)
{
	struct fake_entry *e = fake_entry(z, name, type);

	e->rr = xreallocarray(e->rr, e->count + 1, sizeof(*e->rr));
	e->rr[e->count].data = xmemdup(len ? rdata : "", len ? len : 1);
	e->rr[e->count].len = len;
	e->count++;
	e->status = DNS_DATA;
	return e;
}

struct fake_entry *
fake_add_mx(struct fake_zone *z, const char *name, unsigned pref, const char *exchange)
{
	uint8_t rd[2 + 300];
	size_t n = fake_wire_name(exchange, rd + 2, sizeof(rd) - 2);

	if (n == 0)
		abort();	/* test bug: unencodable exchange */
	rd[0] = (uint8_t)(pref >> 8);
	rd[1] = (uint8_t)pref;
	return fake_add_raw(z, name, DNS_T_MX, rd, n + 2);
}

struct fake_entry *
fake_add_a(struct fake_zone *z, const char *name, const char *addr)
{
	uint8_t b[4];

	if (inet_pton(AF_INET, addr, b) != 1)
		abort();
	return fake_add_raw(z, name, DNS_T_A, b, sizeof(b));
}

struct fake_entry *
fake_add_aaaa(struct fake_zone *z, const char *name, const char *addr)
{
	uint8_t b[16];

	if (inet_pton(AF_INET6, addr, b) != 1)
		abort();
	return fake_add_raw(z, name, DNS_T_AAAA, b, sizeof(b));
}

struct fake_entry *
fake_add_tlsa(struct fake_zone *z, const char *name, uint8_t usage, uint8_t selector,
    uint8_t mtype, const uint8_t *data, size_t len)
{
	uint8_t *rd = xmalloc(3 + len);
	struct fake_entry *e;

	rd[0] = usage;
	rd[1] = selector;
	rd[2] = mtype;
	if (data)
		memcpy(rd + 3, data, len);
	else
		memset(rd + 3, 0xab, len);
	e = fake_add_raw(z, name, DNS_T_TLSA, rd, 3 + len);
	free(rd);
	return e;
}

struct fake_entry *
fake_add_cname(struct fake_zone *z, const char *name, const char *target)
{
	uint8_t rd[300];
	size_t n = fake_wire_name(target, rd, sizeof(rd));

	if (n == 0)
		abort();
	return fake_add_raw(z, name, DNS_T_CNAME, rd, n);
}

struct dns_answer *
fake_answer(const struct fake_zone *z, const char *name, uint16_t type)
{
	const struct fake_entry *e = entry_find(z, name, type);
	struct dns_answer *a = xcalloc(1, sizeof(*a));

	a->qname = xstrdup(name);
	a->qtype = type;
	a->elapsed_ms = 1;
	if (e == NULL) {
		a->status = z->dflt_status;
		a->sec = z->dflt_sec;
		a->ttl = z->ttl;
	} else {
		a->status = e->status;
		a->sec = e->sec;
		a->why = xstrdup_null(e->why);
		a->canonname = xstrdup_null(e->canon);
		a->ttl = e->ttl;
	}
	switch (a->status) {
	case DNS_FAIL:
		a->rcode = a->sec == DNS_SEC_BOGUS ? 0 : 2;
		a->ttl = 0;
		break;
	case DNS_TIMEOUT:
		a->ttl = 0;
		break;
	case DNS_NXDOMAIN:
		a->rcode = 3;
		break;
	default:
		break;
	}
	if (a->status == DNS_DATA && e != NULL && e->count > 0) {
		a->rr = xcalloc(e->count, sizeof(*a->rr));
		for (size_t i = 0; i < e->count; i++) {
			a->rr[i].data = xmemdup(e->rr[i].data, e->rr[i].len ? e->rr[i].len : 1);
			a->rr[i].len = e->rr[i].len;
		}
		a->count = e->count;
	}
	return a;
}

/* ------------------------------------------------------------ driver */

static size_t
log_add(struct fake_log *l, const struct policy_query *q, unsigned step)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->q = xreallocarray(l->q, l->cap, sizeof(*l->q));
	}
	l->q[l->n].name = xstrdup(q->name);
	l->q[l->n].type = q->type;
	l->q[l->n].tag = q->tag;
	l->q[l->n].asked_step = (int)step;
	l->q[l->n].answered_at = -1;
	return l->n++;
}

/* Pick which pending entry to answer next; returns its index in pend[]. */
static size_t
pick(const struct fake_zone *z, size_t npend, unsigned step, unsigned *rng)
{
	switch (z->order) {
	case FAKE_LIFO:
		return npend - 1;
	case FAKE_INTERLEAVED:
		return step % 2 ? npend - 1 : 0;
	case FAKE_SHUFFLE:
		*rng ^= *rng << 13;
		*rng ^= *rng >> 17;
		*rng ^= *rng << 5;
		return *rng % npend;
	case FAKE_FIFO:
	default:
		return 0;
	}
}

int
fake_run(const struct fake_zone *z, const struct policy_input *in,
    struct policy_decision **out, unsigned *nqueries)
{
	struct fake_log *l = z->log;
	struct policy_engine *e;
	struct policy_query q;
	size_t *pend = NULL, npend = 0, cap = 0;
	unsigned step = 0, rng = z->seed ? z->seed : 1;
	int rc = FAKE_OK;

	log_reset(l);
	*out = NULL;
	e = policy_engine_new(in);
	for (;;) {
		while (policy_engine_next_query(e, &q)) {
			if (npend == cap) {
				cap = cap ? cap * 2 : 16;
				pend = xreallocarray(pend, cap, sizeof(*pend));
			}
			pend[npend++] = log_add(l, &q, step);
		}
		if (policy_engine_done(e))
			break;
		if (npend == 0) {
			rc = FAKE_STALL;
			break;
		}
		if (step >= FAKE_MAX_STEPS) {
			rc = FAKE_STALL;
			break;
		}
		size_t k = pick(z, npend, step, &rng);
		size_t idx = pend[k];

		memmove(pend + k, pend + k + 1, (npend - k - 1) * sizeof(*pend));
		npend--;
		l->q[idx].answered_at = (int)step++;
		policy_engine_answer(e, l->q[idx].tag, fake_answer(z, l->q[idx].name, l->q[idx].type));
	}
	/* Whatever is still pending arrives late: the engine must drop (and free) it. */
	for (size_t k = 0; k < npend; k++) {
		size_t idx = pend[k];

		policy_engine_answer(e, l->q[idx].tag, fake_answer(z, l->q[idx].name, l->q[idx].type));
	}
	free(pend);
	if (rc == FAKE_OK) {
		*out = policy_engine_result(e);
		if (*out == NULL)
			rc = FAKE_NORESULT;
	}
	if (nqueries)
		*nqueries = (unsigned)l->n;
	policy_engine_free(e);
	return rc;
}

/* ------------------------------------------------------------ log queries */

size_t
fake_nasked(const struct fake_zone *z)
{
	return z->log->n;
}

const struct fake_query *
fake_query_at(const struct fake_zone *z, size_t i)
{
	return i < z->log->n ? &z->log->q[i] : NULL;
}

static int
q_match(const struct fake_query *q, const char *name, uint16_t type)
{
	return (type == 0 || q->type == type) && (name == NULL || name_eq(q->name, name));
}

unsigned
fake_asked(const struct fake_zone *z, const char *name, uint16_t type)
{
	unsigned n = 0;

	for (size_t i = 0; i < z->log->n; i++)
		n += q_match(&z->log->q[i], name, type);
	return n;
}

int
fake_first_asked(const struct fake_zone *z, const char *name, uint16_t type)
{
	for (size_t i = 0; i < z->log->n; i++)
		if (q_match(&z->log->q[i], name, type))
			return (int)i;
	return -1;
}

int
fake_last_asked_type(const struct fake_zone *z, uint16_t type)
{
	int last = -1;

	for (size_t i = 0; i < z->log->n; i++)
		if (z->log->q[i].type == type)
			last = (int)i;
	return last;
}

int
fake_answered_at(const struct fake_zone *z, const char *name, uint16_t type)
{
	for (size_t i = 0; i < z->log->n; i++)
		if (q_match(&z->log->q[i], name, type))
			return z->log->q[i].answered_at;
	return -1;
}

const struct policy_host *
fake_host(const struct policy_decision *d, const char *name)
{
	for (size_t i = 0; i < d->nhosts; i++)
		if (name_eq(d->hosts[i].name, name))
			return &d->hosts[i];
	return NULL;
}
