/*
 * store_queue.h - a bounded write-behind queue in front of the outcome
 * store (store.h), so that whoever produces TLS outcomes (danepold's
 * probes, Exim event lines, failed MTA-STS fetches) never waits for the
 * database: outcomes are copied into memory, up to a bound, and one
 * writer thread of the queue writes them in batches when the database is
 * reachable, reconnecting with backoff when it is not.
 *
 * Nothing is lost silently: an outcome that finds the queue full is
 * dropped and counted (and logged, rate-limited); one the store refuses
 * as invalid is dropped and counted as rejected (and logged); what is
 * still held when the queue is freed is logged and counted as dropped.
 *
 * Ownership: the queue owns its copies of the outcomes, its store
 * connection (opened by the writer thread) and its thread. Threads:
 * store_queue_add() and store_queue_stats() from any thread;
 * store_queue_new() and store_queue_free() by the owner, once each.
 */
#ifndef DANEPOL_STORE_QUEUE_H
#define DANEPOL_STORE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "outcome.h"

struct store_queue;

struct store_queue_stats {
	uint64_t queued;   /* outcomes held now (waiting or being written) */
	uint64_t written;  /* outcomes written to the store */
	uint64_t dropped;  /* dropped: the queue was full, or still held at free */
	uint64_t rejected; /* refused by a reachable store as invalid */
	int connected;	   /* 1: the store is open and its last write worked (or, before
			    * the first write, its first opening did) */
	uint64_t max;	   /* the bound */
};

/**
 * A queue of at most max outcomes in front of the store spec (as
 * store_open() takes it), its writer thread started. The database need
 * not be reachable: the writer opens it, and retries with backoff (1 s
 * doubling to 30 s) while it cannot, logging each change of state once.
 * relay: the relay name outcomes are kept under (NULL: the store's
 * default, the host name). NULL with *err (caller frees) only when the
 * thread cannot start. Free with store_queue_free().
 */
struct store_queue *store_queue_new(const char *spec, const char *relay, size_t max, char **err);

/**
 * Tests: the reconnect backoff, from min_ms doubling to max_ms (defaults
 * 1000 and 30000). Call before any outcome is added.
 */
void store_queue_set_backoff(struct store_queue *q, unsigned min_ms, unsigned max_ms);

/**
 * Queue a copy of o (outcome_copy()). Never waits for I/O (only for the
 * queue's mutex). 0 queued, or -1 dropped: q already holds max outcomes
 * (counted; logged for the first drop, then at most one line per 10 s
 * with the number dropped since). Any thread.
 */
int store_queue_add(struct store_queue *q, const struct tls_outcome *o);

/** The counters now into *st. Any thread. */
void store_queue_stats(const struct store_queue *q, struct store_queue_stats *st);

/**
 * Stop the writer after it tried for at most flush_ms (from now) to write
 * what is held; what is still held then is logged ("N outcomes not
 * written") and counted as dropped. Closes the store and frees q.
 * NULL-safe. A store_open() or a write in flight finishes first.
 */
void store_queue_free(struct store_queue *q, unsigned flush_ms);

#endif
