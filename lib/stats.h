/*
 * stats.h - danepol's process-wide counters: plain C11 atomics that every
 * layer increments and danepold exposes (milter/daemon_metrics.c:
 * Prometheus text on metrics_socket, JSON for `danepol stats`; the metric
 * names are in doc/metrics.md).
 *
 * This file knows no policy: a labelled counter is indexed by a small
 * number the caller owns the meaning of (a verdict, a reason code, a
 * front door, an RFC 8460 result type), bounded by the STATS_*_MAX sizes
 * below; an index out of range is not counted (it only bumps
 * STATS_DROPPED, so a missing label shows). The layer that exposes the
 * counters turns indices back into label names from its own fixed
 * tables, so no outside string ever becomes a label.
 *
 * Contract: every function is thread-safe and lock-free (relaxed atomic
 * adds; a reader may see one counter a moment before another). Nothing is
 * allocated. stats_reset() is for tests.
 */
#ifndef DANEPOL_STATS_H
#define DANEPOL_STATS_H

#include <stdint.h>

#define STATS_VERDICT_MAX     8	 /* decisions: verdict index (policy.h enum policy_verdict) */
#define STATS_REASON_MAX      32 /* ... reason index (enum policy_reason) */
#define STATS_DOOR_MAX	      8	 /* connections: front door index (daemon_metrics.h) */
#define STATS_RESULT_MAX      16 /* probe results: result type index (tlsrpt_class.h) */
#define STATS_LATENCY_BUCKETS 12 /* DNS latency histogram buckets, +Inf excluded */
#define STATS_STS_MAX	      4	 /* MTA-STS policy fetches: status index (sts_fetch.h) */

/* Upper bounds (milliseconds, inclusive) of the DNS latency buckets. */
extern const unsigned stats_latency_bounds_ms[STATS_LATENCY_BUCKETS];

/* Unlabelled counters. */
enum stats_counter {
	STATS_CACHE_HITS,	  /* decisions taken from the cache */
	STATS_CACHE_MISSES,	  /* decisions the engine made (cache missed or expired) */
	STATS_DNS_QUERIES,	  /* lookups sent to libunbound */
	STATS_DNS_TIMEOUTS,	  /* lookups without an answer before their deadline */
	STATS_AUDIT_WRITE_ERRORS, /* audit lines not written */
	STATS_RELOADS_OK,	  /* configuration reloads installed */
	STATS_RELOADS_FAILED,	  /* reloads refused (the old configuration stays) */
	STATS_DROPPED,		  /* labelled increments with an index out of range */
	STATS_NCOUNTERS
};

/* A copy of every counter at one moment (each read atomically). */
struct stats_snapshot {
	uint64_t counter[STATS_NCOUNTERS];
	uint64_t decisions[STATS_VERDICT_MAX][STATS_REASON_MAX];
	uint64_t doors[STATS_DOOR_MAX];
	uint64_t probe_results[STATS_RESULT_MAX];
	uint64_t sts_fetches[STATS_STS_MAX];
	uint64_t latency[STATS_LATENCY_BUCKETS + 1]; /* per bucket, not cumulative; last: +Inf */
	uint64_t latency_sum_ms;
	uint64_t latency_count;
	uint64_t generation; /* configuration generation: 0 before the first install */
};

/** Add n to counter c (c out of range: nothing). */
void stats_add(enum stats_counter c, uint64_t n);

/** One decision with this verdict and reason index. */
void stats_decision(unsigned verdict, unsigned reason);

/** One connection accepted on front door door. */
void stats_door(unsigned door);

/** One probed address with result type index result. */
void stats_probe_result(unsigned result);

/** One MTA-STS policy fetch that ended with status index status. */
void stats_sts_fetch(unsigned status);

/** One DNS answer that took ms milliseconds (into the histogram). */
void stats_dns_latency(unsigned ms);

/** A new configuration is installed: the generation goes up by one; returns it. */
uint64_t stats_generation_next(void);

/** Copy every counter into *s. */
void stats_read(struct stats_snapshot *s);

/** Zero every counter (tests only: not while other threads count). */
void stats_reset(void);

#endif
