/*
 * store_pg.c - the outcome store in a PostgreSQL database shared by
 * several relays (store_backend.h: store_pg_open(), store_pg_ops).
 *
 * Connection: libpq, PQconnectdbParams() with expand_dbname, so conninfo
 * is a postgresql:// URI or key=value pairs. Defaults that conninfo may
 * override (it is expanded after them): connect_timeout=5 (seconds),
 * options=-c statement_timeout=5000 (a conninfo that sets options
 * replaces it whole), application_name=danepol, client_encoding=UTF8.
 * Messages name the database by `shown` (store.c: the password removed),
 * never by conninfo.
 *
 * Schema (the same versions as store_sqlite.c: STORE_SCHEMA_VERSION):
 * our own table names in a database other programs may share:
 * danepol_schema_version, outcomes, sts_policies, claims. A database
 * without danepol_schema_version gets the schema; one of version 1 or 2
 * (outcomes without relay, UNIQUE (source, dedupe_key) under PostgreSQL's
 * default name outcomes_source_dedupe_key_key) is migrated; a newer one,
 * or a danepol_schema_version without a row, is refused. All of it in one
 * transaction under pg_advisory_xact_lock(PG_LOCK_KEY), so relays that
 * start together do not race. policy_strings is a JSON array text
 * (jansson), as in SQLite.
 *
 * Writes: add_batch sends its rows as 14 arrays to one prepared INSERT
 * ... SELECT FROM unnest(...) ON CONFLICT (relay, source, dedupe_key) DO
 * NOTHING, PG_CHUNK rows a statement, all chunks in one transaction.
 * Reads (store_pg_read.c): each/each_domain run a NO SCROLL cursor in a
 * transaction and FETCH 1000 rows at a time, so a million rows are never in memory
 * together. Every value read back is bounded (a row longer than
 * STORE_MAX_ROW is sent as NULLs by the server and refused here), decoded
 * without trust (policy_strings a JSON array of strings, result_type a
 * registered name) and checked by store_row_check(): a damaged row is an
 * error naming its id, never a crash.
 *
 * Threads: one PGconn per handle, every call under p->mu (an error-check
 * mutex). Callbacks of each/each_domain run with it held and inside the
 * cursor's transaction: they must not call the same store (such a call
 * fails with an error instead of deadlocking).
 *
 * Lost connections: a call that finds the connection bad, or whose
 * statement failed because the connection broke, calls PQreset() once and
 * runs again (each/each_domain only when no callback has run yet); then
 * it fails. Errors are -1 with *err "SHOWN: reason" (caller frees).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "store_backend.h"
#include "store_pg_int.h"
#include "stspol.h"

#define PG_LOCK_KEY "7237960473839284076" /* "danepol" + 'l': the schema set-up lock */
#define PG_CHUNK    1000		  /* rows an INSERT of add_batch */
#define PG_INSERT   "danepol_ins"	  /* the prepared INSERT's name */
#define PG_NCOLS    14			  /* columns an outcome is written with */

/* ------------------------------------------------------------ errors */

/* "SHOWN: what: message" with libpq's message on one line. -1. */
int
store_pg_fail(struct store_pg *p, const PGresult *r, const char *what, char **err)
{
	const char *m = r ? PQresultErrorMessage(r) : "";
	char *line, *c;
	size_t n;

	if (m == NULL || m[0] == 0)
		m = p->conn ? PQerrorMessage(p->conn) : "out of memory";
	line = xstrdup(m[0] ? m : "unknown error");
	for (c = line; *c; c++)
		if (*c == '\n' || *c == '\r' || *c == '\t')
			*c = ' ';
	n = strlen(line);
	while (n > 0 && line[n - 1] == ' ')
		line[--n] = 0;
	store_set_err(err, "%.300s: %s: %.500s", p->shown, what, line);
	free(line);
	return -1;
}

/** See store_pg_int.h. */
void
store_pg_err_clear(char **err)
{
	if (err != NULL) {
		free(*err);
		*err = NULL;
	}
}

/* ------------------------------------------------------------ connection */

/* Run sql with text parameters; the result when its status is want, else NULL with *err. */
PGresult *
store_pg_query(struct store_pg *p, const char *what, const char *sql, int n, const char *const *v,
    ExecStatusType want, char **err)
{
	PGresult *r =
	    n ? PQexecParams(p->conn, sql, n, NULL, v, NULL, NULL, 0) : PQexec(p->conn, sql);

	if (PQresultStatus(r) == want)
		return r;
	store_pg_fail(p, r, what, err);
	PQclear(r);
	return NULL;
}

/* A statement without rows: 0 or -1 with *err. */
int
store_pg_cmd(struct store_pg *p, const char *what, const char *sql, int n, const char *const *v,
    char **err)
{
	PGresult *r = store_pg_query(p, what, sql, n, v, PGRES_COMMAND_OK, err);

	PQclear(r);
	return r ? 0 : -1;
}

/* End a failed transaction (the connection may be gone: no error). */
void
store_pg_rollback(struct store_pg *p)
{
	if (PQstatus(p->conn) == CONNECTION_OK && PQtransactionStatus(p->conn) != PQTRANS_IDLE)
		PQclear(PQexec(p->conn, "ROLLBACK"));
}

/* See store_pg_int.h. */
int
store_pg_reconnect(struct store_pg *p)
{
	if (PQstatus(p->conn) == CONNECTION_OK || p->reset)
		return 0;
	p->reset = 1; /* once per call */
	PQreset(p->conn);
	p->prepared = 0;
	return PQstatus(p->conn) == CONNECTION_OK;
}

/* Lock p for one call; the connection reset once when bad. 0 or -1 with *err (not locked). */
int
store_pg_lock(struct store_pg *p, char **err)
{
	int rc = pthread_mutex_lock(&p->mu);

	if (rc != 0) {
		store_set_err(err, "%.300s: the store called from one of its own callbacks (%s)",
		    p->shown, rc == EDEADLK ? "not allowed" : "lock failed");
		return -1;
	}
	p->reset = 0;
	if (PQstatus(p->conn) != CONNECTION_OK && !store_pg_reconnect(p)) {
		store_pg_fail(p, NULL, "connection lost", err);
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	store_pg_rollback(p); /* a transaction left open by a broken call */
	return 0;
}

/* ------------------------------------------------------------ schema */

static const char schema_sql[] =
    "CREATE TABLE danepol_schema_version (version integer NOT NULL);"
    "CREATE TABLE outcomes ("
    " id bigserial PRIMARY KEY,"
    " time bigint NOT NULL,"
    " source smallint NOT NULL,"
    " policy_domain text NOT NULL,"
    " have_policy smallint NOT NULL,"
    " policy_strings text NOT NULL DEFAULT '[]',"
    " mx_host text, receiving_ip text, sending_ip text, mx_helo text,"
    " success smallint NOT NULL,"
    " result_type text,"
    " detail text,"
    " dedupe_key text,"
    " relay text NOT NULL DEFAULT '',"
    " CONSTRAINT outcomes_relay_dedupe UNIQUE (relay, source, dedupe_key));";

/* what every database of the current version must hold (idempotent) */
static const char schema_update_sql[] =
    "CREATE INDEX IF NOT EXISTS outcomes_domain_time ON outcomes (policy_domain, time);"
    "CREATE INDEX IF NOT EXISTS outcomes_time ON outcomes (time);"
    "CREATE TABLE IF NOT EXISTS sts_policies ("
    " domain text PRIMARY KEY,"
    " id text NOT NULL,"
    " mode text NOT NULL,"
    " max_age bigint NOT NULL,"
    " mx text NOT NULL,"
    " fetched bigint NOT NULL,"
    " expires bigint NOT NULL);"
    "CREATE TABLE IF NOT EXISTS claims ("
    " kind text NOT NULL,"
    " key text NOT NULL,"
    " holder text NOT NULL,"
    " expires bigint NOT NULL,"
    " done boolean NOT NULL DEFAULT false,"
    " PRIMARY KEY (kind, key));";

/* versions 1 and 2 -> 3: the relay of each outcome, dedupe keys per relay */
static const char migrate_3_sql[] =
    "ALTER TABLE outcomes ADD COLUMN IF NOT EXISTS relay text NOT NULL DEFAULT '';"
    "ALTER TABLE outcomes DROP CONSTRAINT IF EXISTS outcomes_source_dedupe_key_key;"
    "ALTER TABLE outcomes ADD CONSTRAINT outcomes_relay_dedupe"
    " UNIQUE (relay, source, dedupe_key);";

/* The version of an existing schema: 0, or -1 with *err (empty table, newer version). */
static int
schema_check(struct store_pg *p, long *version, char **err)
{
	PGresult *r = store_pg_query(p, "schema version",
	    "SELECT count(*), coalesce(max(version), 0) FROM danepol_schema_version", 0, NULL,
	    PGRES_TUPLES_OK, err);
	int ret = -1;

	if (r == NULL)
		return -1;
	*version = strtol(PQgetvalue(r, 0, 1), NULL, 10);
	if (strtol(PQgetvalue(r, 0, 0), NULL, 10) == 0)
		store_set_err(err,
		    "%.300s: danepol_schema_version holds no version: not a danepol store",
		    p->shown);
	else if (*version < 1 || *version > STORE_SCHEMA_VERSION)
		store_set_err(err, "%.300s: outcome store schema version %ld, this danepol knows %d",
		    p->shown, *version, STORE_SCHEMA_VERSION);
	else
		ret = 0;
	PQclear(r);
	return ret;
}

/* Create, migrate or check the schema in one transaction under the advisory lock. */
static int
schema_setup(struct store_pg *p, char **err)
{
	PGresult *r = NULL;
	long version = STORE_SCHEMA_VERSION;
	char *sql = NULL;
	int exists, ret = -1;

	if (store_pg_cmd(p, "begin", "BEGIN", 0, NULL, err) < 0)
		return -1;
	/* a migration of a large table, or waiting for another relay's, outlasts statement_timeout */
	if (store_pg_cmd(p, "schema", "SET LOCAL statement_timeout = '600s'", 0, NULL, err) < 0)
		goto out;
	r = store_pg_query(p, "schema lock", "SELECT pg_advisory_xact_lock(" PG_LOCK_KEY ")", 0,
	    NULL, PGRES_TUPLES_OK, err);
	if (r == NULL)
		goto out;
	PQclear(r);
	r = store_pg_query(p, "schema", "SELECT to_regclass('danepol_schema_version') IS NOT NULL",
	    0, NULL, PGRES_TUPLES_OK, err);
	if (r == NULL)
		goto out;
	exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	if (!exists && store_pg_cmd(p, "create schema", schema_sql, 0, NULL, err) < 0)
		goto out;
	if (exists && schema_check(p, &version, err) < 0)
		goto out;
	if (version < 3 && store_pg_cmd(p, "migrate to version 3", migrate_3_sql, 0, NULL, err) < 0)
		goto out;
	if (!exists || version < STORE_SCHEMA_VERSION)
		sql = exists ? xasprintf("UPDATE danepol_schema_version SET version = %d",
				   STORE_SCHEMA_VERSION)
			     : xasprintf("INSERT INTO danepol_schema_version (version) VALUES (%d)",
				   STORE_SCHEMA_VERSION);
	if ((sql != NULL && store_pg_cmd(p, "schema version", sql, 0, NULL, err) < 0) ||
	    store_pg_cmd(p, "schema", schema_update_sql, 0, NULL, err) < 0 ||
	    store_pg_cmd(p, "commit", "COMMIT", 0, NULL, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		store_pg_rollback(p);
	PQclear(r);
	free(sql);
	return ret;
}

/* ------------------------------------------------------------ open, close */

static void
pg_close(void *b)
{
	struct store_pg *p = b;

	if (p == NULL)
		return;
	PQfinish(p->conn);
	pthread_mutex_destroy(&p->mu);
	free(p->shown);
	free(p);
}

/* The server's notices ("relation ... already exists, skipping") are not for the log. */
static void
pg_notice(void *arg, const char *message)
{
	(void)arg, (void)message;
}

/** See store_backend.h. */
void *
store_pg_open(const char *conninfo, const char *shown, char **err)
{
	/* the defaults first: the expanded conninfo overrides them */
	const char *const keys[] = { "connect_timeout", "options", "application_name",
		"client_encoding", "dbname", NULL };
	const char *const vals[] = { "5", "-c statement_timeout=5000", "danepol", "UTF8", conninfo,
		NULL };
	struct store_pg *p = xcalloc(1, sizeof(*p));
	pthread_mutexattr_t attr;

	p->shown = xstrdup(shown ? shown : "postgresql");
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&p->mu, &attr);
	pthread_mutexattr_destroy(&attr);
	p->conn = PQconnectdbParams(keys, vals, 1);
	if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
		store_pg_fail(p, NULL, "cannot connect", err);
		goto fail;
	}
	PQsetNoticeProcessor(p->conn, pg_notice, NULL);
	if (schema_setup(p, err) < 0)
		goto fail;
	return p;
fail:
	pg_close(p);
	return NULL;
}

/* ------------------------------------------------------------ writing */

static const char insert_sql[] =
    "INSERT INTO outcomes (time, source, policy_domain, have_policy, policy_strings, mx_host,"
    " receiving_ip, sending_ip, mx_helo, success, result_type, detail, dedupe_key, relay)"
    " SELECT c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14"
    " FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::smallint[], $5::text[],"
    " $6::text[], $7::text[], $8::text[], $9::text[], $10::smallint[], $11::text[],"
    " $12::text[], $13::text[], $14::text[])"
    " WITH ORDINALITY AS u(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, n)"
    " ORDER BY n"
    " ON CONFLICT (relay, source, dedupe_key) DO NOTHING";

/* Append v (NULL: SQL NULL) to the array literal a as one element. */
static void
arr_text(struct buf *a, const char *v)
{
	buf_putc(a, a->len > 1 ? ',' : '{');
	if (v == NULL) {
		buf_puts(a, "NULL");
		return;
	}
	buf_putc(a, '"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			buf_putc(a, '\\');
		buf_putc(a, *v);
	}
	buf_putc(a, '"');
}

static void
arr_int(struct buf *a, int64_t v)
{
	buf_putc(a, a->len > 1 ? ',' : '{');
	buf_printf(a, "%" PRId64, v);
}

/* o's policy strings as a JSON array text (caller frees), NULL when not UTF-8. */
static char *
pstrings_json(const struct tls_outcome *o)
{
	json_t *arr = json_array(), *v;
	char *text = NULL;

	for (size_t i = 0; i < o->npolicy_strings && o->policy_strings != NULL; i++) {
		if (o->policy_strings[i] == NULL)
			continue;
		if ((v = json_string(o->policy_strings[i])) == NULL)
			goto out;
		json_array_append_new(arr, v);
	}
	text = json_dumps(arr, JSON_COMPACT);
out:
	json_decref(arr);
	return text;
}

/* Add outcome o (key: its dedupe key or NULL) to the column arrays a[]. 0 or -1 (not UTF-8). */
static int
arr_outcome(struct buf *a, const struct tls_outcome *o, const char *key)
{
	char *ps = pstrings_json(o);

	if (ps == NULL)
		return -1;
	arr_int(&a[0], o->time);
	arr_int(&a[1], (int64_t)o->source);
	arr_text(&a[2], o->policy_domain);
	arr_int(&a[3], (int64_t)o->policy_type);
	arr_text(&a[4], ps);
	arr_text(&a[5], o->mx_host);
	arr_text(&a[6], o->receiving_ip);
	arr_text(&a[7], o->sending_ip);
	arr_text(&a[8], o->mx_helo);
	arr_int(&a[9], o->success ? 1 : 0);
	arr_text(&a[10], o->success ? NULL : o->result_type);
	arr_text(&a[11], o->detail);
	arr_text(&a[12], key);
	arr_text(&a[13], o->relay ? o->relay : "");
	free(ps);
	return 0;
}

/* Insert o[0..n-1] with one statement; *added += rows added. 0 or -1 with *err. */
static int
insert_chunk(struct store_pg *p, const struct tls_outcome *o, const char *const *keys, size_t n,
    size_t *added, char **err)
{
	struct buf a[PG_NCOLS];
	const char *vals[PG_NCOLS];
	PGresult *r = NULL;
	int ret = -1;

	for (int c = 0; c < PG_NCOLS; c++)
		buf_init(&a[c]);
	for (size_t i = 0; i < n; i++)
		if (arr_outcome(a, &o[i], keys ? keys[i] : NULL) < 0) {
			store_set_err(err, "%.300s: outcome %zu: a policy string is not UTF-8",
			    p->shown, i);
			goto out;
		}
	for (int c = 0; c < PG_NCOLS; c++) {
		buf_puts(&a[c], a[c].len ? "}" : "{}");
		vals[c] = a[c].s;
	}
	r = PQexecPrepared(p->conn, PG_INSERT, PG_NCOLS, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		store_pg_fail(p, r, "insert", err);
		goto out;
	}
	*added += (size_t)strtoull(PQcmdTuples(r), NULL, 10);
	ret = 0;
out:
	PQclear(r);
	for (int c = 0; c < PG_NCOLS; c++)
		buf_free(&a[c]);
	return ret;
}

/* One attempt of add_batch: prepare when needed, all chunks in one transaction. */
static int
add_once(struct store_pg *p, const struct tls_outcome *o, const char *const *keys, size_t n,
    size_t *added, char **err)
{
	PGresult *r;
	size_t i, k;

	*added = 0;
	if (!p->prepared) {
		r = PQprepare(p->conn, PG_INSERT, insert_sql, PG_NCOLS, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			store_pg_fail(p, r, "prepare insert", err);
			PQclear(r);
			return -1;
		}
		PQclear(r);
		p->prepared = 1;
	}
	if (n > PG_CHUNK && store_pg_cmd(p, "begin", "BEGIN", 0, NULL, err) < 0)
		return -1;
	for (i = 0; i < n; i += k) {
		k = n - i < PG_CHUNK ? n - i : PG_CHUNK;
		if (insert_chunk(p, o + i, keys ? keys + i : NULL, k, added, err) < 0)
			goto fail;
	}
	if (n > PG_CHUNK && store_pg_cmd(p, "commit", "COMMIT", 0, NULL, err) < 0)
		goto fail;
	return 0;
fail:
	*added = 0;
	store_pg_rollback(p);
	return -1;
}

static int
pg_add_batch(void *b, const struct tls_outcome *o, const char *const *keys, size_t n, size_t *added,
    char **err)
{
	struct store_pg *p = b;
	size_t count = 0;
	int ret;

	if (store_pg_lock(p, err) < 0)
		return -1;
	ret = add_once(p, o, keys, n, &count, err);
	if (ret < 0 && store_pg_reconnect(p))
		ret = add_once(p, o, keys, n, &count, err);
	pthread_mutex_unlock(&p->mu);
	if (ret == 0 && added != NULL)
		*added = count;
	return ret;
}

/* ------------------------------------------------------------ claims */

static const char claim_sql[] =
    "INSERT INTO claims (kind, key, holder, expires) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (kind, key) DO UPDATE SET holder = EXCLUDED.holder,"
    " expires = EXCLUDED.expires WHERE NOT claims.done"
    " AND (claims.expires <= $5 OR claims.holder = EXCLUDED.holder)"
    " RETURNING holder";

/* v: kind, key, holder, expires, now. 1 taken, 0 held (*by), -1 with *err. */
static int
claim_once(struct store_pg *p, const char *const *v, char **by, char **err)
{
	PGresult *r;

	for (int tries = 0; tries < 3; tries++) {
		if ((r = store_pg_query(p, "claim", claim_sql, 5, v, PGRES_TUPLES_OK, err)) == NULL)
			return -1;
		if (PQntuples(r) > 0)
			return PQclear(r), 1;
		PQclear(r);
		r = store_pg_query(p, "claim",
		    "SELECT holder FROM claims WHERE kind = $1 AND key = $2", 2, v, PGRES_TUPLES_OK,
		    err);
		if (r == NULL)
			return -1;
		if (PQntuples(r) > 0) {
			if (by != NULL)
				*by = xstrndup(PQgetvalue(r, 0, 0), 1024);
			return PQclear(r), 0;
		}
		PQclear(r); /* released between the two: again */
	}
	store_set_err(err, "%.300s: claim %.64s: taken and released too often to tell", p->shown,
	    v[0]);
	return -1;
}

static int
pg_claim(void *b, const char *kind, const char *key, const char *holder, int64_t now,
    int64_t expires, char **by, char **err)
{
	struct store_pg *p = b;
	char e[24], n[24];
	const char *const v[] = { kind, key, holder, e, n };
	int ret;

	snprintf(e, sizeof(e), "%" PRId64, expires);
	snprintf(n, sizeof(n), "%" PRId64, now);
	if (store_pg_lock(p, err) < 0)
		return -1;
	ret = claim_once(p, v, by, err);
	if (ret < 0 && store_pg_reconnect(p)) {
		store_pg_err_clear(err);
		ret = claim_once(p, v, by, err);
	}
	pthread_mutex_unlock(&p->mu);
	return ret;
}

/* One statement with text parameters under the lock, again after a reset. 0 or -1. */
static int
pg_run(struct store_pg *p, const char *what, const char *sql, int n, const char *const *v,
    char **err)
{
	int ret;

	if (store_pg_lock(p, err) < 0)
		return -1;
	ret = store_pg_cmd(p, what, sql, n, v, err);
	if (ret < 0 && store_pg_reconnect(p)) {
		store_pg_err_clear(err);
		ret = store_pg_cmd(p, what, sql, n, v, err);
	}
	pthread_mutex_unlock(&p->mu);
	return ret;
}

static int
pg_claim_finish(void *b, const char *kind, const char *key, const char *holder, int done,
    char **err)
{
	const char *const v[] = { kind, key, holder };

	return pg_run(b, "claim finish",
	    done ? "UPDATE claims SET done = true WHERE kind = $1 AND key = $2 AND holder = $3"
		 : "DELETE FROM claims WHERE kind = $1 AND key = $2 AND holder = $3 AND NOT done",
	    3, v, err);
}

/* ------------------------------------------------------------ sts_policies */

static int
pg_stspol_put(void *b, const struct stspol_row *r, char **err)
{
	char age[24], f[24], e[24];
	const char *const v[] = { r->domain, r->id, r->mode, age, r->mx, f, e };

	snprintf(age, sizeof(age), "%" PRId64, r->max_age);
	snprintf(f, sizeof(f), "%" PRId64, r->fetched);
	snprintf(e, sizeof(e), "%" PRId64, r->expires);
	return pg_run(b, "sts_policies",
	    "INSERT INTO sts_policies (domain, id, mode, max_age, mx, fetched, expires)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (domain) DO UPDATE SET"
	    " id = EXCLUDED.id, mode = EXCLUDED.mode, max_age = EXCLUDED.max_age,"
	    " mx = EXCLUDED.mx, fetched = EXCLUDED.fetched, expires = EXCLUDED.expires",
	    7, v, err);
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.add_batch = pg_add_batch,
	.each = store_pg_read_each,
	.each_domain = store_pg_read_each_domain,
	.claim = pg_claim,
	.claim_finish = pg_claim_finish,
	.stspol_put = pg_stspol_put,
	.stspol_get = store_pg_read_stspol,
	.close = pg_close,
};
