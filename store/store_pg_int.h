/*
 * store_pg_int.h - the PostgreSQL backend's own header, for its two files
 * only: store_pg.c (connection, schema, writes, claims, sts_policies
 * writes, store_pg_ops) and store_pg_read.c (each, each_domain through a
 * cursor, sts_policies reads). Contract, threads and errors: store_pg.c's
 * head comment.
 */
#ifndef DANEPOL_STORE_PG_INT_H
#define DANEPOL_STORE_PG_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdint.h>

#include "outcome.h"

struct stspol_row;

/* one backend handle: one connection */
struct store_pg {
	PGconn *conn;
	pthread_mutex_t mu; /* PTHREAD_MUTEX_ERRORCHECK */
	char *shown;	    /* the database's printable name */
	int prepared;	    /* the INSERT of add_batch is prepared on conn */
	int reset;	    /* PQreset() done in the current call */
};

/* free *err and set it NULL (err may be NULL) */
void store_pg_err_clear(char **err);

/* *err "SHOWN: what: libpq's message of r (or of the connection)", on one line. -1. */
int store_pg_fail(struct store_pg *p, const PGresult *r, const char *what, char **err);

/*
 * Run sql (n text parameters v; n 0: the simple protocol, several
 * statements allowed): the result when its status is want (caller
 * PQclear()s), else NULL with *err.
 */
PGresult *store_pg_query(struct store_pg *p, const char *what, const char *sql, int n,
    const char *const *v, ExecStatusType want, char **err);

/* store_pg_query() of a statement without rows: 0 or -1 with *err. */
int store_pg_cmd(struct store_pg *p, const char *what, const char *sql, int n, const char *const *v,
    char **err);

/* Roll back an open transaction, if any (no error: the connection may be gone). */
void store_pg_rollback(struct store_pg *p);

/*
 * When the connection is bad and this call (store_pg_lock()) has not reset
 * it yet: PQreset(); 1 when it is good again (run the call again), else 0.
 */
int store_pg_reconnect(struct store_pg *p);

/*
 * Lock p for one call (the connection reset once when bad, a transaction
 * left open rolled back). 0, or -1 with *err and not locked (also when
 * called from a callback of the same handle).
 */
int store_pg_lock(struct store_pg *p, char **err);

/* store_pg_ops' each, each_domain and stspol_get (store_backend.h) */
int store_pg_read_each(void *b, int64_t from, int64_t to, const char *domain,
    int (*fn)(const struct tls_outcome *o, void *arg), void *arg, char **err);
int store_pg_read_each_domain(void *b, int64_t from, int64_t to,
    int (*fn)(const char *domain, void *arg), void *arg, char **err);
int store_pg_read_stspol(void *b, const char *domain, struct stspol_row *r, char **err);

#endif
