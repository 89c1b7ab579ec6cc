/*
 * test_policy_cache.c - unit tests of the decision cache (policy/policy_cache.h).
 *
 * Covers: hit/miss/expiry on an injected clock, LRU eviction, expired
 * entries evicted before the LRU one, single-flight (one resolution for 16
 * concurrent requests), abandon hand-over to exactly one waiter, TIMEOUT at
 * the caller's deadline, flush, reference counts, and a multi-thread stress
 * run that checks the cache's invariants.
 *
 * Synchronisation between threads uses barriers and the cache's own waiter
 * count (policy_cache_waiters()), never sleeps. Worker threads do not
 * assert (criterion's assertions abort from the calling thread): they
 * count outcomes in atomics that the main thread checks.
 *
 * Leaks and double frees: run under valgrind. Criterion runs each test in
 * a re-executed child, so valgrind must trace children; and criterion
 * ignores a child's exit status once its test has reported, so leaks found
 * at child exit do not fail the run: check every per-process log instead
 * (one command line; the log glob is vg/[0-9]*.log):
 *   rm -rf vg && mkdir vg && valgrind --trace-children=yes
 *     --leak-check=full --errors-for-leak-kinds=definite,indirect
 *     --exit-on-first-error=yes --error-exitcode=1 --log-file=vg/%p.log
 *     ./tests/unit/test_cache --jobs 1
 *   && ! grep -L 'ERROR SUMMARY: 0 errors' vg/[0-9]*.log | grep .
 * --exit-on-first-error makes a memory error during a test fail that test;
 * the grep catches leaks and prints the offending log's name.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "policy.h"
#include "policy_cache.h"

#define FAR_MS		30000	/* deadline for waits that must not time out */
#define SYNC_MS		20000	/* give up waiting for a thread state after this */
#define JOIN_S		300	/* threads not done by then are deadlocked */

/* Injected expiry clock (seconds); each test runs in its own process. */
static _Atomic int64_t fake_now = 1000;

static int64_t
fake_clock(void)
{
	return atomic_load(&fake_now);
}

static struct policy_decision *
mk(const char *domain)
{
	return policy_decision_simple(domain, POLICY_TRY, TLS_LEVEL_MAY,
	    POLICY_R_NO_TLSA, "test");
}

static int
refs(struct policy_decision *d)
{
	return atomic_load(&d->refs);
}

static struct policy_cache *
new_cache(size_t max)
{
	struct policy_cache *c = policy_cache_new(max);

	policy_cache_set_clock(c, fake_clock);
	return c;
}

/* Resolve key through the cache: MISS expected, publish a new decision. */
static struct policy_decision *
put(struct policy_cache *c, const char *key, unsigned ttl)
{
	struct policy_decision *d = NULL;

	cr_assert_eq(policy_cache_begin(c, key, clock_now_ms() + FAR_MS, &d), POLICY_CACHE_MISS,
	    "expected a MISS for %s", key);
	cr_assert_null(d);
	d = mk(key);
	policy_cache_publish(c, key, d, ttl);
	return d;		/* caller's reference */
}

static void
expect_hit(struct policy_cache *c, const char *key, struct policy_decision *want)
{
	struct policy_decision *d = NULL;

	cr_assert_eq(policy_cache_begin(c, key, clock_now_ms() + FAR_MS, &d), POLICY_CACHE_HIT,
	    "expected a HIT for %s", key);
	cr_assert_eq(d, want, "HIT for %s returned another decision", key);
	policy_decision_unref(d);
}

static void
expect_miss_abandon(struct policy_cache *c, const char *key)
{
	struct policy_decision *d = NULL;

	cr_assert_eq(policy_cache_begin(c, key, clock_now_ms() + FAR_MS, &d), POLICY_CACHE_MISS,
	    "expected a MISS for %s", key);
	cr_assert_null(d);
	policy_cache_abandon(c, key);
}

/* Wait (bounded) until n threads are blocked on key. Thread-safe; no asserts. */
static int
await_waiters(struct policy_cache *c, const char *key, size_t n)
{
	int64_t give_up = clock_now_ms() + SYNC_MS;

	while (policy_cache_waiters(c, key) != n) {
		if (clock_now_ms() > give_up)
			return -1;
		sched_yield();
	}
	return 0;
}

/* ------------------------------------------------------------ basics */

Test(cache, hit_miss_expiry)
{
	struct policy_cache *c = new_cache(10);
	struct policy_decision *d, *d2;

	d = put(c, "a.example", 60);
	cr_assert_eq(refs(d), 2, "cache must hold its own reference");
	cr_assert_eq(policy_cache_size(c), 1);
	expect_hit(c, "a.example", d);
	cr_assert_eq(refs(d), 2);
	expect_miss_abandon(c, "b.example");
	cr_assert_eq(policy_cache_size(c), 1, "abandon without waiters drops the key");

	atomic_store(&fake_now, 1000 + 59);
	expect_hit(c, "a.example", d);
	atomic_store(&fake_now, 1000 + 60);
	d2 = put(c, "a.example", 10);	/* expired: a MISS, then refreshed */
	cr_assert_eq(refs(d), 1, "expired decision released by the cache");
	expect_hit(c, "a.example", d2);
	cr_assert_eq(policy_cache_check(c), 0);

	policy_cache_free(c);
	cr_assert_eq(refs(d2), 1);
	policy_decision_unref(d);
	policy_decision_unref(d2);
}

Test(cache, key_is_copied_and_exact)
{
	struct policy_cache *c = new_cache(10);
	char key[32] = "mx.example";
	struct policy_decision *d = put(c, key, 60);

	memcpy(key, "zz.example", 11);
	expect_hit(c, "mx.example", d);
	expect_miss_abandon(c, "MX.example");
	expect_miss_abandon(c, "mx.example.");
	policy_cache_free(c);
	policy_decision_unref(d);
}

Test(cache, lru_eviction)
{
	struct policy_cache *c = new_cache(3);
	struct policy_decision *a = put(c, "a", 100), *b = put(c, "b", 100);
	struct policy_decision *cc = put(c, "c", 100), *d;

	expect_hit(c, "a", a);		/* LRU order now: b, c, a */
	d = put(c, "d", 100);		/* evicts b */
	cr_assert_eq(policy_cache_size(c), 3);
	cr_assert_eq(refs(b), 1, "evicted decision released");
	expect_hit(c, "a", a);
	expect_hit(c, "c", cc);
	expect_hit(c, "d", d);
	expect_miss_abandon(c, "b");	/* made room by evicting a, then dropped */
	cr_assert_eq(policy_cache_size(c), 2);
	cr_assert_eq(refs(a), 1);
	cr_assert_eq(policy_cache_check(c), 0);
	policy_cache_free(c);
	policy_decision_unref(a);
	policy_decision_unref(b);
	policy_decision_unref(cc);
	policy_decision_unref(d);
}

Test(cache, expired_evicted_before_lru)
{
	struct policy_cache *c = new_cache(3);
	struct policy_decision *a = put(c, "a", 100), *b = put(c, "b", 100);
	struct policy_decision *x = put(c, "x", 5), *d;

	expect_hit(c, "x", x);		/* x is the most recently used */
	atomic_store(&fake_now, 1000 + 10);
	d = put(c, "d", 100);		/* must evict x (expired), not a (LRU) */
	cr_assert_eq(refs(x), 1, "expired entry evicted");
	expect_hit(c, "a", a);
	expect_hit(c, "b", b);
	expect_hit(c, "d", d);
	cr_assert_eq(policy_cache_size(c), 3);
	cr_assert_eq(policy_cache_check(c), 0);
	policy_cache_free(c);
	policy_decision_unref(a);
	policy_decision_unref(b);
	policy_decision_unref(x);
	policy_decision_unref(d);
}

Test(cache, inflight_never_evicted)
{
	struct policy_cache *c = new_cache(2);
	struct policy_decision *d = NULL, *a;

	cr_assert_eq(policy_cache_begin(c, "p", clock_now_ms() + FAR_MS, &d), POLICY_CACHE_MISS);
	cr_assert_eq(policy_cache_begin(c, "q", clock_now_ms() + FAR_MS, &d), POLICY_CACHE_MISS);
	/* Full of in-flight entries: a third resolution overflows, evicts nothing. */
	cr_assert_eq(policy_cache_begin(c, "r", clock_now_ms() + FAR_MS, &d), POLICY_CACHE_MISS);
	cr_assert_eq(policy_cache_size(c), 3);
	cr_assert_eq(policy_cache_check(c), 0);
	a = mk("p");
	policy_cache_publish(c, "p", a, 100);	/* back to the bound: evicts p itself */
	cr_assert_eq(policy_cache_size(c), 2);
	policy_cache_abandon(c, "q");
	policy_cache_abandon(c, "r");
	cr_assert_eq(policy_cache_size(c), 0);
	cr_assert_eq(refs(a), 1);
	cr_assert_eq(policy_cache_check(c), 0);
	policy_cache_free(c);
	policy_decision_unref(a);
}

Test(cache, publish_variants)
{
	struct policy_cache *c = new_cache(4);
	struct policy_decision *a = mk("a"), *b = mk("b"), *z;

	policy_cache_publish(c, "a", a, 30);	/* without begin: plain store */
	expect_hit(c, "a", a);
	policy_cache_publish(c, "a", b, 30);	/* replaces */
	cr_assert_eq(refs(a), 1);
	expect_hit(c, "a", b);
	z = put(c, "z", 0);			/* ttl 0: not stored */
	cr_assert_eq(refs(z), 1);
	cr_assert_eq(policy_cache_size(c), 1);
	policy_cache_abandon(c, "a");		/* not in flight: no-op */
	expect_hit(c, "a", b);
	cr_assert_eq(policy_cache_check(c), 0);
	policy_cache_free(c);
	cr_assert_eq(refs(b), 1);
	policy_decision_unref(a);
	policy_decision_unref(b);
	policy_decision_unref(z);
}

/* ------------------------------------------------------------ threads */

#define NTHREADS 16

struct flight_test {
	struct policy_cache *c;
	const char *key;
	pthread_barrier_t start;
	size_t want_waiters;		/* a resolver publishes once this many wait */
	int64_t deadline_ms;		/* 0: FAR_MS from now */
	atomic_int misses, hits, timeouts, sync_fail, late, done;
	struct policy_decision *_Atomic published;
	struct policy_decision *got[NTHREADS];
	atomic_int ngot;
};

static void *
flight_worker(void *arg)
{
	struct flight_test *t = arg;
	struct policy_decision *d = NULL;
	int64_t deadline = t->deadline_ms ? t->deadline_ms : clock_now_ms() + FAR_MS;

	enum policy_cache_result r;

	pthread_barrier_wait(&t->start);
	r = policy_cache_begin(t->c, t->key, deadline, &d);
	if (r != POLICY_CACHE_TIMEOUT && clock_now_ms() >= deadline)
		atomic_fetch_add(&t->late, 1);	/* not woken: found at the deadline */
	switch (r) {
	case POLICY_CACHE_MISS:
		atomic_fetch_add(&t->misses, 1);
		if (await_waiters(t->c, t->key, t->want_waiters) < 0)
			atomic_fetch_add(&t->sync_fail, 1);
		d = mk(t->key);
		atomic_store(&t->published, d);
		policy_cache_publish(t->c, t->key, d, 60);
		policy_decision_unref(d);
		break;
	case POLICY_CACHE_HIT:
		atomic_fetch_add(&t->hits, 1);
		t->got[atomic_fetch_add(&t->ngot, 1)] = d;
		break;
	case POLICY_CACHE_TIMEOUT:
		atomic_fetch_add(&t->timeouts, 1);
		break;
	}
	atomic_fetch_add(&t->done, 1);
	return NULL;
}

static void
run_workers(struct flight_test *t, pthread_t *tid, int n)
{
	for (int i = 0; i < n; i++)
		cr_assert_eq(pthread_create(&tid[i], NULL, flight_worker, t), 0);
}

/*
 * Join n threads, failing (not hanging) on a deadlock. Not criterion's
 * .timeout: with parallel jobs, 2.4.1's runner leaks its timeout record,
 * which fails an ASan build (--enable-sanitizers).
 */
static void
join_workers(pthread_t *tid, int n)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += JOIN_S;
	for (int i = 0; i < n; i++)
		cr_assert_eq(pthread_timedjoin_np(tid[i], NULL, &ts), 0,
		    "thread %d still running after %d s: deadlock?", i, JOIN_S);
}

/* Every HIT got the published decision; drop those references. */
static void
check_and_drop_hits(struct flight_test *t)
{
	struct policy_decision *pub = atomic_load(&t->published);

	cr_assert_eq(atomic_load(&t->late), 0, "a waiter was not woken by publish");
	cr_assert_not_null(pub);
	cr_assert_eq(refs(pub), 1 + atomic_load(&t->ngot), "cache + one per HIT");
	for (int i = 0; i < atomic_load(&t->ngot); i++) {
		cr_assert_eq(t->got[i], pub, "HIT %d got another decision", i);
		policy_decision_unref(t->got[i]);
	}
}

Test(cache, single_flight)
{
	struct flight_test t = { .key = "sf.example", .want_waiters = NTHREADS - 1 };
	pthread_t tid[NTHREADS];

	t.c = new_cache(10);
	pthread_barrier_init(&t.start, NULL, NTHREADS);
	run_workers(&t, tid, NTHREADS);
	join_workers(tid, NTHREADS);
	cr_assert_eq(atomic_load(&t.sync_fail), 0, "resolver never saw %d waiters", NTHREADS - 1);
	cr_assert_eq(atomic_load(&t.misses), 1, "exactly one resolution");
	cr_assert_eq(atomic_load(&t.hits), NTHREADS - 1);
	cr_assert_eq(atomic_load(&t.timeouts), 0);
	cr_assert_eq(policy_cache_waiters(t.c, t.key), 0);
	check_and_drop_hits(&t);
	expect_hit(t.c, t.key, atomic_load(&t.published));
	cr_assert_eq(policy_cache_check(t.c), 0);
	policy_cache_free(t.c);
	pthread_barrier_destroy(&t.start);
}

Test(cache, abandon_hands_over_to_one_waiter)
{
	enum { N = 8 };
	struct flight_test t = { .key = "ab.example", .want_waiters = N - 1 };
	struct policy_decision *d = NULL;
	pthread_t tid[N];

	t.c = new_cache(10);
	pthread_barrier_init(&t.start, NULL, N + 1);
	cr_assert_eq(policy_cache_begin(t.c, t.key, clock_now_ms() + FAR_MS, &d), POLICY_CACHE_MISS);
	run_workers(&t, tid, N);
	pthread_barrier_wait(&t.start);
	cr_assert_eq(await_waiters(t.c, t.key, N), 0, "workers never all waited");
	policy_cache_abandon(t.c, t.key);
	join_workers(tid, N);
	cr_assert_eq(atomic_load(&t.sync_fail), 0, "new resolver never saw %d waiters", N - 1);
	cr_assert_eq(atomic_load(&t.misses), 1, "exactly one waiter takes over");
	cr_assert_eq(atomic_load(&t.hits), N - 1);
	cr_assert_eq(atomic_load(&t.timeouts), 0);
	check_and_drop_hits(&t);
	cr_assert_eq(policy_cache_size(t.c), 1);
	cr_assert_eq(policy_cache_check(t.c), 0);
	policy_cache_free(t.c);
	pthread_barrier_destroy(&t.start);
}

Test(cache, timeout_when_never_published)
{
	struct flight_test t = { .key = "to.example" };
	struct policy_decision *d = NULL, *p, *junk = mk("junk");
	pthread_t tid[1];

	t.c = new_cache(10);
	pthread_barrier_init(&t.start, NULL, 1);
	cr_assert_eq(policy_cache_begin(t.c, t.key, clock_now_ms() + FAR_MS, &d), POLICY_CACHE_MISS);
	t.deadline_ms = clock_now_ms() + 100;
	run_workers(&t, tid, 1);
	join_workers(tid, 1);
	cr_assert_eq(atomic_load(&t.timeouts), 1);
	cr_assert_geq(clock_now_ms(), t.deadline_ms, "TIMEOUT before the deadline");
	cr_assert_eq(policy_cache_waiters(t.c, t.key), 0);
	/* A deadline already past: TIMEOUT at once, *out NULL. */
	d = junk;
	cr_assert_eq(policy_cache_begin(t.c, t.key, clock_now_ms() - 1, &d), POLICY_CACHE_TIMEOUT);
	cr_assert_null(d);
	policy_decision_unref(junk);
	cr_assert_eq(policy_cache_size(t.c), 1, "still in flight");
	p = mk(t.key);
	policy_cache_publish(t.c, t.key, p, 60);
	expect_hit(t.c, t.key, p);
	cr_assert_eq(policy_cache_check(t.c), 0);
	policy_cache_free(t.c);
	policy_decision_unref(p);
	pthread_barrier_destroy(&t.start);
}

/*
 * Abandon when the only waiter's deadline has passed: it returns TIMEOUT
 * and, nobody being left to resolve, the key is dropped. Whether the
 * waiter leaves before the abandon or is woken by it and finds its
 * deadline gone is up to the scheduler; both orders must end the same, and
 * repeating the race makes the second (rarer) order likely to occur.
 */
static void
abandon_after_deadline_once(struct policy_cache *c)
{
	struct flight_test t = { .c = c, .key = "late.example", .want_waiters = 0 };
	struct policy_decision *d = NULL;
	pthread_t tid[1];

	pthread_barrier_init(&t.start, NULL, 2);
	cr_assert_eq(policy_cache_begin(c, t.key, clock_now_ms() + FAR_MS, &d), POLICY_CACHE_MISS);
	t.deadline_ms = clock_now_ms() + 20;
	run_workers(&t, tid, 1);
	pthread_barrier_wait(&t.start);
	/* Wait for it to sleep, unless (slow host) it is already done. */
	while (policy_cache_waiters(c, t.key) != 1 && atomic_load(&t.done) == 0)
		sched_yield();		/* bounded: its deadline is 20 ms away */
	while (clock_now_ms() < t.deadline_ms)
		sched_yield();
	policy_cache_abandon(c, t.key);
	join_workers(tid, 1);
	cr_assert_eq(atomic_load(&t.timeouts), 1);
	cr_assert_eq(atomic_load(&t.misses), 0);
	cr_assert_eq(policy_cache_size(c), 0, "nobody resolves it: dropped");
	cr_assert_eq(policy_cache_check(c), 0);
	pthread_barrier_destroy(&t.start);
}

Test(cache, abandon_after_waiter_deadline)
{
	struct policy_cache *c = new_cache(10);

	for (int i = 0; i < 25; i++)
		abandon_after_deadline_once(c);
	policy_cache_free(c);
}

Test(cache, flush)
{
	struct flight_test t = { .key = "fl.example", .want_waiters = 0 };
	struct policy_cache *c = new_cache(10);
	struct policy_decision *a = put(c, "a", 100), *b = put(c, "b", 100);
	struct policy_decision *d = NULL, *p;
	pthread_t tid[1];

	t.c = c;
	pthread_barrier_init(&t.start, NULL, 2);
	cr_assert_eq(policy_cache_begin(c, t.key, clock_now_ms() + FAR_MS, &d), POLICY_CACHE_MISS);
	run_workers(&t, tid, 1);
	pthread_barrier_wait(&t.start);
	cr_assert_eq(await_waiters(c, t.key, 1), 0);
	policy_cache_flush(c);
	cr_assert_eq(policy_cache_size(c), 1, "in-flight entry survives flush");
	cr_assert_eq(refs(a), 1);
	cr_assert_eq(refs(b), 1);
	expect_miss_abandon(c, "a");
	p = mk(t.key);
	atomic_store(&t.published, p);
	policy_cache_publish(c, t.key, p, 100);	/* begun before flush: waiter only */
	join_workers(tid, 1);
	cr_assert_eq(atomic_load(&t.hits), 1, "waiter still gets the result");
	check_and_drop_hits(&t);		/* refs: waiter's only, not stored */
	cr_assert_eq(policy_cache_size(c), 0);
	policy_decision_unref(put(c, t.key, 100));	/* a new resolution is stored */
	cr_assert_eq(policy_cache_size(c), 1);
	cr_assert_eq(policy_cache_check(c), 0);
	policy_cache_free(c);
	cr_assert_eq(refs(p), 1);
	policy_decision_unref(p);
	policy_decision_unref(a);
	policy_decision_unref(b);
	pthread_barrier_destroy(&t.start);
}

/* ------------------------------------------------------------ stress */

#define S_THREADS	8
#define S_OPS		20000
#define S_KEYS		500
#define S_CAP		100

struct stress {
	struct policy_cache *c;
	pthread_barrier_t start;
	atomic_int resolutions, hits, timeouts, wrong, oversize, broken, contended;
	atomic_int late, dup;
	atomic_int owners[S_KEYS];	/* resolvers per key: at most 1 */
};

struct stress_arg {
	struct stress *s;
	uint64_t rng;
};

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
stress_op(struct stress *s, uint64_t *rng)
{
	struct policy_decision *d = NULL;
	char key[32];

	/* A quarter of the operations on 10 hot keys, so flights collide. */
	unsigned k = (unsigned)(xorshift(rng) % (xorshift(rng) % 4 ? S_KEYS : 10));

	int64_t deadline = clock_now_ms() + FAR_MS;
	enum policy_cache_result r;

	snprintf(key, sizeof(key), "k%u.example", k);
	r = policy_cache_begin(s->c, key, deadline, &d);
	if (r != POLICY_CACHE_TIMEOUT && clock_now_ms() >= deadline)
		atomic_fetch_add(&s->late, 1);
	switch (r) {
	case POLICY_CACHE_MISS:
		atomic_fetch_add(&s->resolutions, 1);
		if (atomic_fetch_add(&s->owners[k], 1) != 0)
			atomic_fetch_add(&s->dup, 1);	/* two resolvers of one key */
		for (unsigned n = (unsigned)(xorshift(rng) % 4); n > 0; n--)
			sched_yield();		/* "resolve": let others pile up */
		if (policy_cache_waiters(s->c, key) > 0)
			atomic_fetch_add(&s->contended, 1);
		atomic_fetch_sub(&s->owners[k], 1);	/* still in flight until the call */
		if (xorshift(rng) % 5 == 0) {
			policy_cache_abandon(s->c, key);
			break;
		}
		d = mk(key);
		policy_cache_publish(s->c, key, d, (unsigned)(xorshift(rng) % 6));
		policy_decision_unref(d);
		break;
	case POLICY_CACHE_HIT:
		atomic_fetch_add(&s->hits, 1);
		if (d == NULL || strcmp(d->domain, key) != 0)
			atomic_fetch_add(&s->wrong, 1);
		policy_decision_unref(d);
		break;
	case POLICY_CACHE_TIMEOUT:
		atomic_fetch_add(&s->timeouts, 1);
		break;
	}
}

static void *
stress_worker(void *arg)
{
	struct stress_arg *a = arg;
	struct stress *s = a->s;

	pthread_barrier_wait(&s->start);
	for (int i = 0; i < S_OPS; i++) {
		stress_op(s, &a->rng);
		if (xorshift(&a->rng) % 1000 == 0)
			atomic_fetch_add(&fake_now, 1);		/* let entries expire */
		if (xorshift(&a->rng) % 2000 == 0)
			policy_cache_flush(s->c);
		if (policy_cache_size(s->c) > S_CAP)
			atomic_fetch_add(&s->oversize, 1);
		if (i % 2000 == 0 && policy_cache_check(s->c) != 0)
			atomic_fetch_add(&s->broken, 1);
	}
	return NULL;
}

Test(cache, stress)
{
	struct stress s = { 0 };
	struct stress_arg args[S_THREADS];
	pthread_t tid[S_THREADS];

	s.c = new_cache(S_CAP);
	pthread_barrier_init(&s.start, NULL, S_THREADS);
	for (int i = 0; i < S_THREADS; i++) {
		args[i].s = &s;
		args[i].rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
		cr_assert_eq(pthread_create(&tid[i], NULL, stress_worker, &args[i]), 0);
	}
	join_workers(tid, S_THREADS);
	cr_log_info("stress: %d resolutions (%d with waiters), %d hits, %d timeouts",
	    atomic_load(&s.resolutions), atomic_load(&s.contended), atomic_load(&s.hits),
	    atomic_load(&s.timeouts));
	cr_assert_eq(atomic_load(&s.resolutions) + atomic_load(&s.hits) +
	    atomic_load(&s.timeouts), S_THREADS * S_OPS);
	cr_assert_eq(atomic_load(&s.wrong), 0, "HIT returned another key's decision");
	cr_assert_eq(atomic_load(&s.oversize), 0, "size exceeded capacity");
	cr_assert_eq(atomic_load(&s.broken), 0, "invariants broken");
	cr_assert_eq(atomic_load(&s.timeouts), 0, "lost wake-up");
	cr_assert_eq(atomic_load(&s.late), 0, "a waiter was only released by its deadline");
	cr_assert_eq(atomic_load(&s.dup), 0, "single-flight broken: concurrent resolvers");
	cr_assert_gt(atomic_load(&s.contended), 0, "no resolution ever had waiters");
	cr_assert_gt(atomic_load(&s.hits), 0);
	cr_assert_leq(policy_cache_size(s.c), S_CAP);
	cr_assert_eq(policy_cache_check(s.c), 0);
	for (int i = 0; i < S_KEYS; i++) {
		char key[32];

		snprintf(key, sizeof(key), "k%d.example", i);
		cr_assert_eq(policy_cache_waiters(s.c, key), 0);
	}
	policy_cache_free(s.c);
	pthread_barrier_destroy(&s.start);
}
