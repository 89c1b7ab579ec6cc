/*
 * store_backend.h - the outcome store's backends, for store/ only: the
 * SQLite file (store_sqlite.c, the embedded default) and a PostgreSQL
 * database (store_pg.c, `outcome_db = postgresql://...`, shared by
 * several relays). Other layers use store.h and the module headers
 * (stspol.h, seen.h) and never see which backend serves them.
 *
 * store.c owns the struct store, checks every value before it reaches a
 * backend (hostile data is refused at the boundary: valid UTF-8, no
 * control characters, per-field bounds, canonical domain names) and
 * stamps each outcome with the store's relay name. A backend gets checked
 * values only and stores them as they are; what it reads back it bounds
 * (a row longer than STORE_MAX_ROW is a damaged row: an error, not a
 * crash) and hands to store.c, which checks it again.
 *
 * Threads: a backend handle is shared by any number of threads; each
 * backend serialises calls on its connection with a mutex of its own.
 * Callbacks of each/each_domain run with that mutex held. SQLite: they
 * may call add on the same store (recursive mutex) but not add_batch of
 * more than one row. PostgreSQL: they must not call the same store at all
 * (the rows come batch by batch from a cursor inside a transaction on the
 * connection; such a call fails with an error, it does not deadlock);
 * another store, even on the same database, is fine.
 *
 * Errors: -1 with *err (caller frees) "WHERE: reason", where WHERE is the
 * backend's printable name (the file path, or the connection string with
 * its password removed).
 */
#ifndef DANEPOL_STORE_BACKEND_H
#define DANEPOL_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "outcome.h"

struct store;
struct stspol_row;

/* the schema version both backends carry (store_sqlite.c, store_pg.c) */
#define STORE_SCHEMA_VERSION 3
#define STORE_MAX_ROW	     (4 * 1024 * 1024) /* longest row read back (bytes) */

struct store_ops {
	const char *name; /* "sqlite", "postgresql" */
	/* n checked outcomes (relay set), keys NULL or n (each may be NULL), one transaction */
	int (*add_batch)(void *b, const struct tls_outcome *o, const char *const *keys, size_t n,
	    size_t *added, char **err);
	/* outcomes of [from, to), of domain (NULL: all), in time order */
	int (*each)(void *b, int64_t from, int64_t to, const char *domain,
	    int (*fn)(const struct tls_outcome *o, void *arg), void *arg, char **err);
	/* distinct policy domains with outcomes in [from, to), in name order */
	int (*each_domain)(void *b, int64_t from, int64_t to,
	    int (*fn)(const char *domain, void *arg), void *arg, char **err);
	/*
	 * Claims (store.h store_claim()): 1 taken by holder until expires, 0
	 * held by another or done (*by: that holder, caller frees), -1 error.
	 */
	int (*claim)(void *b, const char *kind, const char *key, const char *holder, int64_t now,
	    int64_t expires, char **by, char **err);
	/* done 1: never claimable again; 0: released (claimable at once). Holder's only. */
	int (*claim_finish)(void *b, const char *kind, const char *key, const char *holder,
	    int done, char **err);
	/* stspol.h: one row per domain (checked by stspol.c) */
	int (*stspol_put)(void *b, const struct stspol_row *r, char **err);
	int (*stspol_get)(void *b, const char *domain, struct stspol_row *r, char **err);
	void (*close)(void *b);
};

/** The SQLite backend: open (creating) path. NULL with *err. */
void *store_sqlite_open(const char *path, char **err);
extern const struct store_ops store_sqlite_ops;

/* store_db.c: lock an SQLite handle and return its connection; unlock it */
struct sqlite3;
struct sqlite3 *store_sqlite_lock(void *b);
void store_sqlite_unlock(void *b);

/**
 * The PostgreSQL backend: connect with the libpq connection string
 * conninfo (a postgresql:// URI or key=value pairs), create or migrate the
 * schema. NULL with *err. shown is the printable name for messages.
 */
void *store_pg_open(const char *conninfo, const char *shown, char **err);
extern const struct store_ops store_pg_ops;

/** s's backend (*b its handle). For stspol.c and seen.c. */
const struct store_ops *store_backend(struct store *s, void **b);

/**
 * The store's text check: length of v if it is valid UTF-8 without
 * control characters and at most max bytes, else -1 with *why (a static
 * reason). Any thread, no lock.
 */
long store_text_check(const char *v, size_t max, const char **why);

/** *err = the formatted text (the old *err freed; err NULL: nothing). */
void store_set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * Check an outcome read back from a backend (a damaged or hostile row
 * is an error naming where, never a crash or a wrong report). 0 or -1
 * with *err.
 */
int store_row_check(const struct tls_outcome *o, const char *where, char **err);

#endif
