/*
 * stats.c - the process-wide counters (contract in stats.h): one static
 * block of C11 atomics, incremented with relaxed fetch-adds. Counters
 * need no ordering among each other; a scrape is a sum of independent
 * reads.
 */
#include "config.h"

#include <stdatomic.h>
#include <string.h>

#include "stats.h"

const unsigned stats_latency_bounds_ms[STATS_LATENCY_BUCKETS] = { 1, 2, 5, 10, 25, 50, 100, 250,
	500, 1000, 2500, 5000 };

static struct {
	_Atomic uint64_t counter[STATS_NCOUNTERS];
	_Atomic uint64_t decisions[STATS_VERDICT_MAX][STATS_REASON_MAX];
	_Atomic uint64_t doors[STATS_DOOR_MAX];
	_Atomic uint64_t probe_results[STATS_RESULT_MAX];
	_Atomic uint64_t sts_fetches[STATS_STS_MAX];
	_Atomic uint64_t latency[STATS_LATENCY_BUCKETS + 1];
	_Atomic uint64_t latency_sum_ms;
	_Atomic uint64_t latency_count;
	_Atomic uint64_t generation;
} st;

static void
inc(_Atomic uint64_t *p, uint64_t n)
{
	atomic_fetch_add_explicit(p, n, memory_order_relaxed);
}

static uint64_t
get(_Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

void
stats_add(enum stats_counter c, uint64_t n)
{
	if ((unsigned)c < STATS_NCOUNTERS)
		inc(&st.counter[c], n);
}

void
stats_decision(unsigned verdict, unsigned reason)
{
	if (verdict < STATS_VERDICT_MAX && reason < STATS_REASON_MAX)
		inc(&st.decisions[verdict][reason], 1);
	else
		inc(&st.counter[STATS_DROPPED], 1);
}

void
stats_door(unsigned door)
{
	if (door < STATS_DOOR_MAX)
		inc(&st.doors[door], 1);
	else
		inc(&st.counter[STATS_DROPPED], 1);
}

void
stats_probe_result(unsigned result)
{
	if (result < STATS_RESULT_MAX)
		inc(&st.probe_results[result], 1);
	else
		inc(&st.counter[STATS_DROPPED], 1);
}

void
stats_sts_fetch(unsigned status)
{
	if (status < STATS_STS_MAX)
		inc(&st.sts_fetches[status], 1);
	else
		inc(&st.counter[STATS_DROPPED], 1);
}

void
stats_dns_latency(unsigned ms)
{
	unsigned i = 0;

	while (i < STATS_LATENCY_BUCKETS && ms > stats_latency_bounds_ms[i])
		i++;
	inc(&st.latency[i], 1);
	inc(&st.latency_sum_ms, ms);
	inc(&st.latency_count, 1);
}

uint64_t
stats_generation_next(void)
{
	return atomic_fetch_add_explicit(&st.generation, 1, memory_order_relaxed) + 1;
}

void
stats_read(struct stats_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < STATS_NCOUNTERS; i++)
		s->counter[i] = get(&st.counter[i]);
	for (unsigned v = 0; v < STATS_VERDICT_MAX; v++)
		for (unsigned r = 0; r < STATS_REASON_MAX; r++)
			s->decisions[v][r] = get(&st.decisions[v][r]);
	for (unsigned i = 0; i < STATS_DOOR_MAX; i++)
		s->doors[i] = get(&st.doors[i]);
	for (unsigned i = 0; i < STATS_RESULT_MAX; i++)
		s->probe_results[i] = get(&st.probe_results[i]);
	for (unsigned i = 0; i < STATS_STS_MAX; i++)
		s->sts_fetches[i] = get(&st.sts_fetches[i]);
	for (unsigned i = 0; i <= STATS_LATENCY_BUCKETS; i++)
		s->latency[i] = get(&st.latency[i]);
	s->latency_sum_ms = get(&st.latency_sum_ms);
	s->latency_count = get(&st.latency_count);
	s->generation = get(&st.generation);
}

void
stats_reset(void)
{
	for (unsigned i = 0; i < STATS_NCOUNTERS; i++)
		atomic_store(&st.counter[i], 0);
	for (unsigned v = 0; v < STATS_VERDICT_MAX; v++)
		for (unsigned r = 0; r < STATS_REASON_MAX; r++)
			atomic_store(&st.decisions[v][r], 0);
	for (unsigned i = 0; i < STATS_DOOR_MAX; i++)
		atomic_store(&st.doors[i], 0);
	for (unsigned i = 0; i < STATS_RESULT_MAX; i++)
		atomic_store(&st.probe_results[i], 0);
	for (unsigned i = 0; i < STATS_STS_MAX; i++)
		atomic_store(&st.sts_fetches[i], 0);
	for (unsigned i = 0; i <= STATS_LATENCY_BUCKETS; i++)
		atomic_store(&st.latency[i], 0);
	atomic_store(&st.latency_sum_ms, 0);
	atomic_store(&st.latency_count, 0);
	atomic_store(&st.generation, 0);
}
