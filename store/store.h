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

/** Open (creating file and schema if needed) path. NULL with *err. */
struct store *store_open(const char *path, char **err);

/** Close and free. NULL-safe. */
void store_close(struct store *s);

/**
 * The path s was opened with (owned by s, valid until store_close()).
 * Any thread.
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

#endif
