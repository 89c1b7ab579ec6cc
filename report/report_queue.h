/*
 * report_queue.h - the report delivery queue (RFC 8460 section 5.5: retry
 * for up to 24 hours, with backoff), a table of the outcome store's
 * database. Implemented by report_queue.c.
 *
 * Ownership: struct report_queue_entry owns its strings;
 * report_queue_entry_clear() releases them. Errors come back as -1 with
 * *err (caller frees). One struct report_queue is used by one thread at a
 * time (`danepol report`).
 */
#ifndef DANEPOL_REPORT_QUEUE_H
#define DANEPOL_REPORT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct report_queue;

/* One queued delivery: a report file not yet accepted by any endpoint. */
struct report_queue_entry {
	int64_t id;
	char *path; /* the .json.gz file */
	char *policy_domain;
	char *report_id;
	char *submitter;
	int64_t first_attempt; /* Unix seconds */
	int64_t next_attempt;
	unsigned attempts;
	char *last_error;
};

void report_queue_entry_clear(struct report_queue_entry *e);

/**
 * Open the queue in s's database (store_open() made or updated the table),
 * over a connection of its own: s may be closed before the queue. NULL with
 * *err (caller frees). Close with report_queue_close().
 */
struct report_queue *report_queue_open(struct store *s, char **err);
void report_queue_close(struct report_queue *q);

/**
 * Queue (or re-queue: same path) a report after a failed attempt at now:
 * next attempt after the backoff (5 min doubling, at most 6 h).
 */
int report_queue_add(struct report_queue *q, const struct report_queue_entry *e, int64_t now,
    char **err);

/**
 * Every entry with next_attempt <= now, oldest first, into *v (caller
 * clears each entry and frees *v). 0 or -1.
 */
int report_queue_due(struct report_queue *q, int64_t now, struct report_queue_entry **v, size_t *n,
    char **err);

/** Delete entry id (delivered, or given up). 0 or -1. */
int report_queue_remove(struct report_queue *q, int64_t id, char **err);

/** Record a failed retry of e at now: attempts + 1, next by backoff. 0 or -1. */
int report_queue_failed(struct report_queue *q, const struct report_queue_entry *e, int64_t now,
    const char *why, char **err);

/** Number of queued entries, or -1. */
long report_queue_count(struct report_queue *q, char **err);

/** The backoff after attempt number attempts (>= 1): seconds. */
int64_t report_queue_backoff(unsigned attempts);

#endif
