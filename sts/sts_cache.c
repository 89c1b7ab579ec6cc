/*
 * sts_cache.c - MTA-STS policy cache (contract in sts_cache.h).
 *
 * A chained hash table (lib/hash, seeded) of entries, one per domain
 * asked about, holding the policy (when one was fetched) and the last
 * failed fetch. Bounded: at STS_CACHE_MAX entries, inserting drops the
 * entries without a policy of the new one's bucket, or when there are
 * none the whole bucket (the store still has their policies).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "hash.h"
#include "log.h"
#include "mem.h"
#include "outcome.h"
#include "store.h"
#include "sts_cache.h"
#include "stspol.h"
#include "sts_txt.h"

#define BUCKETS	    1024
#define MAX_THREADS 4

/* a queued background refresh */
struct job {
	char *domain;
	char id[STS_ID_MAX + 1];
	char **addrs;
	size_t naddrs;
	struct job *next;
};

/* a kept policy waiting to be published to the shared store */
struct pub {
	struct stspol_row r;
	struct pub *next;
};

struct entry {
	char *domain;
	int have;
	struct sts_policy p;
	char id[STS_ID_MAX + 1];
	int64_t fetched, expires;
	char fail_id[STS_ID_MAX + 1];
	int64_t fail_at;
	struct entry *next;
};

struct sts_cache {
	pthread_mutex_t lock;
	struct store *st;
	struct sts_fetch_opts fo; /* fo.ca_file is ca_file */
	char *ca_file;		  /* owned copy, or NULL */
	sts_cache_fetch_fn on_fetch; /* or NULL */
	void *on_fetch_arg;
	uint64_t seed;
	size_t n;
	struct entry *b[BUCKETS];
	/* sharing with other relays (sts_cache_share) */
	sts_cache_shared_fn shared;
	void *shared_arg;
	unsigned lease_s;
	struct pub *pub; /* policies to publish, newest first */
	size_t npub;
	unsigned long taken;
	/* background refreshes (sts_cache_background) */
	pthread_cond_t work, idle;
	struct job *head, *tail;
	size_t njobs;
	unsigned nthreads, running;
	int stopping;
	pthread_t tid[MAX_THREADS];
};

struct sts_cache *
sts_cache_new(struct store *st, const struct sts_fetch_opts *fo)
{
	struct sts_cache *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->work, NULL);
	pthread_cond_init(&c->idle, NULL);
	c->st = st;
	c->seed = hash_seed(c);
	sts_cache_set_opts(c, fo);
	return c;
}

void
sts_cache_on_fetch(struct sts_cache *c, sts_cache_fetch_fn fn, void *arg)
{
	pthread_mutex_lock(&c->lock);
	c->on_fetch = fn;
	c->on_fetch_arg = arg;
	pthread_mutex_unlock(&c->lock);
}

void
sts_cache_set_opts(struct sts_cache *c, const struct sts_fetch_opts *fo)
{
	char *ca = fo->ca_file ? xstrdup(fo->ca_file) : NULL;

	pthread_mutex_lock(&c->lock);
	free(c->ca_file);
	c->ca_file = ca;
	c->fo = *fo;
	c->fo.ca_file = ca;
	c->fo.addrs = NULL;
	c->fo.naddrs = 0;
	pthread_mutex_unlock(&c->lock);
}

static void
entry_free(struct entry *e)
{
	sts_policy_clear(&e->p);
	free(e->domain);
	free(e);
}

static void
job_free(struct job *j)
{
	for (size_t i = 0; i < j->naddrs; i++)
		free(j->addrs[i]);
	free(j->addrs);
	free(j->domain);
	free(j);
}

void
sts_cache_free(struct sts_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = 1;
	pthread_cond_broadcast(&c->work);
	pthread_mutex_unlock(&c->lock);
	for (unsigned i = 0; i < c->nthreads; i++)
		pthread_join(c->tid[i], NULL);
	while (c->head != NULL) {
		struct job *j = c->head;

		c->head = j->next;
		job_free(j);
	}
	while (c->pub != NULL) {
		struct pub *q = c->pub;

		c->pub = q->next;
		stspol_row_clear(&q->r);
		free(q);
	}
	pthread_cond_destroy(&c->work);
	pthread_cond_destroy(&c->idle);
	for (size_t i = 0; i < BUCKETS; i++)
		while (c->b[i] != NULL) {
			struct entry *e = c->b[i];

			c->b[i] = e->next;
			entry_free(e);
		}
	pthread_mutex_destroy(&c->lock);
	free(c->ca_file);
	free(c);
}

/* the policy of a store row, checked by the parser; 0 or -1 (logged, *p zeroed) */
static int
row_policy(const struct stspol_row *r, struct sts_policy *p)
{
	struct buf t;
	char *err = NULL, *mx = xstrdup(r->mx), *save = NULL;
	int rc;

	buf_init(&t);
	buf_printf(&t, "version: STSv1\nmode: %s\nmax_age: %lld\n", r->mode, (long long)r->max_age);
	for (char *m = strtok_r(mx, " ", &save); m; m = strtok_r(NULL, " ", &save))
		buf_printf(&t, "mx: %s\n", m);
	rc = sts_policy_parse(t.s, t.len, p, &err);
	if (rc < 0 || strlen(r->id) > STS_ID_MAX || r->expires < r->fetched) {
		msg_warn("sts: the stored policy of %s is not valid, ignored: %s", r->domain,
		    err ? err : "bad id or times");
		sts_policy_clear(p);
		rc = -1;
	}
	free(err);
	free(mx);
	buf_free(&t);
	return rc;
}

/* an entry from a store row; 0 or -1 (logged) */
static int
from_row(const struct stspol_row *r, struct entry *e)
{
	int rc = row_policy(r, &e->p);

	if (rc == 0) {
		e->have = 1;
		snprintf(e->id, sizeof(e->id), "%s", r->id);
		e->fetched = r->fetched;
		e->expires = r->expires;
	}
	return rc;
}

int
sts_cache_stored(struct store *st, const char *domain, int64_t at, struct sts_policy *p)
{
	struct stspol_row r;
	char *err = NULL;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = stspol_get(st, domain, &r, &err);
	if (rc < 0)
		msg_warn("sts: reading the stored policy of %s: %s", domain, err);
	else if (rc == 1)
		rc = at < r.expires && row_policy(&r, p) == 0 ? 1 : 0;
	if (rc == 1 && p->mode == STS_MODE_NONE) {
		sts_policy_clear(p);
		rc = 0;
	}
	stspol_row_clear(&r);
	free(err);
	return rc;
}

/*
 * At the bound: drop bucket h's entries that hold no policy (domains asked
 * about without one); when none did, the whole bucket (what it held stays
 * in the store). Lock held.
 */
static void
make_room(struct sts_cache *c, uint32_t h)
{
	struct entry **pp = &c->b[h], *e;
	size_t had = c->n;

	while ((e = *pp) != NULL) {
		if (!e->have) {
			*pp = e->next;
			entry_free(e);
			c->n--;
		} else {
			pp = &e->next;
		}
	}
	if (c->n != had)
		return;
	while ((e = c->b[h]) != NULL) {
		c->b[h] = e->next;
		entry_free(e);
		c->n--;
	}
}

/* the entry of domain, made (from the store, when it has one) if absent; lock held */
static struct entry *
entry_get(struct sts_cache *c, const char *domain)
{
	uint32_t h = hash_string(c->seed, domain, NULL) % BUCKETS;
	struct stspol_row r;
	struct entry *e;
	char *err = NULL;

	for (e = c->b[h]; e != NULL; e = e->next)
		if (strcmp(e->domain, domain) == 0)
			return e;
	if (c->n >= STS_CACHE_MAX)
		make_room(c, h);
	e = xcalloc(1, sizeof(*e));
	e->domain = xstrdup(domain);
	if (c->st != NULL) {
		int rc = stspol_get(c->st, domain, &r, &err);

		if (rc < 0)
			msg_warn("sts: reading the stored policy of %s: %s", domain, err);
		else if (rc == 1)
			(void)from_row(&r, e);
		stspol_row_clear(&r);
		free(err);
	}
	e->next = c->b[h];
	c->b[h] = e;
	c->n++;
	return e;
}

void
sts_cache_lookup(struct sts_cache *c, const char *domain, const char *txt_id, int64_t now,
    struct sts_policy *policy, struct sts_cache_state *state)
{
	struct entry *e;
	int backoff;

	memset(state, 0, sizeof(*state));
	memset(policy, 0, sizeof(*policy));
	pthread_mutex_lock(&c->lock);
	e = entry_get(c, domain);
	if (e->have && now < e->expires) {
		state->have = 1;
		sts_policy_copy(policy, &e->p);
		state->fetched = e->fetched;
		state->expires = e->expires;
		snprintf(state->id, sizeof(state->id), "%s", e->id);
	}
	backoff = txt_id != NULL && e->fail_at != 0 && strcmp(e->fail_id, txt_id) == 0 &&
		  now - e->fail_at < STS_CACHE_RETRY_S;
	state->want_fetch = txt_id != NULL && !backoff &&
			    (!state->have || strcmp(e->id, txt_id) != 0 ||
				e->expires - now < STS_CACHE_REFRESH_S);
	pthread_mutex_unlock(&c->lock);
}

/* queue a copy of r for the shared store (sts_cache_share); lock held */
static void
publish(struct sts_cache *c, const struct stspol_row *r)
{
	struct pub *q;

	if (c->shared == NULL || c->nthreads == 0)
		return;
	if (c->npub >= STS_CACHE_QUEUE_MAX) {
		msg_warn("sts: %zu policies wait for the shared store: the policy of %s is not "
			 "shared",
		    c->npub, r->domain);
		return;
	}
	q = xcalloc(1, sizeof(*q));
	q->r = *r;
	q->r.domain = xstrdup(r->domain);
	q->r.id = xstrdup(r->id);
	q->r.mode = xstrdup(r->mode);
	q->r.mx = xstrdup(r->mx);
	q->next = c->pub;
	c->pub = q;
	c->npub++;
	pthread_cond_signal(&c->work);
}

/* keep a fetched policy: memory, then the store; lock held */
static void
keep(struct sts_cache *c, struct entry *e, struct sts_policy *p, const char *id, int64_t now)
{
	struct stspol_row r;
	struct buf mx;
	char *err = NULL;

	sts_policy_clear(&e->p);
	e->p = *p;
	memset(p, 0, sizeof(*p));
	e->have = 1;
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->fetched = now;
	e->expires = now + (int64_t)e->p.max_age;
	e->fail_at = 0;
	if (c->st == NULL && c->shared == NULL)
		return;
	buf_init(&mx);
	for (size_t i = 0; i < e->p.nmx; i++)
		buf_printf(&mx, "%s%s", i ? " " : "", e->p.mx[i]);
	r.domain = e->domain;
	r.id = e->id;
	r.mode = (char *)sts_policy_mode_name(e->p.mode);
	r.max_age = e->p.max_age;
	r.mx = mx.s;
	r.fetched = e->fetched;
	r.expires = e->expires;
	if (c->st != NULL && stspol_put(c->st, &r, &err) < 0)
		msg_warn("sts: the policy of %s is applied but not stored: %s", e->domain, err);
	publish(c, &r);
	free(err);
	buf_free(&mx);
}

enum sts_fetch_status
sts_cache_refresh(struct sts_cache *c, const char *domain, const char *txt_id,
    const char *const *addrs, size_t naddrs, unsigned timeout_ms, int64_t now, char **err)
{
	struct sts_fetch_opts fo;
	struct sts_policy p;
	char *why = NULL, *ca;
	enum sts_fetch_status st;
	struct entry *e;

	pthread_mutex_lock(&c->lock);
	fo = c->fo;
	ca = fo.ca_file ? xstrdup(fo.ca_file) : NULL; /* a reload may replace it */
	pthread_mutex_unlock(&c->lock);
	fo.ca_file = ca;
	fo.addrs = addrs;
	fo.naddrs = naddrs;
	if (timeout_ms != 0)
		fo.timeout_ms = timeout_ms;
	st = sts_fetch(domain, &fo, &p, &why);
	if (c->on_fetch != NULL)
		c->on_fetch(c->on_fetch_arg, domain, txt_id, st, st == STS_FETCH_OK ? &p : NULL, why);
	pthread_mutex_lock(&c->lock);
	e = entry_get(c, domain);
	if (st == STS_FETCH_OK) {
		keep(c, e, &p, txt_id ? txt_id : "", now);
	} else {
		snprintf(e->fail_id, sizeof(e->fail_id), "%s", txt_id ? txt_id : "");
		e->fail_at = now ? now : 1;
	}
	pthread_mutex_unlock(&c->lock);
	free(ca);
	if (err != NULL)
		*err = why;
	else
		free(why);
	return st;
}

int
sts_cache_outcome(struct store *st, struct tls_outcome *o)
{
	struct sts_policy p;

	if (o->policy_domain == NULL || sts_cache_stored(st, o->policy_domain, o->time, &p) != 1)
		return 0;
	o->policy_type = OUTCOME_POLICY_STS;
	o->npolicy_strings = sts_policy_strings(&p, &o->policy_strings);
	sts_policy_clear(&p);
	return 1;
}

/* ------------------------------------------------------------ background */

/* Publish the waiting policies to the shared store. Lock held (dropped meanwhile). */
static void
publish_all(struct sts_cache *c)
{
	struct pub *q = c->pub;
	struct store *st;
	char *err = NULL;

	c->pub = NULL;
	c->npub = 0;
	pthread_mutex_unlock(&c->lock);
	st = c->shared(c->shared_arg);
	for (struct pub *n; q != NULL; q = n) {
		n = q->next;
		if (st != NULL && stspol_put(st, &q->r, &err) < 0)
			msg_warn("sts: the policy of %s is not shared: %s", q->r.domain, err);
		else if (st == NULL)
			msg_warn("sts: the shared store is not reachable: the policy of %s is not "
				 "shared",
			    q->r.domain);
		free(err);
		err = NULL;
		stspol_row_clear(&q->r);
		free(q);
	}
	pthread_mutex_lock(&c->lock);
}

/*
 * The shared store's policy of j's domain, taken when it is for the same
 * id and needs no refresh yet: 1 taken, else 0.
 */
static int
take_shared(struct sts_cache *c, struct store *st, const struct job *j, int64_t now)
{
	struct stspol_row r;
	struct entry *e;
	char *err = NULL;
	int rc = stspol_get(st, j->domain, &r, &err);

	if (rc < 0)
		msg_warn("sts: the shared policy of %s: %s", j->domain, err);
	rc = rc == 1 && strcmp(r.id, j->id) == 0 && r.expires - now >= STS_CACHE_REFRESH_S;
	if (rc) {
		pthread_mutex_lock(&c->lock);
		e = entry_get(c, j->domain);
		sts_policy_clear(&e->p);
		e->have = 0;
		if ((rc = from_row(&r, e) == 0) != 0) {
			c->taken++;
			e->fail_at = 0;
		}
		pthread_mutex_unlock(&c->lock);
		if (rc && c->st != NULL && stspol_put(c->st, &r, &err) < 0)
			msg_warn("sts: the shared policy of %s is applied but not stored: %s",
			    j->domain, err);
	}
	stspol_row_clear(&r);
	free(err);
	return rc;
}

/*
 * One queued refresh. With a shared store: take its policy, or claim the
 * fetch (another relay's claim: leave it to that relay), else fetch.
 */
static void
run_job(struct sts_cache *c, const struct job *j)
{
	int64_t now = (int64_t)time(NULL);
	struct store *st = c->shared ? c->shared(c->shared_arg) : NULL;
	char *key = NULL, *err = NULL;
	int claim = -1;

	if (st != NULL) {
		if (take_shared(c, st, j, now))
			return;
		key = xasprintf("%s/%s", j->domain, j->id);
		claim = store_claim(st, "sts-fetch", key, now, c->lease_s, NULL, &err);
		if (claim < 0)
			msg_warn("sts: claiming the fetch of %s: %s", j->domain, err);
	}
	if (claim != 0)
		(void)sts_cache_refresh(c, j->domain, j->id, (const char *const *)j->addrs,
		    j->naddrs, 0, now, NULL);
	if (claim == 1 && store_claim_finish(st, "sts-fetch", key, 0, &err) < 0)
		msg_warn("sts: releasing the fetch of %s: %s", j->domain, err);
	free(key);
	free(err);
}

static void *
worker(void *arg)
{
	struct sts_cache *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct job *j;
		struct sts_policy p;
		struct sts_cache_state cs;

		while (!c->stopping && c->head == NULL && c->pub == NULL)
			pthread_cond_wait(&c->work, &c->lock);
		if (c->stopping)
			break;
		if (c->pub != NULL) {
			c->running++;
			publish_all(c);
			c->running--;
			if (c->head == NULL && c->running == 0 && c->pub == NULL)
				pthread_cond_broadcast(&c->idle);
			continue;
		}
		j = c->head;
		c->head = j->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->njobs--;
		c->running++;
		pthread_mutex_unlock(&c->lock);
		/* still wanted? (an earlier job may have fetched it) */
		sts_cache_lookup(c, j->domain, j->id, (int64_t)time(NULL), &p, &cs);
		sts_policy_clear(&p);
		if (cs.want_fetch)
			run_job(c, j);
		job_free(j);
		pthread_mutex_lock(&c->lock);
		c->running--;
		if (c->head == NULL && c->running == 0 && c->pub == NULL)
			pthread_cond_broadcast(&c->idle);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

void
sts_cache_share(struct sts_cache *c, sts_cache_shared_fn get, void *arg, unsigned lease_s)
{
	pthread_mutex_lock(&c->lock);
	c->shared = get;
	c->shared_arg = arg;
	c->lease_s = lease_s ? lease_s : 60;
	pthread_mutex_unlock(&c->lock);
}

unsigned long
sts_cache_shared_taken(struct sts_cache *c)
{
	unsigned long n;

	pthread_mutex_lock(&c->lock);
	n = c->taken;
	pthread_mutex_unlock(&c->lock);
	return n;
}

int
sts_cache_background(struct sts_cache *c, unsigned threads)
{
	int rc;

	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	pthread_mutex_lock(&c->lock);
	while (c->nthreads < threads) {
		if ((rc = pthread_create(&c->tid[c->nthreads], NULL, worker, c)) != 0) {
			msg_error("sts: cannot start a refresh thread: %s", strerror(rc));
			break;
		}
		c->nthreads++;
	}
	rc = c->nthreads > 0 ? 0 : -1;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
sts_cache_refresh_later(struct sts_cache *c, const char *domain, const char *txt_id,
    const char *const *addrs, size_t naddrs)
{
	struct job *j;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if (c->nthreads == 0 || c->stopping)
		goto out;
	for (j = c->head; j != NULL; j = j->next)
		if (strcmp(j->domain, domain) == 0) {
			rc = 1;
			goto out;
		}
	if (c->njobs >= STS_CACHE_QUEUE_MAX)
		goto out;
	j = xcalloc(1, sizeof(*j));
	j->domain = xstrdup(domain);
	snprintf(j->id, sizeof(j->id), "%s", txt_id ? txt_id : "");
	j->addrs = naddrs ? xcalloc(naddrs, sizeof(char *)) : NULL;
	for (size_t i = 0; i < naddrs; i++)
		j->addrs[j->naddrs++] = xstrdup(addrs[i]);
	if (c->tail)
		c->tail->next = j;
	else
		c->head = j;
	c->tail = j;
	c->njobs++;
	pthread_cond_signal(&c->work);
	rc = 1;
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
sts_cache_idle(struct sts_cache *c, unsigned ms)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	while ((c->head != NULL || c->running > 0 || c->pub != NULL) && rc == 0)
		if (pthread_cond_timedwait(&c->idle, &c->lock, &until) != 0)
			rc = -1;
	pthread_mutex_unlock(&c->lock);
	return rc;
}
