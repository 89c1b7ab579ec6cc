/*
 * daemon_store.h - danepold's outcome store: the one write-behind queue
 * every producer of TLS outcomes writes through (background probes,
 * Exim event lines, failed MTA-STS fetches), so that no front door waits
 * for the database, and a connection for the reads some of them make
 * (daemon_store.c has the details).
 */
#ifndef DANEPOL_MILTER_DAEMON_STORE_H
#define DANEPOL_MILTER_DAEMON_STORE_H

#include "conf.h"
#include "outcome.h"
#include "store.h"
#include "store_queue.h"

/**
 * Make the outcome queue (outcome_db, when probe = yes, exim_socket or
 * sts = yes is set: the features that write outcomes), and open the read
 * connection of an SQLite outcome_db. Call once, after dropping
 * privileges, before the front doors start. The database need not be
 * reachable; but when probe = yes or exim_socket is configured, an SQLite
 * outcome_db this user can never open (store_access()) is an error. 0, or
 * -1 after logging ("outcome_db PATH: reason; what to do").
 */
int daemon_store_start(const struct conf *c);

/**
 * danepold -n: the start-up check of daemon_store_start() (store_access()
 * of an SQLite outcome_db, as the calling user, nothing created; a
 * PostgreSQL outcome_db is not checked). 0, or -1 after logging.
 * Thread-safe.
 */
int daemon_store_check(const struct conf *c);

/**
 * Queue a copy of o for the store; never waits for the database. A no-op
 * without a queue (outcome_db = none, or no feature writes outcomes).
 * Dropped when the queue is full (counted, logged). Any thread.
 */
void daemon_store_add(const struct tls_outcome *o);

/** The queue's counters into *st: 0, or -1 (*st zeroed) without a queue. Any thread. */
int daemon_store_stats(struct store_queue_stats *st);

/**
 * The read connection (the rollover history of the self-check, the
 * MTA-STS policy kept for an Exim outcome), or NULL: none configured, or
 * not open. A PostgreSQL one is opened at the first call, and again at
 * most every 30 s while it cannot be: the call then waits for the
 * connection attempt (outcome_db_timeout). Any thread; owned here.
 */
struct store *daemon_store_reader(void);

/** Write what is held (at most a few seconds), free the queue, close the store. */
void daemon_store_stop(void);

#endif
