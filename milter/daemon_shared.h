/*
 * daemon_shared.h - danepold's connection to the store it shares with
 * other relays (outcome_db = postgresql://...), for the work they split
 * between them: MTA-STS policy fetches (sts_cache_share()) and probes
 * (daemon_probe.c). Not for outcomes: those go through the write-behind
 * queue, which has a connection of its own.
 *
 * The connection is made lazily, by the first background thread that
 * asks, never by a decision and never at start-up (danepold starts with
 * the database down); after a failure the next attempt is
 * DAEMON_SHARED_RETRY_S later, and meanwhile callers get NULL and do the
 * work themselves: a relay never waits for another.
 *
 * Threads: daemon_shared_start()/stop() from the main thread (before the
 * background threads start, after they stopped); daemon_shared_get() from
 * any background thread (the store is internally locked).
 */
#ifndef DANEPOL_MILTER_DAEMON_SHARED_H
#define DANEPOL_MILTER_DAEMON_SHARED_H

struct conf;
struct store;

#define DAEMON_SHARED_RETRY_S 30

/** Remember c's outcome_db when it is shared (PostgreSQL), its relay_name and timeout. */
void daemon_shared_start(const struct conf *c);

/** Close the connection, forget the spec. */
void daemon_shared_stop(void);

/** 1 when outcome_db is a shared store. */
int daemon_shared_enabled(void);

/**
 * The shared store (owned here, valid until daemon_shared_stop()), or NULL
 * when there is none or it cannot be reached now. The argument is unused
 * (the sts_cache_shared_fn signature).
 */
struct store *daemon_shared_get(void *unused);

#endif
