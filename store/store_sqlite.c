/*
 * store_sqlite.c - the outcome store's SQLite backend (store_backend.h),
 * the embedded default: one file, nothing else to run.
 *
 * Database: WAL journal, synchronous=NORMAL (a committed transaction
 * survives a process crash; at most the last transactions before a power
 * loss can be lost, never the database), busy_timeout SQ_BUSY_MS so
 * that several processes (danepold writing, `danepol report` reading)
 * wait for each other instead of failing. PRAGMA application_id marks the
 * file as ours; the table schema_version holds the schema's version, and
 * a file that is an SQLite database of something else, a newer schema or
 * not a database at all is refused with a clear *err.
 *
 * Table outcomes: one row per outcome; policy_strings as a JSON array
 * text (jansson); dedupe_key (NULL for none) unique per source, so the
 * same Postfix log line ingested twice is one row (store_add_keyed());
 * relay: the relay that saw it. Index (policy_domain, time) serves report
 * building, (time) the range scans over all domains.
 *
 * Table report_queue: the report delivery queue of `danepol report`
 * (report/report_queue.c reads and writes it over a connection of its
 * own). It is part of the schema: created with a new file, and created
 * in an existing file that lacks it (a store made before the queue joined
 * the schema). Its definition is the one report_queue.c used to create on
 * its own, so a file where that code made it is already complete.
 *
 * Table seen: since when an item (a published TLSA record, a served key)
 * has been seen without a break at an owner (store/seen.c over this
 * connection, store_db.h), for `danepol rollover`. Table sts_policies:
 * stspol.h. Table claims: store_claim(). Like report_queue they are added
 * by schema_update_sql: new tables that older binaries never read, so
 * adding them changed no version.
 *
 * Schema versions: schema_setup() creates the current schema in an empty
 * file, migrates an older file step by step (migrations[], inside the
 * same IMMEDIATE transaction: all steps or none), brings it up to date
 * (schema_update_sql, idempotent), and refuses a newer version. A change
 * that older binaries cannot read bumps STORE_SCHEMA_VERSION (in
 * store_backend.h: PostgreSQL carries the same numbers) and adds its step
 * to migrations[]. Versions:
 *   1  outcomes.have_policy 0 (no-policy-found) or 1 (tlsa)
 *   2  outcomes.have_policy also 2 (sts: policy_strings are the MTA-STS
 *      policy's lines). No table changes; the version keeps a binary of
 *      version 1, which would read 2 as a DANE policy, from such a file.
 *   3  outcomes.relay (the relay that saw the outcome; NULL in rows
 *      written before: they are this relay's).
 *
 * Rows read back are bounded by SQLITE_LIMIT_LENGTH (STORE_MAX_ROW) and
 * checked by store_row_check(): a damaged row is an error, not a report.
 *
 * Threads: one connection per handle, every call under q->mu (a
 * recursive mutex, so an each() callback may call add_batch() of one row
 * or a nested each() on the same store; not a batch of its own, which
 * needs its own transaction).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mem.h"
#include "store_backend.h"
#include "store_db.h"
#include "stspol.h"

#define SQ_APP_ID  0x64616e65 /* "dane" */
#define SQ_BUSY_MS 10000
#define SQ_MODE	   0640 /* a new database: its owner writes, its group reads */

struct sq {
	sqlite3 *db;
	sqlite3_stmt *ins;  /* prepared INSERT, reused under mu */
	pthread_mutex_t mu; /* recursive */
	char *path;
};

static const char schema_sql[] =
    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
    "CREATE TABLE outcomes ("
    " id INTEGER PRIMARY KEY,"
    " time INTEGER NOT NULL,"
    " source INTEGER NOT NULL,"
    " policy_domain TEXT NOT NULL,"
    " have_policy INTEGER NOT NULL,"
    " policy_strings TEXT NOT NULL DEFAULT '[]',"
    " mx_host TEXT, receiving_ip TEXT, sending_ip TEXT, mx_helo TEXT,"
    " success INTEGER NOT NULL,"
    " result_type TEXT,"
    " detail TEXT,"
    " dedupe_key TEXT,"
    " relay TEXT,"
    " UNIQUE (source, dedupe_key));"
    "CREATE INDEX outcomes_domain_time ON outcomes (policy_domain, time);"
    "CREATE INDEX outcomes_time ON outcomes (time);";

/*
 * Run with every open, after schema_sql or on an existing file of
 * STORE_SCHEMA_VERSION: what a file of this version may lack. The
 * report_queue definition must stay as report_queue.c created it before
 * (files made that way hold it already).
 */
static const char schema_update_sql[] =
    "CREATE TABLE IF NOT EXISTS report_queue ("
    " id INTEGER PRIMARY KEY,"
    " path TEXT NOT NULL UNIQUE,"
    " policy_domain TEXT NOT NULL,"
    " report_id TEXT NOT NULL,"
    " submitter TEXT NOT NULL,"
    " first_attempt INTEGER NOT NULL,"
    " next_attempt INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL,"
    " last_error TEXT);"
    "CREATE INDEX IF NOT EXISTS report_queue_next ON report_queue(next_attempt);"
    "CREATE TABLE IF NOT EXISTS seen ("
    " kind TEXT NOT NULL,"
    " owner TEXT NOT NULL,"
    " item TEXT NOT NULL,"
    " first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL,"
    " PRIMARY KEY (kind, owner, item));"
    "CREATE TABLE IF NOT EXISTS sts_policies ("
    " domain TEXT PRIMARY KEY,"
    " id TEXT NOT NULL,"
    " mode TEXT NOT NULL,"
    " max_age INTEGER NOT NULL,"
    " mx TEXT NOT NULL,"
    " fetched INTEGER NOT NULL,"
    " expires INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS claims ("
    " kind TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " holder TEXT NOT NULL,"
    " expires INTEGER NOT NULL,"
    " done INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (kind, key));";

/* migrations[v - 1]: from version v to v + 1 (run in order, in one transaction) */
static const char *const migrations[STORE_SCHEMA_VERSION - 1] = {
	/* 1 -> 2: sts outcomes (have_policy 2) */
	"UPDATE schema_version SET version = 2",
	/* 2 -> 3: the relay of each outcome */
	"ALTER TABLE outcomes ADD COLUMN relay TEXT;"
	"UPDATE schema_version SET version = 3",
};

static const char insert_sql[] =
    "INSERT INTO outcomes (time, source, policy_domain, have_policy, policy_strings,"
    " mx_host, receiving_ip, sending_ip, mx_helo, success, result_type, detail, dedupe_key, relay)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    " ON CONFLICT (source, dedupe_key) DO NOTHING";

static const char select_cols[] =
    "SELECT time, source, policy_domain, have_policy, policy_strings, mx_host,"
    " receiving_ip, sending_ip, mx_helo, success, result_type, detail, relay, id"
    " FROM outcomes";

/* ------------------------------------------------------------ errors */


static int
db_fail(struct sq *s, const char *what, char **err)
{
	store_set_err(err, "%.200s: %s: %.300s", s->path, what, sqlite3_errmsg(s->db));
	return -1;
}

/* ------------------------------------------------------------ open */

static int
exec(struct sq *s, const char *sql, char **err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, sql, err);
	return 0;
}

/* Single integer result of sql, or -1 with *err. *val unchanged if no row. */
static int
query_int(struct sq *s, const char *sql, int64_t *val, char **err)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(s, sql, err);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*val = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE) {
		db_fail(s, sql, err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* WAL mode; the first statement that reads the file: detects non-databases. */
static int
set_wal(struct sq *s, char **err)
{
	sqlite3_stmt *st = NULL;
	const char *mode;
	int rc, ret = -1;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT) {
		store_set_err(err, "%.200s: not a usable SQLite database (%.200s)", s->path,
		    sqlite3_errmsg(s->db));
		goto out;
	}
	if (rc != SQLITE_ROW) {
		db_fail(s, "PRAGMA journal_mode=WAL", err);
		goto out;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		store_set_err(err, "%.200s: cannot use WAL journal mode (got %.20s)", s->path,
		    mode ? mode : "nothing");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Create or check the schema, inside one IMMEDIATE transaction. */
static int
schema_setup(struct sq *s, char **err)
{
	int64_t app_id = 0, has_version = 0, nobjects = 0, version = 0;
	char *sql = NULL;

	if (exec(s, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (query_int(s, "PRAGMA application_id", &app_id, err) < 0 ||
	    query_int(s, "SELECT count(*) FROM sqlite_master", &nobjects, err) < 0 ||
	    query_int(s,
		"SELECT count(*) FROM sqlite_master WHERE type = 'table'"
		" AND name = 'schema_version'",
		&has_version, err) < 0)
		goto fail;
	if (nobjects == 0 && app_id == 0) {
		sql = xasprintf("INSERT INTO schema_version (version) VALUES (%d);"
				"PRAGMA application_id = %d",
		    STORE_SCHEMA_VERSION, SQ_APP_ID);
		if (exec(s, schema_sql, err) < 0 || exec(s, schema_update_sql, err) < 0 ||
		    exec(s, sql, err) < 0)
			goto fail;
		free(sql);
		return exec(s, "COMMIT", err) < 0 ? (exec(s, "ROLLBACK", NULL), -1) : 0;
	}
	if (app_id != SQ_APP_ID || !has_version) {
		store_set_err(err, "%.200s: an SQLite database, but not a danepol outcome store",
		    s->path);
		goto fail;
	}
	if (query_int(s, "SELECT max(version) FROM schema_version", &version, err) < 0)
		goto fail;
	if (version < 1 || version > STORE_SCHEMA_VERSION) {
		store_set_err(err, "%.200s: outcome store schema version %lld, this danepol knows %d",
		    s->path, (long long)version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	for (; version < STORE_SCHEMA_VERSION; version++)
		if (exec(s, migrations[version - 1], err) < 0)
			goto fail;
	if (exec(s, schema_update_sql, err) < 0)
		goto fail;
	return exec(s, "COMMIT", err) < 0 ? (exec(s, "ROLLBACK", NULL), -1) : 0;
fail:
	free(sql);
	exec(s, "ROLLBACK", NULL);
	return -1;
}

/*
 * The database holds destinations and addresses: create it SQ_MODE
 * (SQLite gives its -wal and -shm files the database's mode), never
 * through a link (here, and SQLITE_OPEN_NOFOLLOW when SQLite opens it).
 * An existing file open to every user is reported.
 */
static int
sq_create_file(const char *path, char **err)
{
	struct stat st;
	char eb[128];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, SQ_MODE);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno != EEXIST) {
		store_set_err(err, "%.200s: cannot create: %s", path, strerror_r(errno, eb, sizeof(eb)));
		return -1;
	}
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		store_set_err(err, "%.200s: a symbolic link: refused; set outcome_db to the file itself",
		    path);
		return -1;
	}
	if (lstat(path, &st) == 0 && (st.st_mode & 0007))
		msg_warn("%.200s: mode %04o lets every local user read the outcomes "
			 "(destinations, addresses): chmod o= it",
		    path, (unsigned)(st.st_mode & 07777));
	return 0;
}

static void sq_close(void *b);

/* Open path (created with the schema if missing or empty). NULL with *err. */
void *
store_sqlite_open(const char *path, char **err)
{
	struct sq *s = xcalloc(1, sizeof(*s));
	pthread_mutexattr_t attr;
	int rc;

	s->path = xstrdup(path);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->mu, &attr);
	pthread_mutexattr_destroy(&attr);
	if (sq_create_file(path, err) < 0)
		goto fail;
	rc = sqlite3_open_v2(path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
	    NULL);
	if (rc != SQLITE_OK) {
		if (s->db == NULL)
			store_set_err(err, "%.200s: cannot open: %s", path, sqlite3_errstr(rc));
		else
			db_fail(s, "cannot open", err);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, STORE_MAX_ROW);
	sqlite3_busy_timeout(s->db, SQ_BUSY_MS);
	if (set_wal(s, err) < 0 || exec(s, "PRAGMA synchronous=NORMAL", err) < 0 ||
	    schema_setup(s, err) < 0)
		goto fail;
	if (sqlite3_prepare_v3(s->db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT, &s->ins, NULL) !=
	    SQLITE_OK) {
		db_fail(s, "prepare insert", err);
		goto fail;
	}
	return s;
fail:
	sq_close(s);
	return NULL;
}

static void
sq_close(void *b)
{
	struct sq *s = b;

	if (s == NULL)
		return;
	sqlite3_finalize(s->ins);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		msg_warn("%.200s: close: %.200s", s->path, sqlite3_errmsg(s->db));
	pthread_mutex_destroy(&s->mu);
	free(s->path);
	free(s);
}

/* ------------------------------------------------------------ store/ modules (store_db.h) */

sqlite3 *
store_sqlite_lock(void *b)
{
	struct sq *s = b;

	pthread_mutex_lock(&s->mu);
	return s->db;
}

void
store_sqlite_unlock(void *b)
{
	pthread_mutex_unlock(&((struct sq *)b)->mu);
}

/* ------------------------------------------------------------ writing */

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* The policy strings as a JSON array text (caller frees). */
static char *
pstrings_json(const struct tls_outcome *o)
{
	json_t *arr = json_array();
	char *text;

	for (size_t i = 0; i < o->npolicy_strings && o->policy_strings != NULL; i++)
		if (o->policy_strings[i] != NULL)
			json_array_append_new(arr, json_string(o->policy_strings[i]));
	if ((text = json_dumps(arr, JSON_COMPACT)) == NULL)
		msg_fatal("out of memory");
	json_decref(arr);
	return text;
}

/* Insert one checked outcome: 1 added, 0 duplicate key, -1 with *err. Under mu. */
static int
insert_one(struct sq *s, const struct tls_outcome *o, const char *key, char **err)
{
	char *pstrings = pstrings_json(o);
	int rc, ret = -1;

	sqlite3_reset(s->ins);
	sqlite3_clear_bindings(s->ins);
	sqlite3_bind_int64(s->ins, 1, o->time);
	sqlite3_bind_int(s->ins, 2, (int)o->source);
	bind_text(s->ins, 3, o->policy_domain);
	sqlite3_bind_int(s->ins, 4, (int)o->policy_type);
	bind_text(s->ins, 5, pstrings);
	bind_text(s->ins, 6, o->mx_host);
	bind_text(s->ins, 7, o->receiving_ip);
	bind_text(s->ins, 8, o->sending_ip);
	bind_text(s->ins, 9, o->mx_helo);
	sqlite3_bind_int(s->ins, 10, o->success ? 1 : 0);
	bind_text(s->ins, 11, o->success ? NULL : o->result_type);
	bind_text(s->ins, 12, o->detail);
	bind_text(s->ins, 13, key);
	bind_text(s->ins, 14, o->relay);
	rc = sqlite3_step(s->ins);
	if (rc != SQLITE_DONE)
		db_fail(s, "insert", err);
	else
		ret = sqlite3_changes(s->db) > 0 ? 1 : 0;
	sqlite3_reset(s->ins);
	free(pstrings);
	return ret;
}

/* n checked outcomes in one transaction (one row: no transaction of its own). */
static int
sq_add_batch(void *b, const struct tls_outcome *o, const char *const *keys, size_t n,
    size_t *added, char **err)
{
	struct sq *s = b;
	size_t i, count = 0;
	int rc, ret = -1, tx = n > 1;

	pthread_mutex_lock(&s->mu);
	if (tx && exec(s, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((rc = insert_one(s, &o[i], keys ? keys[i] : NULL, err)) < 0) {
			if (tx)
				exec(s, "ROLLBACK", NULL);
			goto out;
		}
		count += (size_t)rc;
	}
	if (tx && exec(s, "COMMIT", err) < 0) {
		exec(s, "ROLLBACK", NULL);
		goto out;
	}
	if (added != NULL)
		*added = count;
	ret = 0;
out:
	pthread_mutex_unlock(&s->mu);
	return ret;
}

/* ------------------------------------------------------------ reading */

static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* Row -> *o (owned copies), checked. -1 with *err for a row this code did not write. */
static int
row_outcome(struct sq *s, sqlite3_stmt *st, struct tls_outcome *o, char **err)
{
	const char *text = (const char *)sqlite3_column_text(st, 4);
	const char *rtype = (const char *)sqlite3_column_text(st, 10);
	char where[300];
	json_t *arr = NULL;
	size_t i;

	memset(o, 0, sizeof(*o));
	snprintf(where, sizeof(where), "%.200s: outcome row %lld", s->path,
	    (long long)sqlite3_column_int64(st, 13));
	o->time = sqlite3_column_int64(st, 0);
	o->source = (enum outcome_source)sqlite3_column_int(st, 1);
	o->policy_domain = col_text(st, 2);
	o->policy_type = (enum outcome_policy)sqlite3_column_int(st, 3);
	o->mx_host = col_text(st, 5);
	o->receiving_ip = col_text(st, 6);
	o->sending_ip = col_text(st, 7);
	o->mx_helo = col_text(st, 8);
	o->success = sqlite3_column_int(st, 9) != 0;
	o->result_type = o->success ? NULL : outcome_result_type(rtype);
	o->detail = col_text(st, 11);
	o->relay = col_text(st, 12);
	if (text == NULL || (arr = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_array(arr)) {
		json_decref(arr);
		store_set_err(err, "%s: damaged: policy strings are not a JSON array", where);
		return -1;
	}
	if (json_array_size(arr) > 0) {
		o->policy_strings = xcalloc(json_array_size(arr), sizeof(char *));
		for (i = 0; i < json_array_size(arr); i++) {
			const char *v = json_string_value(json_array_get(arr, i));

			if (v != NULL)
				o->policy_strings[o->npolicy_strings++] = xstrdup(v);
		}
	}
	json_decref(arr);
	return store_row_check(o, where, err);
}

/* Run a prepared SELECT, calling fn per row. Under mu. */
static int
each_rows(struct sq *s, sqlite3_stmt *st, int (*fn)(const struct tls_outcome *o, void *arg),
    void *arg, char **err)
{
	struct tls_outcome o;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row_outcome(s, st, &o, err) < 0) {
			outcome_clear(&o);
			return -1;
		}
		rc = fn(&o, arg);
		outcome_clear(&o);
		if (rc != 0)
			return rc;
	}
	if (rc != SQLITE_DONE)
		return db_fail(s, "select", err);
	return 0;
}

/* fn for every outcome of [from, to) of domain (canonical; NULL: all), by time. */
static int
sq_each(void *b, int64_t from, int64_t to, const char *domain,
    int (*fn)(const struct tls_outcome *o, void *arg), void *arg, char **err)
{
	struct sq *s = b;
	sqlite3_stmt *st = NULL;
	char *sql;
	int ret = -1;

	sql = xasprintf("%s WHERE time >= ?1 AND time < ?2%s ORDER BY time, id", select_cols,
	    domain ? " AND policy_domain = ?3" : "");
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(s, "prepare select", err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	if (domain != NULL)
		sqlite3_bind_text(st, 3, domain, -1, SQLITE_TRANSIENT);
	ret = each_rows(s, st, fn, arg, err);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	free(sql);
	return ret;
}

/* fn for each distinct policy domain with an outcome in [from, to), in byte order. */
static int
sq_each_domain(void *b, int64_t from, int64_t to, int (*fn)(const char *domain, void *arg),
    void *arg, char **err)
{
	struct sq *s = b;
	sqlite3_stmt *st = NULL;
	char *domain;
	int rc, ret = -1;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db,
		"SELECT DISTINCT policy_domain FROM outcomes"
		" WHERE time >= ?1 AND time < ?2 ORDER BY policy_domain",
		-1, &st, NULL) != SQLITE_OK) {
		db_fail(s, "prepare select", err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((domain = col_text(st, 0)) == NULL)
			continue;
		rc = fn(domain, arg);
		free(domain);
		if (rc != 0) {
			ret = rc;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(s, "select", err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return ret;
}

/* ------------------------------------------------------------ claims */

/* Prepare sql, bind the texts t[0..nt-1] as ?1.., then the integers as ?nt+1... */
static sqlite3_stmt *
prep(struct sq *s, const char *sql, const char *const *t, int nt, const int64_t *v, int nv,
    char **err)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(s, "prepare", err);
		return NULL;
	}
	for (int i = 0; i < nt; i++)
		bind_text(st, i + 1, t[i]);
	for (int i = 0; i < nv; i++)
		sqlite3_bind_int64(st, nt + i + 1, v[i]);
	return st;
}

/* Run st to its end (a write). 0 or -1. */
static int
run(struct sq *s, sqlite3_stmt *st, char **err)
{
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

	if (st != NULL && rc != SQLITE_DONE && rc != SQLITE_ROW)
		db_fail(s, "write", err);
	sqlite3_finalize(st);
	return st != NULL && (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : -1;
}

static int
sq_claim(void *b, const char *kind, const char *key, const char *holder, int64_t now,
    int64_t expires, char **by, char **err)
{
	const char *t[] = { kind, key, holder };
	const int64_t v[] = { expires, now };
	struct sq *s = b;
	sqlite3_stmt *st;
	int ret = -1;

	pthread_mutex_lock(&s->mu);
	if (exec(s, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	st = prep(s,
	    "INSERT INTO claims (kind, key, holder, expires) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (kind, key) DO UPDATE SET holder = excluded.holder,"
	    " expires = excluded.expires WHERE NOT claims.done"
	    " AND (claims.expires <= ?5 OR claims.holder = excluded.holder)",
	    t, 3, v, 2, err);
	if (run(s, st, err) < 0)
		goto fail;
	st = prep(s, "SELECT holder, done FROM claims WHERE kind = ?1 AND key = ?2", t, 2, NULL, 0,
	    err);
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW) {
		if (st != NULL)
			db_fail(s, "select claim", err);
		sqlite3_finalize(st);
		goto fail;
	}
	ret = !sqlite3_column_int(st, 1) &&
		      strcmp((const char *)sqlite3_column_text(st, 0), holder) == 0
		  ? 1
		  : 0;
	if (ret == 0 && by != NULL)
		*by = col_text(st, 0);
	sqlite3_finalize(st);
	if (exec(s, "COMMIT", err) == 0)
		goto out;
	ret = -1;
fail:
	exec(s, "ROLLBACK", NULL);
out:
	pthread_mutex_unlock(&s->mu);
	return ret;
}

static int
sq_claim_finish(void *b, const char *kind, const char *key, const char *holder, int done,
    char **err)
{
	const char *t[] = { kind, key, holder };
	struct sq *s = b;
	int ret;

	pthread_mutex_lock(&s->mu);
	ret = run(s,
	    prep(s,
		done ? "UPDATE claims SET done = 1 WHERE kind = ?1 AND key = ?2 AND holder = ?3"
		     : "DELETE FROM claims WHERE kind = ?1 AND key = ?2 AND holder = ?3 AND NOT done",
		t, 3, NULL, 0, err),
	    err);
	pthread_mutex_unlock(&s->mu);
	return ret;
}

/* ------------------------------------------------------------ sts_policies (stspol.h) */

static int
sq_stspol_put(void *b, const struct stspol_row *r, char **err)
{
	const char *t[] = { r->domain, r->id, r->mode, r->mx };
	const int64_t v[] = { r->max_age, r->fetched, r->expires };
	struct sq *s = b;
	int ret;

	pthread_mutex_lock(&s->mu);
	ret = run(s,
	    prep(s,
		"INSERT OR REPLACE INTO sts_policies (domain, id, mode, mx, max_age, fetched,"
		" expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		t, 4, v, 3, err),
	    err);
	pthread_mutex_unlock(&s->mu);
	return ret;
}

/* column i as a malloc'd string ("" for NULL) */
static char *
col_str(sqlite3_stmt *st, int i)
{
	char *v = col_text(st, i);

	return v ? v : xstrdup("");
}

static int
sq_stspol_get(void *b, const char *domain, struct stspol_row *r, char **err)
{
	struct sq *s = b;
	sqlite3_stmt *st;
	int rc, ret = -1;

	pthread_mutex_lock(&s->mu);
	st = prep(s,
	    "SELECT domain, id, mode, max_age, mx, fetched, expires FROM sts_policies"
	    " WHERE domain = ?1",
	    &domain, 1, NULL, 0, err);
	if (st == NULL)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		ret = 0;
	else if (rc != SQLITE_ROW)
		db_fail(s, "select sts_policies", err);
	else {
		r->domain = col_str(st, 0);
		r->id = col_str(st, 1);
		r->mode = col_str(st, 2);
		r->max_age = sqlite3_column_int64(st, 3);
		r->mx = col_str(st, 4);
		r->fetched = sqlite3_column_int64(st, 5);
		r->expires = sqlite3_column_int64(st, 6);
		ret = 1;
	}
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&s->mu);
	return ret;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.add_batch = sq_add_batch,
	.each = sq_each,
	.each_domain = sq_each_domain,
	.claim = sq_claim,
	.claim_finish = sq_claim_finish,
	.stspol_put = sq_stspol_put,
	.stspol_get = sq_stspol_get,
	.close = sq_close,
};
