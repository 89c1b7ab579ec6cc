/*
 * store.h - the outcome store: TLS validation outcomes from every source
 * in one SQLite database (WAL mode, synchronous=NORMAL: crash-safe, no
 * lost committed row), plus the report delivery queue of `danepol report`.
 *
 * The schema (versioned, created or brought up to date by store_open())
 * holds three tables: outcomes, written and read here; report_queue,
 * whose rows report/report_queue.c reads and writes through a connection
 * of its own to store_path() (report_queue.h); and seen, the history of
 * seen.h (store/seen.c, over this connection: store_db.h). Nothing else
 * creates tables in the file.
 *
 * One struct store is one database connection guarded by a mutex, so any
 * number of threads may share it (danepold's probe workers and the Exim
 * socket). Several processes may open the same file (danepold writes,
 * `danepol report` reads): SQLite's locking with a busy timeout.
 * Every function reports errors through *err (caller frees) and never
 * aborts on bad data.
 */
#ifndef DANEPOL_STORE_H
#define DANEPOL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "outcome.h"

struct store;

/**
 * Open spec: a PostgreSQL database when spec is a libpq URI
 * ("postgresql://..." or "postgres://...", store_spec_is_pg()), else the
 * SQLite file at path spec (created with its schema when missing). The
 * schema is created or migrated (the same versions for both). The relay
 * name starts as the host name (store_set_relay()). NULL with *err.
 */
struct store *store_open(const char *spec, char **err);

/**
 * store_open() with a bound on a PostgreSQL connect and on each statement
 * (timeout_ms; added to the URI as connect_timeout and statement_timeout
 * unless it sets them itself). store_open() is this with 5 s. The SQLite
 * file has its own busy wait (10 s) and ignores timeout_ms.
 */
struct store *store_open_bounded(const char *spec, unsigned timeout_ms, char **err);

/** 1 when spec names a PostgreSQL database (a libpq URI), else 0. */
int store_spec_is_pg(const char *spec);

/**
 * The SQLite file of what stays one relay's own (the report delivery
 * queue, the MTA-STS policies danepold applies, the rollover history):
 * outcome_db itself when that is an SQLite file; with a PostgreSQL
 * outcome_db, local_db, or when that is NULL DANEPOL_STATE_DIR
 * "/local.db". NULL when outcome_db is NULL (none). Static or the
 * arguments: nothing to free.
 */
const char *store_local_path(const char *outcome_db, const char *local_db);

/**
 * The name outcomes added through s are kept under (conf relay_name;
 * default the host name): copied. Call before the store is shared
 * between threads.
 */
void store_set_relay(struct store *s, const char *relay);

/** s's relay name (owned by s). Any thread. */
const char *store_relay(const struct store *s);

/** "sqlite" or "postgresql". */
const char *store_kind(const struct store *s);

/** Close and free. NULL-safe. */
void store_close(struct store *s);

/**
 * The path s was opened with, or for PostgreSQL the connection string
 * with any password replaced by "***" (owned by s, valid until
 * store_close()). Any thread.
 */
const char *store_path(const struct store *s);

/**
 * Can this process open path as store_open() would, without creating or
 * opening anything? The file (and its -wal, -shm companions, when they
 * exist) must be readable and writable, or, when it does not exist yet,
 * its directory writable and searchable (access(2): the real user, and a
 * read-only mount counts). 0, or -1 with *err "PATH: reason" (caller
 * frees). Thread-safe.
 */
int store_access(const char *path, char **err);

/** Append one outcome (copied). 0, or -1 with *err. */
int store_add(struct store *s, const struct tls_outcome *o, char **err);

/**
 * Append one outcome unless one of the same source with the same
 * dedupe_key is already stored (the Postfix log reader keys each outcome
 * by its log line, so re-reading a log does not count twice). dedupe_key
 * NULL: no dedupe, like store_add(). Returns 1 added, 0 duplicate
 * (nothing written), -1 with *err.
 */
int store_add_keyed(struct store *s, const struct tls_outcome *o, const char *dedupe_key,
    char **err);

/**
 * Append n outcomes o[0..n-1] in one transaction (all or none). keys is
 * NULL or n dedupe keys (each may be NULL), as in store_add_keyed().
 * *added (may be NULL) gets the number of new rows. 0, or -1 with *err.
 */
int store_add_batch(struct store *s, const struct tls_outcome *o, const char *const *keys, size_t n,
    size_t *added, char **err);

/**
 * Call fn for every outcome with from <= time < to (Unix seconds), of
 * policy_domain (NULL: all), in time order. fn returns 0 to go on, non-0
 * to stop (that value is returned). The outcome passed to fn is valid for
 * the call only. Returns 0, fn's non-0 value, or -1 with *err.
 */
int store_each(struct store *s, int64_t from, int64_t to, const char *policy_domain,
    int (*fn)(const struct tls_outcome *o, void *arg), void *arg, char **err);

/**
 * Policy domains with at least one outcome in [from, to), each passed to
 * fn (same conventions as store_each).
 */
int store_each_domain(struct store *s, int64_t from, int64_t to,
    int (*fn)(const char *policy_domain, void *arg), void *arg, char **err);

/**
 * Expiry-based claims on shared work, so that of several relays sharing a
 * database exactly one does a job (sends the report of a domain and day,
 * probes a destination, fetches a policy): claim (kind, key) for s's relay
 * until now + lease_s. 1: taken (no claim existed, the old one expired
 * without being finished, or s's relay already held it: renewed); 0: held
 * by another relay until it expires, or finished as done (*by, when by
 * is not NULL, gets that relay's name; caller frees); -1 with *err.
 * kind and key: printable text, at most 64 and 1024 bytes.
 */
int store_claim(struct store *s, const char *kind, const char *key, int64_t now, int64_t lease_s,
    char **by, char **err);

/**
 * Finish s's relay's claim on (kind, key): done 1 keeps it forever (the
 * work is done: a later store_claim() gets 0), done 0 releases it (the
 * work failed: claimable again at once). A claim held by another relay is
 * left alone. 0 or -1 with *err.
 */
int store_claim_finish(struct store *s, const char *kind, const char *key, int done, char **err);

#endif
