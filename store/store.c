/*
 * store.c - the outcome store in SQLite (see store.h).
 *
 * Database: WAL journal, synchronous=NORMAL (a committed transaction
 * survives a process crash; at most the last transactions before a power
 * loss can be lost, never the database), busy_timeout STORE_BUSY_MS so
 * that several processes (danepold writing, `danepol report` reading)
 * wait for each other instead of failing. PRAGMA application_id marks the
 * file as ours; the table schema_version holds the schema's version, and
 * a file that is an SQLite database of something else, a newer schema or
 * not a database at all is refused with a clear *err.
 *
 * Table outcomes: one row per outcome; policy_strings as a JSON array
 * text (jansson); dedupe_key (NULL for none) unique per source, so the
 * same Postfix log line ingested twice is one row (store_add_keyed()).
 * Index (policy_domain, time) serves report building, (time) the range
 * scans over all domains.
 *
 * Table report_queue: the report delivery queue of `danepol report`
 * (report/report_queue.c reads and writes it over a connection of its own;
 * store.h's contract). It is part of the schema: created with a new file,
 * and created in an existing file of this schema version that lacks it (a
 * store made before the queue joined the schema, and never used by
 * `danepol report`). Its definition is the one report_queue.c used to
 * create on its own, so a file where that code made it is already
 * complete and keeps its rows; that is why adding it changed no
 * version (older binaries open these files unchanged).
 *
 * Table seen: since when an item (a published TLSA record, a served key)
 * has been seen without a break at an owner (store/seen.c, seen.h), for
 * `danepol rollover`. Like report_queue it is added by schema_update_sql:
 * a new table that older binaries never read, so adding it changed no
 * version.
 *
 * Schema versions: schema_setup() creates the current schema in an empty
 * file, migrates an older file step by step (migrations[], inside the
 * same IMMEDIATE transaction: all steps or none), brings it up to date
 * (schema_update_sql, idempotent), and refuses a newer version. A change
 * that older binaries cannot read bumps STORE_SCHEMA_VERSION and adds its
 * step to migrations[]. Versions:
 *   1  outcomes.have_policy 0 (no-policy-found) or 1 (tlsa)
 *   2  outcomes.have_policy also 2 (sts: policy_strings are the MTA-STS
 *      policy's lines). No table changes; the version keeps a binary of
 *      version 1, which would read 2 as a DANE policy, from such a file.
 *
 * Input checks (hostile data): every string must be valid UTF-8 without
 * control characters and within a per-field bound (STORE_MAX_*); the
 * policy domain must be a domain name and is stored canonical (A-labels,
 * lower case, no trailing dot: dnsname_normalize()); a failure needs a
 * registered RFC 8460 result type. Anything else is refused with *err,
 * nothing is written. Rows read back are bounded by SQLITE_LIMIT_LENGTH.
 *
 * Threads: one connection per struct store, every call under s->mu (a
 * recursive mutex, so a store_each() callback may call store_add*() or a
 * nested store_each() on the same store; it must not call
 * store_add_batch(), which needs its own transaction).
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
#include "dnsname.h"
#include "log.h"
#include "mem.h"
#include "store.h"
#include "store_backend.h"
#include "store_db.h"

/* INTERIM (pg-backend): the SQLite file's version until main's split (store_sqlite.c) lands */
#define STORE_SQLITE_VERSION 2
#define STORE_APP_ID	     0x64616e65 /* "dane" */
#define STORE_BUSY_MS	     10000
#define STORE_MODE	     0640 /* a new database: its owner writes, its group reads */
#define STORE_MAX_NAME	     255	       /* mx host, helo (bytes) */
#define STORE_MAX_IP	     64
#define STORE_MAX_DETAIL     1024
#define STORE_MAX_KEY	     1024
#define STORE_MAX_PSTRING    16384 /* a "3 0 0" record of a large certificate */
#define STORE_MAX_PSTRINGS   64

struct store {
	sqlite3 *db;
	sqlite3_stmt *ins;  /* prepared INSERT, reused under mu */
	pthread_mutex_t mu; /* recursive */
	char *path;
	void *pg;    /* INTERIM (pg-backend): a PostgreSQL store (store_pg_ops), db NULL */
	char *relay; /* INTERIM (pg-backend): stamped on PostgreSQL outcomes */
};

static struct store *pg_open(const char *spec, char **err);
static int pg_add(struct store *s, const struct tls_outcome *o, const char *const *keys, size_t n,
    size_t *added, char **err);

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
    " expires INTEGER NOT NULL);";

/* migrations[v - 1]: from version v to v + 1 (run in order, in one transaction) */
static const char *const migrations[STORE_SQLITE_VERSION - 1] = {
	/* 1 -> 2: sts outcomes (have_policy 2) */
	"UPDATE schema_version SET version = 2",
};

static const char insert_sql[] =
    "INSERT INTO outcomes (time, source, policy_domain, have_policy, policy_strings,"
    " mx_host, receiving_ip, sending_ip, mx_helo, success, result_type, detail, dedupe_key)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    " ON CONFLICT (source, dedupe_key) DO NOTHING";

static const char select_cols[] =
    "SELECT time, source, policy_domain, have_policy, policy_strings, mx_host,"
    " receiving_ip, sending_ip, mx_helo, success, result_type, detail FROM outcomes";

/* ------------------------------------------------------------ errors */

static void set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_err(char **err, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	if (err == NULL)
		return;
	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(*err);
	*err = buf_steal(&b);
}

static int
db_fail(struct store *s, const char *what, char **err)
{
	set_err(err, "%.200s: %s: %.300s", s->path, what, sqlite3_errmsg(s->db));
	return -1;
}

/* ------------------------------------------------------------ open */

static int
exec(struct store *s, const char *sql, char **err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, sql, err);
	return 0;
}

/* Single integer result of sql, or -1 with *err. *val unchanged if no row. */
static int
query_int(struct store *s, const char *sql, int64_t *val, char **err)
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
set_wal(struct store *s, char **err)
{
	sqlite3_stmt *st = NULL;
	const char *mode;
	int rc, ret = -1;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT) {
		set_err(err, "%.200s: not a usable SQLite database (%.200s)", s->path,
		    sqlite3_errmsg(s->db));
		goto out;
	}
	if (rc != SQLITE_ROW) {
		db_fail(s, "PRAGMA journal_mode=WAL", err);
		goto out;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		set_err(err, "%.200s: cannot use WAL journal mode (got %.20s)", s->path,
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
schema_setup(struct store *s, char **err)
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
		    STORE_SQLITE_VERSION, STORE_APP_ID);
		if (exec(s, schema_sql, err) < 0 || exec(s, schema_update_sql, err) < 0 ||
		    exec(s, sql, err) < 0)
			goto fail;
		free(sql);
		return exec(s, "COMMIT", err) < 0 ? (exec(s, "ROLLBACK", NULL), -1) : 0;
	}
	if (app_id != STORE_APP_ID || !has_version) {
		set_err(err, "%.200s: an SQLite database, but not a danepol outcome store",
		    s->path);
		goto fail;
	}
	if (query_int(s, "SELECT max(version) FROM schema_version", &version, err) < 0)
		goto fail;
	if (version < 1 || version > STORE_SQLITE_VERSION) {
		set_err(err, "%.200s: outcome store schema version %lld, this danepol knows %d",
		    s->path, (long long)version, STORE_SQLITE_VERSION);
		goto fail;
	}
	for (; version < STORE_SQLITE_VERSION; version++)
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
 * The database holds destinations and addresses: create it STORE_MODE
 * (SQLite gives its -wal and -shm files the database's mode), never
 * through a link (here, and SQLITE_OPEN_NOFOLLOW when SQLite opens it).
 * An existing file open to every user is reported.
 */
static int
store_create_file(const char *path, char **err)
{
	struct stat st;
	char eb[128];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, STORE_MODE);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno != EEXIST) {
		set_err(err, "%.200s: cannot create: %s", path, strerror_r(errno, eb, sizeof(eb)));
		return -1;
	}
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		set_err(err, "%.200s: a symbolic link: refused; set outcome_db to the file itself",
		    path);
		return -1;
	}
	if (lstat(path, &st) == 0 && (st.st_mode & 0007))
		msg_warn("%.200s: mode %04o lets every local user read the outcomes "
			 "(destinations, addresses): chmod o= it",
		    path, (unsigned)(st.st_mode & 07777));
	return 0;
}

/**
 * Open path (created with the schema if missing or empty). Returns the
 * store (free with store_close()) or NULL with *err (caller frees).
 */
struct store *
store_open(const char *path, char **err)
{
	struct store *s;
	pthread_mutexattr_t attr;
	int rc;

	if (store_spec_is_pg(path))
		return pg_open(path, err);
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->mu, &attr);
	pthread_mutexattr_destroy(&attr);
	if (store_create_file(path, err) < 0)
		goto fail;
	rc = sqlite3_open_v2(path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
	    NULL);
	if (rc != SQLITE_OK) {
		if (s->db == NULL)
			set_err(err, "%.200s: cannot open: %s", path, sqlite3_errstr(rc));
		else
			db_fail(s, "cannot open", err);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, STORE_MAX_ROW);
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
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
	store_close(s);
	return NULL;
}

/* path's directory ("." without a slash); caller frees. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/** See store.h. */
int
store_access(const char *path, char **err)
{
	static const char *const companion[] = { "", "-wal", "-shm" };
	char *dir = NULL, *f, eb[128];
	int ret = -1;

	if (store_spec_is_pg(path)) /* INTERIM (pg-backend): no file to check */
		return 0;
	if (access(path, F_OK) < 0) {
		if (errno != ENOENT) {
			set_err(err, "%.200s: %s", path, strerror_r(errno, eb, sizeof(eb)));
			return -1;
		}
		dir = dir_of(path);
		if (access(dir, W_OK | X_OK) < 0)
			set_err(err, "%.200s: cannot be created in %.200s: %s", path, dir,
			    strerror_r(errno, eb, sizeof(eb)));
		else
			ret = 0;
		free(dir);
		return ret;
	}
	for (size_t i = 0; i < sizeof(companion) / sizeof(companion[0]); i++) {
		f = xasprintf("%s%s", path, companion[i]);
		if ((i == 0 || access(f, F_OK) == 0) && access(f, R_OK | W_OK) < 0) {
			set_err(err, "%.200s: %s", f, strerror_r(errno, eb, sizeof(eb)));
			free(f);
			return -1;
		}
		free(f);
	}
	/* SQLite creates the -wal and -shm files beside the database */
	dir = dir_of(path);
	if (access(dir, W_OK | X_OK) < 0)
		set_err(err, "%.200s: its directory %.200s is not writable: %s", path, dir,
		    strerror_r(errno, eb, sizeof(eb)));
	else
		ret = 0;
	free(dir);
	return ret;
}

/** Close the connection and free s. NULL-safe. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->pg != NULL)
		store_pg_ops.close(s->pg);
	free(s->relay);
	sqlite3_finalize(s->ins);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		msg_warn("%.200s: close: %.200s", s->path, sqlite3_errmsg(s->db));
	pthread_mutex_destroy(&s->mu);
	free(s->path);
	free(s);
}

/** store_path - see store.h. */
const char *
store_path(const struct store *s)
{
	return s->path;
}

/* ------------------------------------------------------------ store/ modules */

sqlite3 *
store_db_lock(struct store *s)
{
	pthread_mutex_lock(&s->mu);
	return s->db;
}

void
store_db_unlock(struct store *s)
{
	pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------ input checks */

/*
 * Length of s if it is valid UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF), has no control characters and is at most max
 * bytes; -1 otherwise (*why: static reason).
 */
static long
text_check(const char *s, size_t max, const char **why)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, k;
	unsigned long cp;

	while (p[i] != 0) {
		if (i >= max)
			return *why = "too long", -1;
		if (p[i] < 0x20 || p[i] == 0x7f)
			return *why = "control character", -1;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 1, cp = p[i] & 0x1f;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			n = 2, cp = p[i] & 0x0f;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			n = 3, cp = p[i] & 0x07;
		else
			return *why = "invalid UTF-8", -1;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return *why = "invalid UTF-8", -1;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return *why = "invalid UTF-8", -1;
		i += n + 1;
	}
	if (i > max)
		return *why = "too long", -1;
	return (long)i;
}

long
store_db_text_check(const char *v, size_t max, const char **why)
{
	return text_check(v, max, why);
}

static int
field_check(const char *name, const char *v, size_t max, char **err)
{
	const char *why = NULL;

	if (v != NULL && text_check(v, max, &why) < 0) {
		set_err(err, "outcome %s refused: %s", name, why);
		return -1;
	}
	return 0;
}

/*
 * Check o (and key); on success *domain is the canonical policy domain
 * (size DNSNAME_MAX) and *pstrings the JSON text of the policy strings
 * (caller frees). -1 with *err otherwise.
 */
static int
outcome_check(const struct tls_outcome *o, const char *key, char *domain, char **pstrings,
    char **err)
{
	const char *why = NULL;
	json_t *arr = NULL;
	size_t i;
	int ret = -1;

	*pstrings = NULL;
	if (o->policy_domain == NULL || dnsname_normalize(o->policy_domain, 1, domain, &why) < 0 ||
	    domain[0] == 0) {
		set_err(err, "outcome policy domain refused: %s", why ? why : "missing");
		goto out;
	}
	if ((unsigned)o->source > OUTCOME_SRC_STS) {
		set_err(err, "outcome source %d unknown", (int)o->source);
		goto out;
	}
	if (outcome_policy_name(o->policy_type) == NULL) {
		set_err(err, "outcome refused: policy type %d is not one of RFC 8460's",
		    (int)o->policy_type);
		goto out;
	}
	if (!o->success && outcome_result_type(o->result_type) == NULL) {
		set_err(err, "failed outcome without a registered RFC 8460 result type");
		goto out;
	}
	if (field_check("mx host", o->mx_host, STORE_MAX_NAME, err) < 0 ||
	    field_check("receiving ip", o->receiving_ip, STORE_MAX_IP, err) < 0 ||
	    field_check("sending ip", o->sending_ip, STORE_MAX_IP, err) < 0 ||
	    field_check("mx helo", o->mx_helo, STORE_MAX_NAME, err) < 0 ||
	    field_check("detail", o->detail, STORE_MAX_DETAIL, err) < 0 ||
	    field_check("dedupe key", key, STORE_MAX_KEY, err) < 0)
		goto out;
	if (o->npolicy_strings > STORE_MAX_PSTRINGS) {
		set_err(err, "outcome refused: more than %d policy strings", STORE_MAX_PSTRINGS);
		goto out;
	}
	arr = json_array();
	for (i = 0; i < o->npolicy_strings && o->policy_strings != NULL; i++) {
		if (o->policy_strings[i] == NULL)
			continue;
		if (field_check("policy string", o->policy_strings[i], STORE_MAX_PSTRING, err) < 0)
			goto out;
		json_array_append_new(arr, json_string(o->policy_strings[i]));
	}
	if ((*pstrings = json_dumps(arr, JSON_COMPACT)) == NULL)
		msg_fatal("out of memory");
	ret = 0;
out:
	json_decref(arr);
	return ret;
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

/* Insert one checked outcome: 1 added, 0 duplicate key, -1 with *err. Under mu. */
static int
insert_one(struct store *s, const struct tls_outcome *o, const char *key, char **err)
{
	char domain[DNSNAME_MAX], *pstrings = NULL;
	int rc, ret = -1;

	if (outcome_check(o, key, domain, &pstrings, err) < 0)
		goto out;
	sqlite3_reset(s->ins);
	sqlite3_clear_bindings(s->ins);
	sqlite3_bind_int64(s->ins, 1, o->time);
	sqlite3_bind_int(s->ins, 2, (int)o->source);
	bind_text(s->ins, 3, domain);
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
	rc = sqlite3_step(s->ins);
	if (rc != SQLITE_DONE) {
		db_fail(s, "insert", err);
		goto out;
	}
	ret = sqlite3_changes(s->db) > 0 ? 1 : 0;
out:
	if (s->ins != NULL)
		sqlite3_reset(s->ins);
	free(pstrings);
	return ret;
}

/** Append one outcome (copied). 0, or -1 with *err. */
int
store_add(struct store *s, const struct tls_outcome *o, char **err)
{
	int rc;

	if (s->pg != NULL)
		return store_add_batch(s, o, NULL, 1, NULL, err);
	pthread_mutex_lock(&s->mu);
	rc = insert_one(s, o, NULL, err);
	pthread_mutex_unlock(&s->mu);
	return rc < 0 ? -1 : 0;
}

/**
 * Append one outcome unless an outcome of the same source with the same
 * dedupe_key (NULL: none, like store_add()) is stored already. Returns 1
 * added, 0 duplicate (nothing written), -1 with *err.
 */
int
store_add_keyed(struct store *s, const struct tls_outcome *o, const char *dedupe_key, char **err)
{
	int rc;
	size_t added = 0;

	if (s->pg != NULL) {
		rc = store_add_batch(s, o, dedupe_key ? &dedupe_key : NULL, 1, &added, err);
		return rc < 0 ? -1 : added > 0;
	}
	pthread_mutex_lock(&s->mu);
	rc = insert_one(s, o, dedupe_key, err);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/**
 * Append n outcomes in one transaction: all of them or none. keys is NULL
 * or has n entries (each NULL or a dedupe key, as store_add_keyed()).
 * *added (may be NULL) is the number of new rows. 0, or -1 with *err
 * (nothing written; *err names the index of the refused outcome).
 */
int
store_add_batch(struct store *s, const struct tls_outcome *o, const char *const *keys, size_t n,
    size_t *added, char **err)
{
	size_t i, count = 0;
	char *e = NULL;
	int rc, ret = -1;

	if (s->pg != NULL)
		return pg_add(s, o, keys, n, added, err);
	pthread_mutex_lock(&s->mu);
	if (exec(s, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		rc = insert_one(s, &o[i], keys ? keys[i] : NULL, &e);
		if (rc < 0) {
			set_err(err, "outcome %zu: %s", i, e);
			exec(s, "ROLLBACK", NULL);
			goto out;
		}
		count += (size_t)rc;
	}
	if (exec(s, "COMMIT", err) < 0) {
		exec(s, "ROLLBACK", NULL);
		goto out;
	}
	if (added != NULL)
		*added = count;
	ret = 0;
out:
	pthread_mutex_unlock(&s->mu);
	free(e);
	return ret;
}

/* ------------------------------------------------------------ reading */

static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* Row -> *o (owned copies). -1 with *err for a row this code did not write. */
static int
row_outcome(struct store *s, sqlite3_stmt *st, struct tls_outcome *o, char **err)
{
	const char *text = (const char *)sqlite3_column_text(st, 4);
	json_t *arr = NULL;
	size_t i;
	int ptype;

	memset(o, 0, sizeof(*o));
	o->time = sqlite3_column_int64(st, 0);
	o->source = (enum outcome_source)sqlite3_column_int(st, 1);
	o->policy_domain = col_text(st, 2);
	ptype = sqlite3_column_int(st, 3);
	o->policy_type = (enum outcome_policy)ptype;
	o->mx_host = col_text(st, 5);
	o->receiving_ip = col_text(st, 6);
	o->sending_ip = col_text(st, 7);
	o->mx_helo = col_text(st, 8);
	o->success = sqlite3_column_int(st, 9) != 0;
	o->result_type = outcome_result_type((const char *)sqlite3_column_text(st, 10));
	o->detail = col_text(st, 11);
	if (!o->success && o->result_type == NULL)
		o->result_type = "validation-failure";
	if (o->success)
		o->result_type = NULL;
	if (o->policy_domain == NULL || text == NULL || outcome_policy_name(ptype) == NULL ||
	    (arr = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL || !json_is_array(arr)) {
		json_decref(arr);
		set_err(err, "%.200s: damaged outcome row", s->path);
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
	return 0;
}

/* Run a prepared SELECT, calling fn per row. Under mu. */
static int
each_rows(struct store *s, sqlite3_stmt *st, int (*fn)(const struct tls_outcome *o, void *arg),
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

/**
 * fn for every outcome with from <= time < to of policy_domain (NULL:
 * all; else compared in canonical form), ordered by time then insertion.
 * Returns 0, fn's non-0 value, or -1 with *err.
 */
int
store_each(struct store *s, int64_t from, int64_t to, const char *policy_domain,
    int (*fn)(const struct tls_outcome *o, void *arg), void *arg, char **err)
{
	char domain[DNSNAME_MAX], *sql;
	sqlite3_stmt *st = NULL;
	const char *why = NULL;
	int ret = -1;

	if (policy_domain != NULL && dnsname_normalize(policy_domain, 1, domain, &why) < 0) {
		set_err(err, "policy domain refused: %s", why);
		return -1;
	}
	if (s->pg != NULL)
		return store_pg_ops.each(s->pg, from, to, policy_domain ? domain : NULL, fn, arg,
		    err);
	sql = xasprintf("%s WHERE time >= ?1 AND time < ?2%s ORDER BY time, id", select_cols,
	    policy_domain ? " AND policy_domain = ?3" : "");
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(s, "prepare select", err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	if (policy_domain != NULL)
		sqlite3_bind_text(st, 3, domain, -1, SQLITE_TRANSIENT);
	ret = each_rows(s, st, fn, arg, err);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	free(sql);
	return ret;
}

/**
 * fn for each distinct policy domain with an outcome in [from, to), in
 * ascending (byte) order. Same return conventions as store_each().
 */
int
store_each_domain(struct store *s, int64_t from, int64_t to,
    int (*fn)(const char *policy_domain, void *arg), void *arg, char **err)
{
	sqlite3_stmt *st = NULL;
	char *domain;
	int rc, ret = -1;

	if (s->pg != NULL)
		return store_pg_ops.each_domain(s->pg, from, to, fn, arg, err);
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

/*
 * ------------------------------------------------------------ INTERIM
 * pg-backend only: the smallest dispatch to the PostgreSQL backend
 * (store_pg.c) and the store_backend.h/store.h calls it needs, until
 * main's split of this file (store.c + store_sqlite.c) lands; on merge,
 * take main's store.c whole and drop this block. SQLite stores keep the
 * code above (no relay, no claims: store_claim() refuses them here).
 */

int
store_spec_is_pg(const char *spec)
{
	return spec != NULL &&
	       (strncmp(spec, "postgresql://", 13) == 0 || strncmp(spec, "postgres://", 11) == 0);
}

/* spec with its password ("user:PASSWORD@", password=...) replaced by "***"; caller frees */
static char *
shown_spec(const char *spec)
{
	const char *scheme = strstr(spec, "://"), *at, *colon, *pw;
	struct buf b;

	buf_init(&b);
	at = scheme ? strchr(scheme + 3, '@') : NULL;
	colon = scheme ? strchr(scheme + 3, ':') : NULL;
	if (at && colon && colon < at && strcspn(scheme + 3, "/?") > (size_t)(at - scheme - 3)) {
		buf_append(&b, spec, (size_t)(colon - spec + 1));
		buf_puts(&b, "***");
		spec = at;
	}
	while ((pw = strstr(spec, "password=")) != NULL) {
		buf_append(&b, spec, (size_t)(pw - spec) + 9);
		buf_puts(&b, "***");
		spec = pw + 9 + strcspn(pw + 9, "&");
	}
	buf_puts(&b, spec);
	return buf_steal(&b);
}

static struct store *
pg_open(const char *spec, char **err)
{
	struct store *s = xcalloc(1, sizeof(*s));
	char h[256];

	pthread_mutex_init(&s->mu, NULL);
	s->path = shown_spec(spec);
	if (gethostname(h, sizeof(h)) < 0 || h[0] == 0)
		snprintf(h, sizeof(h), "localhost");
	h[sizeof(h) - 1] = 0;
	s->relay = xstrdup(h);
	if ((s->pg = store_pg_open(spec, s->path, err)) == NULL) {
		store_close(s);
		return NULL;
	}
	return s;
}

void
store_set_relay(struct store *s, const char *relay)
{
	const char *why;

	if (relay == NULL || relay[0] == 0 || text_check(relay, STORE_MAX_NAME, &why) < 0)
		return;
	free(s->relay);
	s->relay = xstrdup(relay);
}

const char *
store_relay(const struct store *s)
{
	return s->relay ? s->relay : "";
}

const char *
store_kind(const struct store *s)
{
	return s->pg ? store_pg_ops.name : "sqlite";
}

/* NULL for an SQLite store here (its callers keep using store_db.h) */
const struct store_ops *
store_backend(struct store *s, void **b)
{
	*b = s->pg;
	return s->pg ? &store_pg_ops : NULL;
}

long
store_text_check(const char *v, size_t max, const char **why)
{
	return text_check(v, max, why);
}

int
store_row_check(const struct tls_outcome *o, const char *where, char **err)
{
	char domain[DNSNAME_MAX], *ps = NULL, *e = NULL;
	const char *why = NULL;

	if (o->policy_domain == NULL || dnsname_normalize(o->policy_domain, 1, domain, &why) < 0 ||
	    strcmp(domain, o->policy_domain) != 0)
		e = xasprintf("policy domain: %s", why ? why : "not canonical");
	else if (!o->success && o->result_type == NULL)
		e = xstrdup("a failure without a registered RFC 8460 result type");
	else if (field_check("relay", o->relay, STORE_MAX_NAME, &e) < 0 ||
		 outcome_check(o, NULL, domain, &ps, &e) < 0)
		e = e ? e : xstrdup("refused");
	free(ps);
	if (e == NULL)
		return 0;
	set_err(err, "%s: damaged row: %s", where, e);
	free(e);
	return -1;
}

static int
pg_add(struct store *s, const struct tls_outcome *o, const char *const *keys, size_t n,
    size_t *added, char **err)
{
	struct tls_outcome *c = n ? xcalloc(n, sizeof(*c)) : NULL;
	char domain[DNSNAME_MAX], *ps = NULL, *e = NULL;
	size_t i;
	int ret = -1;

	for (i = 0; i < n; i++) {
		if (outcome_check(&o[i], keys ? keys[i] : NULL, domain, &ps, &e) < 0) {
			set_err(err, "outcome %zu: %s", i, e);
			goto out;
		}
		free(ps);
		c[i] = o[i];
		c[i].policy_domain = xstrdup(domain);
		c[i].relay = s->relay;
	}
	ret = n ? store_pg_ops.add_batch(s->pg, c, keys, n, added, err) : 0;
	if (n == 0 && added != NULL)
		*added = 0;
out:
	for (size_t k = 0; k < i; k++)
		free(c[k].policy_domain);
	free(c);
	free(e);
	return ret;
}

static int
claim_check(const struct store *s, const char *kind, const char *key, char **err)
{
	const char *why = "empty";

	if (s->pg == NULL) {
		set_err(err, "%.200s: claims need the split store (main)", s->path);
		return -1;
	}
	if (kind == NULL || kind[0] == 0 || text_check(kind, 64, &why) < 0 || key == NULL ||
	    key[0] == 0 || text_check(key, STORE_MAX_KEY, &why) < 0) {
		set_err(err, "claim refused: kind or key %s", why);
		return -1;
	}
	return 0;
}

int
store_claim(struct store *s, const char *kind, const char *key, int64_t now, int64_t lease_s,
    char **by, char **err)
{
	if (by != NULL)
		*by = NULL;
	if (claim_check(s, kind, key, err) < 0)
		return -1;
	return store_pg_ops.claim(s->pg, kind, key, s->relay, now,
	    now + (lease_s > 0 ? lease_s : 1), by, err);
}

int
store_claim_finish(struct store *s, const char *kind, const char *key, int done, char **err)
{
	if (claim_check(s, kind, key, err) < 0)
		return -1;
	return store_pg_ops.claim_finish(s->pg, kind, key, s->relay, done, err);
}
