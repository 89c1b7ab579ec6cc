/*
 * policy_cache.c - bounded, thread-safe decision cache with single-flight
 * (contract in policy_cache.h).
 *
 * Data structures (all guarded by the one mutex c->lock):
 *   - Hash table: separate chaining over a power-of-two bucket array that
 *     doubles when the entry count exceeds it (load factor <= 1). The hash
 *     is lib/hash.h's hash_string() (FNV-1a 64 with a per-cache seed in the
 *     offset basis, then a murmur3 finaliser) with a per-cache seed.
 *   - An entry is COMPLETE (e->d != NULL) or IN FLIGHT (e->d == NULL).
 *     Complete entries sit on the LRU list (most recent at the head) and in
 *     a binary min-heap ordered by expiry, so "evict an expired entry
 *     first" costs O(log n), not a scan. In-flight entries are on neither,
 *     which is what makes them unevictable.
 *   - Waiting: an in-flight entry that has waiters owns a struct flight
 *     with its own condition variable (initialised from a condattr set to
 *     CLOCK_MONOTONIC by clock_cond_init(), so deadline_ms, which is on
 *     the clock_now_ms() clock, converts directly to the absolute timespec
 *     of pthread_cond_timedwait: clock_deadline_ts(), lib/clock.h).
 *
 * Why a condition variable per flight rather than one shared one: a shared
 * condvar needs a broadcast on every publish, waking every thread waiting on
 * any domain (thundering herd across unrelated keys, each re-probing the
 * table under the lock). A per-flight condvar wakes only the threads that
 * wait for that key. It costs nothing for complete entries or for misses
 * without concurrent requests: the flight is allocated only when the first
 * waiter arrives and freed when the last one leaves, so at most one exists
 * per concurrently blocked key (bounded by the number of threads).
 *
 * Flight lifetime: a flight is referenced by its in-flight entry
 * (f->entry / e->flight) and by its waiters (f->waiters). publish() hands
 * the result to the flight (f->d, one reference shared by the waiters, each
 * of which takes its own on wake-up) and detaches it from the entry, which
 * may then be evicted or flushed while waiters are still waking up. The
 * last waiter out frees the flight; a flight with no waiters is never left
 * attached to an entry.
 *
 * Abandon: with waiters, the entry stays in flight and f->handoff is set
 * and broadcast; the first waiter to recheck that still has time left
 * clears it and returns MISS, the others go back to sleep. Broadcast rather
 * than signal, because a signalled waiter whose deadline has just passed
 * returns TIMEOUT without taking over, which with signal would strand the
 * handoff. Invariant: no thread sleeps while handoff is set, so if every
 * waiter times out the last one removes the entry.
 *
 * Flush: drops every complete entry and bumps c->gen. In-flight entries must
 * stay (their resolvers still owe a publish or abandon), but a resolution
 * that began before the flush is delivered to its waiters and not stored.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hash.h"
#include "log.h"
#include "mem.h"
#include "policy_cache.h"

#define MIN_BUCKETS 16
#define MIN_HEAP    16

struct cache_entry;

struct flight {
	pthread_cond_t cond;	   /* CLOCK_MONOTONIC */
	struct cache_entry *entry; /* the in-flight entry; NULL once detached */
	struct policy_decision *d; /* published result (own reference), or NULL */
	unsigned waiters;	   /* threads blocked in begin() on this flight */
	unsigned sleeping;	   /* of which asleep and not yet woken (test hook) */
	unsigned wakes;		   /* flight_wake() calls */
	int handoff;		   /* abandoned: the next waiter with time left resolves */
};

/* 64 bytes on LP64, plus the key. */
struct cache_entry {
	struct cache_entry *hnext;	 /* hash chain */
	struct cache_entry *prev, *next; /* LRU list (complete entries only) */
	struct policy_decision *d;	 /* own reference; NULL while in flight */
	struct flight *flight;		 /* in flight with waiters, else NULL */
	int64_t expires;		 /* expiry clock seconds (complete only) */
	size_t heap_idx;		 /* index in c->heap (complete only) */
	uint32_t hash;
	uint32_t gen; /* c->gen when the resolution began */
	char key[];
};
_Static_assert(sizeof(struct cache_entry) <= 64, "cache entry grew past 64 bytes");

struct policy_cache {
	pthread_mutex_t lock;
	struct cache_entry **buckets;
	size_t nbuckets; /* power of two */
	size_t count;	 /* all entries, in flight included */
	size_t max;
	struct cache_entry *lru_head, *lru_tail;
	struct cache_entry **heap; /* complete entries; earliest expiry at [0] */
	size_t heap_len, heap_cap;
	uint64_t seed;
	uint32_t gen;		/* bumped by flush */
	int64_t (*now_s)(void); /* expiry clock */
};

/* ------------------------------------------------------------ hashing */

static uint32_t
key_hash(const struct policy_cache *c, const char *key, size_t *len)
{
	return hash_string(c->seed, key, len);
}

static struct cache_entry *
entry_find(const struct policy_cache *c, const char *key, uint32_t h)
{
	struct cache_entry *e = c->buckets[h & (c->nbuckets - 1)];

	for (; e != NULL; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void
table_grow(struct policy_cache *c)
{
	size_t n = c->nbuckets * 2;
	struct cache_entry **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < c->nbuckets; i++) {
		struct cache_entry *e = c->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

static void
table_unlink(struct policy_cache *c, struct cache_entry *e)
{
	struct cache_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
}

/* ------------------------------------------------------------ LRU list */

static void
lru_unlink(struct policy_cache *c, struct cache_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->lru_head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push_head(struct policy_cache *c, struct cache_entry *e)
{
	e->prev = NULL;
	e->next = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->prev = e;
	else
		c->lru_tail = e;
	c->lru_head = e;
}

/* ------------------------------------------------------------ expiry heap */

static void
heap_set(struct policy_cache *c, size_t i, struct cache_entry *e)
{
	c->heap[i] = e;
	e->heap_idx = i;
}

static void
heap_up(struct policy_cache *c, size_t i)
{
	struct cache_entry *e = c->heap[i];

	while (i > 0 && c->heap[(i - 1) / 2]->expires > e->expires) {
		heap_set(c, i, c->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(c, i, e);
}

static void
heap_down(struct policy_cache *c, size_t i)
{
	struct cache_entry *e = c->heap[i];

	for (;;) {
		size_t l = 2 * i + 1, m = l;

		if (l >= c->heap_len)
			break;
		if (l + 1 < c->heap_len && c->heap[l + 1]->expires < c->heap[l]->expires)
			m = l + 1;
		if (c->heap[m]->expires >= e->expires)
			break;
		heap_set(c, i, c->heap[m]);
		i = m;
	}
	heap_set(c, i, e);
}

static void
heap_push(struct policy_cache *c, struct cache_entry *e)
{
	if (c->heap_len == c->heap_cap) {
		c->heap_cap = c->heap_cap ? c->heap_cap * 2 : MIN_HEAP;
		c->heap = xreallocarray(c->heap, c->heap_cap, sizeof(*c->heap));
	}
	heap_set(c, c->heap_len++, e);
	heap_up(c, e->heap_idx);
}

static void
heap_remove(struct policy_cache *c, struct cache_entry *e)
{
	size_t i = e->heap_idx;
	struct cache_entry *last = c->heap[--c->heap_len];

	if (i == c->heap_len)
		return;
	heap_set(c, i, last);
	heap_up(c, i);
	heap_down(c, last->heap_idx);
}

/* ------------------------------------------------------------ flights */

static struct flight *
flight_new(struct policy_cache *c, struct cache_entry *e)
{
	struct flight *f = xcalloc(1, sizeof(*f));
	int err = clock_cond_init(&f->cond);

	if (err != 0)
		msg_fatal("policy cache: pthread_cond_init: %s", strerror(err));
	f->entry = e;
	e->flight = f;
	return f;
}

static void
flight_free(struct flight *f)
{
	pthread_cond_destroy(&f->cond);
	policy_decision_unref(f->d);
	free(f);
}

/* Wake every waiter of f; they stop counting as asleep right away. */
static void
flight_wake(struct flight *f)
{
	f->wakes++;
	f->sleeping = 0;
	pthread_cond_broadcast(&f->cond);
}

/* Hand d to the waiters of e (if any) and detach the flight from e. */
static void
flight_deliver(struct cache_entry *e, struct policy_decision *d)
{
	struct flight *f = e->flight;

	if (f == NULL)
		return;
	f->d = policy_decision_ref(d);
	f->handoff = 0;
	f->entry = NULL;
	e->flight = NULL;
	flight_wake(f);
	if (f->waiters == 0)
		flight_free(f);
}

/* ------------------------------------------------------------ entries */

static struct cache_entry *
entry_new(struct policy_cache *c, const char *key, size_t len, uint32_t h)
{
	struct cache_entry *e = xcalloc(1, sizeof(*e) + len + 1);
	size_t b;

	memcpy(e->key, key, len + 1);
	e->hash = h;
	e->gen = c->gen;
	if (++c->count > c->nbuckets && c->nbuckets <= UINT32_MAX)
		table_grow(c);
	b = h & (c->nbuckets - 1);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	return e;
}

/* Complete -> in flight: drop the decision, leave LRU and heap. */
static void
entry_uncomplete(struct policy_cache *c, struct cache_entry *e)
{
	lru_unlink(c, e);
	heap_remove(c, e);
	policy_decision_unref(e->d);
	e->d = NULL;
	e->gen = c->gen;
}

static void
entry_complete(struct policy_cache *c, struct cache_entry *e, struct policy_decision *d,
    unsigned ttl_s, int64_t now)
{
	e->d = policy_decision_ref(d);
	e->expires = now + (int64_t)ttl_s;
	lru_push_head(c, e);
	heap_push(c, e);
}

static void
entry_remove(struct policy_cache *c, struct cache_entry *e)
{
	struct flight *f = e->flight;

	table_unlink(c, e);
	if (e->d != NULL)
		entry_uncomplete(c, e);
	if (f != NULL) {
		f->entry = NULL;
		f->handoff = 0;
		if (f->waiters == 0)
			flight_free(f);
	}
	free(e);
	c->count--;
}

/* Evict one complete entry: the earliest-expiring if expired, else the LRU. */
static int
evict_one(struct policy_cache *c, int64_t now)
{
	struct cache_entry *e = c->lru_tail;

	if (c->heap_len > 0 && c->heap[0]->expires <= now)
		e = c->heap[0];
	if (e == NULL)
		return 0;
	entry_remove(c, e);
	return 1;
}

/* Make room for want more entries; in-flight entries are never evicted. */
static void
make_room(struct policy_cache *c, int64_t now, size_t want)
{
	while (c->count + want > c->max && evict_one(c, now))
		;
}

/* ------------------------------------------------------------ waiting */

/* A waiter leaves f (with the lock held); the last one out cleans up. */
static void
flight_leave(struct policy_cache *c, struct flight *f)
{
	if (--f->waiters > 0)
		return;
	if (f->entry == NULL) {
		flight_free(f);
	} else if (f->handoff) {
		/* Abandoned and every waiter timed out: nobody resolves it. */
		entry_remove(c, f->entry);
	} else {
		f->entry->flight = NULL;
		flight_free(f);
	}
}

/* Block on the in-flight entry e until published, handed over, or deadline. */
static enum policy_cache_result
flight_wait(struct policy_cache *c, struct cache_entry *e, int64_t deadline_ms,
    struct policy_decision **out)
{
	struct flight *f = e->flight != NULL ? e->flight : flight_new(c, e);
	struct timespec ts = clock_deadline_ts(deadline_ms);
	enum policy_cache_result r;
	int timed_out = 0, err;
	unsigned wakes;

	f->waiters++;
	for (;;) {
		if (f->d != NULL) {
			*out = policy_decision_ref(f->d);
			r = POLICY_CACHE_HIT;
			break;
		}
		if (timed_out || clock_now_ms() >= deadline_ms) {
			r = POLICY_CACHE_TIMEOUT;
			break;
		}
		if (f->handoff) {
			f->handoff = 0;
			f->entry->gen = c->gen;
			r = POLICY_CACHE_MISS;
			break;
		}
		wakes = f->wakes;
		f->sleeping++;
		err = pthread_cond_timedwait(&f->cond, &c->lock, &ts);
		if (f->wakes == wakes)
			f->sleeping--; /* timeout or spurious: not counted off */
		if (err != 0 && err != ETIMEDOUT)
			msg_warn("policy cache: pthread_cond_timedwait: %s", strerror(err));
		timed_out = err != 0;
	}
	flight_leave(c, f);
	return r;
}

/* ------------------------------------------------------------ API */

/* New empty cache; max_entries 0 is taken as 1. Allocation failure is fatal. */
struct policy_cache *
policy_cache_new(size_t max_entries)
{
	struct policy_cache *c = xcalloc(1, sizeof(*c));
	int err;

	c->max = max_entries ? max_entries : 1;
	c->nbuckets = MIN_BUCKETS;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	c->now_s = clock_now_s;
	/* Seed: not a secret, just varies between caches and runs. */
	c->seed = hash_seed(c);
	if ((err = pthread_mutex_init(&c->lock, NULL)) != 0)
		msg_fatal("policy cache: pthread init: %s", strerror(err));
	return c;
}

/* Free everything, decisions' references included. No thread may be inside. */
void
policy_cache_free(struct policy_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct cache_entry *e = c->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->hnext;
			if (e->flight != NULL)
				flight_free(e->flight);
			policy_decision_unref(e->d);
			free(e);
		}
	}
	free(c->buckets);
	free(c->heap);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* HIT, MISS (caller resolves), or wait for the resolver; see policy_cache.h. */
enum policy_cache_result
policy_cache_begin(struct policy_cache *c, const char *key, int64_t deadline_ms,
    struct policy_decision **out)
{
	enum policy_cache_result r = POLICY_CACHE_MISS;
	struct cache_entry *e;
	size_t len;
	uint32_t h = key_hash(c, key, &len);
	int64_t now;

	*out = NULL;
	pthread_mutex_lock(&c->lock);
	now = c->now_s();
	e = entry_find(c, key, h);
	if (e == NULL) {
		make_room(c, now, 1);
		entry_new(c, key, len, h);
		goto out;
	}
	if (e->d == NULL) {
		r = flight_wait(c, e, deadline_ms, out);
		goto out;
	}
	if (e->expires <= now) {
		/* Expired: this caller refreshes it; later callers wait for it. */
		entry_uncomplete(c, e);
		goto out;
	}
	*out = policy_decision_ref(e->d);
	lru_unlink(c, e);
	lru_push_head(c, e);
	r = POLICY_CACHE_HIT;
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* End a resolution with d: waiters get it; stored unless ttl 0 or flushed. */
void
policy_cache_publish(struct policy_cache *c, const char *key, struct policy_decision *d,
    unsigned ttl_s)
{
	struct cache_entry *e;
	size_t len;
	uint32_t h = key_hash(c, key, &len);
	int64_t now;

	if (d == NULL) {
		policy_cache_abandon(c, key);
		return;
	}
	pthread_mutex_lock(&c->lock);
	now = c->now_s();
	e = entry_find(c, key, h);
	if (e == NULL) {
		/* Not begun (or dropped): a plain store, if there is room. */
		if (ttl_s == 0)
			goto out;
		make_room(c, now, 1);
		if (c->count >= c->max)
			goto out;
		e = entry_new(c, key, len, h);
	} else if (e->d != NULL) {
		entry_uncomplete(c, e); /* replace */
	} else {
		flight_deliver(e, d);
	}
	if (ttl_s == 0 || e->gen != c->gen) {
		/* Not cacheable, or begun before a flush: waiters only. */
		entry_remove(c, e);
		goto out;
	}
	entry_complete(c, e, d, ttl_s, now);
	make_room(c, now, 0);
out:
	pthread_mutex_unlock(&c->lock);
}

/* End a resolution without a result: hand over to a waiter, or drop the key. */
void
policy_cache_abandon(struct policy_cache *c, const char *key)
{
	struct cache_entry *e;
	size_t len;
	uint32_t h = key_hash(c, key, &len);

	pthread_mutex_lock(&c->lock);
	e = entry_find(c, key, h);
	if (e == NULL || e->d != NULL)
		goto out; /* nothing in flight: nothing to give up */
	if (e->flight != NULL && e->flight->waiters > 0) {
		e->flight->handoff = 1;
		flight_wake(e->flight);
		goto out;
	}
	entry_remove(c, e);
out:
	pthread_mutex_unlock(&c->lock);
}

/* Drop complete entries; resolutions in flight finish but are not stored. */
void
policy_cache_flush(struct policy_cache *c)
{
	struct cache_entry *e, *next;

	pthread_mutex_lock(&c->lock);
	/* Every complete entry is on the LRU list; in-flight ones stay. */
	for (e = c->lru_head; e != NULL; e = next) {
		next = e->next;
		entry_remove(c, e);
	}
	c->gen++;
	pthread_mutex_unlock(&c->lock);
}

/* Entries, in-flight ones included. */
size_t
policy_cache_size(struct policy_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Test hook: expiry clock in seconds; NULL restores CLOCK_MONOTONIC. */
void
policy_cache_set_clock(struct policy_cache *c, int64_t (*now_s)(void))
{
	pthread_mutex_lock(&c->lock);
	c->now_s = now_s != NULL ? now_s : clock_now_s;
	pthread_mutex_unlock(&c->lock);
}

/* ------------------------------------------------------------ test hooks */

/* Test hook: threads asleep on key's flight (woken ones not counted). */
size_t
policy_cache_waiters(struct policy_cache *c, const char *key)
{
	struct cache_entry *e;
	size_t len, n = 0;
	uint32_t h = key_hash(c, key, &len);

	pthread_mutex_lock(&c->lock);
	e = entry_find(c, key, h);
	if (e != NULL && e->flight != NULL)
		n = e->flight->sleeping;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* One entry's invariants; counts complete and in-flight entries. */
static const char *
check_entry(const struct policy_cache *c, const struct cache_entry *e, size_t b, size_t *ncomplete,
    size_t *ninflight)
{
	size_t len;

	if (key_hash(c, e->key, &len) != e->hash || (e->hash & (c->nbuckets - 1)) != b)
		return "entry in the wrong bucket";
	if (e->d == NULL) {
		(*ninflight)++;
		if (e->prev != NULL || e->next != NULL || c->lru_head == e)
			return "in-flight entry on the LRU list";
		if (e->flight != NULL && (e->flight->entry != e || e->flight->waiters == 0))
			return "flight not linked back or without waiters";
		return NULL;
	}
	(*ncomplete)++;
	if (e->flight != NULL)
		return "complete entry with a flight";
	if (e->heap_idx >= c->heap_len || c->heap[e->heap_idx] != e)
		return "complete entry not in the heap";
	return NULL;
}

/* Structure-wide invariants: sizes, LRU links, heap order. */
static const char *
check_structure(const struct policy_cache *c, size_t ncomplete, size_t ninflight)
{
	size_t nlru = 0;

	if (ncomplete + ninflight != c->count)
		return "entry count mismatch";
	if (c->count > c->max && ncomplete > 0)
		return "over capacity with evictable entries";
	for (const struct cache_entry *e = c->lru_head; e != NULL; e = e->next, nlru++)
		if ((e->next != NULL ? e->next->prev : c->lru_tail) != e)
			return "LRU list links broken";
	if (nlru != ncomplete || c->heap_len != ncomplete)
		return "LRU/heap length mismatch";
	for (size_t i = 1; i < c->heap_len; i++)
		if (c->heap[(i - 1) / 2]->expires > c->heap[i]->expires)
			return "heap order broken";
	return NULL;
}

/* Test hook: 0 when every invariant holds, else -1 (logged). */
int
policy_cache_check(struct policy_cache *c)
{
	const char *why = NULL;
	size_t ncomplete = 0, ninflight = 0;

	pthread_mutex_lock(&c->lock);
	for (size_t b = 0; b < c->nbuckets && why == NULL; b++)
		for (const struct cache_entry *e = c->buckets[b]; e != NULL && why == NULL;
		     e = e->hnext)
			why = check_entry(c, e, b, &ncomplete, &ninflight);
	if (why == NULL)
		why = check_structure(c, ncomplete, ninflight);
	pthread_mutex_unlock(&c->lock);
	if (why != NULL)
		msg_warn("policy cache: invariant violated: %s", why);
	return why != NULL ? -1 : 0;
}
