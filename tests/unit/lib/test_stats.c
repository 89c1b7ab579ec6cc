/*
 * test_stats.c - the process-wide counters (lib/stats.h).
 *
 * counts: each kind of increment lands in its own slot and nowhere else.
 * out_of_range: labelled increments with an index past the table count
 * only STATS_DROPPED.
 * latency_buckets: a latency lands in the first bucket whose bound it
 * does not exceed (bounds inclusive), past the last one in +Inf; sum and
 * count follow.
 * threads: 8 threads x 100000 increments of one decision counter and one
 * plain counter lose nothing (atomic adds).
 * generation: starts at 0, each install adds one.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "stats.h"

static void
setup(void)
{
	stats_reset();
}

TestSuite(stats, .init = setup);

Test(stats, counts)
{
	struct stats_snapshot s;

	stats_add(STATS_CACHE_HITS, 3);
	stats_add(STATS_DNS_QUERIES, 1);
	stats_decision(2, 5);
	stats_decision(2, 5);
	stats_door(1);
	stats_probe_result(4);
	stats_read(&s);
	cr_assert_eq(s.counter[STATS_CACHE_HITS], 3);
	cr_assert_eq(s.counter[STATS_DNS_QUERIES], 1);
	cr_assert_eq(s.counter[STATS_CACHE_MISSES], 0);
	cr_assert_eq(s.counter[STATS_DROPPED], 0);
	cr_assert_eq(s.decisions[2][5], 2);
	cr_assert_eq(s.decisions[5][2], 0);
	cr_assert_eq(s.doors[1], 1);
	cr_assert_eq(s.doors[0], 0);
	cr_assert_eq(s.probe_results[4], 1);
}

Test(stats, out_of_range)
{
	struct stats_snapshot s, zero;

	stats_decision(STATS_VERDICT_MAX, 0);
	stats_decision(0, STATS_REASON_MAX);
	stats_door(STATS_DOOR_MAX);
	stats_probe_result(~0u);
	stats_add(STATS_NCOUNTERS, 1); /* not even DROPPED: no such counter */
	stats_read(&s);
	cr_assert_eq(s.counter[STATS_DROPPED], 4);
	s.counter[STATS_DROPPED] = 0;
	memset(&zero, 0, sizeof(zero));
	cr_assert(memcmp(&s, &zero, sizeof(s)) == 0, "an out-of-range index counted somewhere");
}

Test(stats, latency_buckets)
{
	struct stats_snapshot s;
	unsigned last = stats_latency_bounds_ms[STATS_LATENCY_BUCKETS - 1];

	stats_dns_latency(0);	 /* bucket 0 (<= 1) */
	stats_dns_latency(1);	 /* bucket 0 */
	stats_dns_latency(2);	 /* bucket 1 (<= 2) */
	stats_dns_latency(3);	 /* bucket 2 (<= 5) */
	stats_dns_latency(last); /* the last bucket */
	stats_dns_latency(last + 1); /* +Inf */
	stats_read(&s);
	cr_assert_eq(s.latency[0], 2);
	cr_assert_eq(s.latency[1], 1);
	cr_assert_eq(s.latency[2], 1);
	cr_assert_eq(s.latency[STATS_LATENCY_BUCKETS - 1], 1);
	cr_assert_eq(s.latency[STATS_LATENCY_BUCKETS], 1);
	cr_assert_eq(s.latency_count, 6);
	cr_assert_eq(s.latency_sum_ms, 0 + 1 + 2 + 3 + last + last + 1);
	for (unsigned i = 1; i < STATS_LATENCY_BUCKETS; i++)
		cr_assert_gt(stats_latency_bounds_ms[i], stats_latency_bounds_ms[i - 1]);
}

#define NTHREADS 8
#define NINC	 100000

static void *
bump(void *arg)
{
	(void)arg;
	for (int i = 0; i < NINC; i++) {
		stats_decision(1, 3);
		stats_add(STATS_CACHE_MISSES, 1);
		stats_dns_latency(7);
	}
	return NULL;
}

Test(stats, threads)
{
	pthread_t t[NTHREADS];
	struct stats_snapshot s;

	for (int i = 0; i < NTHREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, bump, NULL), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	stats_read(&s);
	cr_assert_eq(s.decisions[1][3], (uint64_t)NTHREADS * NINC);
	cr_assert_eq(s.counter[STATS_CACHE_MISSES], (uint64_t)NTHREADS * NINC);
	cr_assert_eq(s.latency[3], (uint64_t)NTHREADS * NINC); /* 7 ms: <= 10, bucket 3 */
	cr_assert_eq(s.latency_sum_ms, (uint64_t)NTHREADS * NINC * 7);
}

Test(stats, generation)
{
	struct stats_snapshot s;

	stats_read(&s);
	cr_assert_eq(s.generation, 0);
	cr_assert_eq(stats_generation_next(), 1);
	cr_assert_eq(stats_generation_next(), 2);
	stats_read(&s);
	cr_assert_eq(s.generation, 2);
}
