/*
 * report_queue.c - the report delivery queue (RFC 8460 section 5.5:
 * retry for up to 24 hours, with backoff); contract in report_queue.h.
 *
 * One table, report_queue, in the outcome database (outcome_db): part of
 * the store's versioned schema (store/store.c creates it, and adds it to
 * older files, in store_open()); used here over a connection of its own to
 * store_path() (WAL and a busy timeout, like store/store.c, so danepold
 * may write outcomes while `danepol report` runs). A row is one report file that no rua endpoint
 * has accepted yet; the endpoints are looked up again at each retry (the
 * record may have changed). Rows are keyed by the file path: queueing the
 * same file again updates its row and keeps its first attempt time, so
 * the retry window is measured from the first failure.
 *
 * Backoff: 5 minutes after the first failed attempt, doubling, at most
 * 6 hours. Giving up (report_retry after the first attempt) is the
 * caller's decision; the row is then removed and nothing else happens:
 * no report is ever made about a failed report delivery.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "log.h"
#include "mem.h"
#include "report_queue.h"
#include "store.h"

#define BACKOFF_FIRST_S 300
#define BACKOFF_MAX_S	21600
#define BUSY_TIMEOUT_MS 10000

struct report_queue {
	sqlite3 *db;
};

/* The table itself is the store's (store.c schema_update_sql). */
static const char pragmas[] = "PRAGMA journal_mode=WAL;"
			      "PRAGMA synchronous=NORMAL;";

/** report_queue_entry_clear - see report_queue.h. */
void
report_queue_entry_clear(struct report_queue_entry *e)
{
	if (e == NULL)
		return;
	free(e->path);
	free(e->policy_domain);
	free(e->report_id);
	free(e->submitter);
	free(e->last_error);
	memset(e, 0, sizeof(*e));
}

/** report_queue_backoff - see report_queue.h. */
int64_t
report_queue_backoff(unsigned attempts)
{
	int64_t s = BACKOFF_FIRST_S;

	for (unsigned i = 1; i < attempts && s < BACKOFF_MAX_S; i++)
		s *= 2;
	return s > BACKOFF_MAX_S ? BACKOFF_MAX_S : s;
}

static int
db_err(struct report_queue *q, const char *what, char **err)
{
	*err = xasprintf("report queue: %s: %s", what, sqlite3_errmsg(q->db));
	return -1;
}

/** report_queue_open - see report_queue.h. */
struct report_queue *
report_queue_open(struct store *s, char **err)
{
	struct report_queue *q = xcalloc(1, sizeof(*q));
	const char *path = store_path(s);
	char *emsg = NULL;

	if (sqlite3_open_v2(path, &q->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW,
		NULL) != SQLITE_OK) {
		*err = xasprintf("report queue: open %s: %s", path,
		    q->db ? sqlite3_errmsg(q->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	if (sqlite3_exec(q->db, pragmas, NULL, NULL, &emsg) != SQLITE_OK) {
		*err = xasprintf("report queue: set-up of %s: %s", path, emsg ? emsg : "?");
		sqlite3_free(emsg);
		goto fail;
	}
	return q;
fail:
	report_queue_close(q);
	return NULL;
}

/** report_queue_close - see report_queue.h. */
void
report_queue_close(struct report_queue *q)
{
	if (q == NULL)
		return;
	sqlite3_close(q->db);
	free(q);
}

/** report_queue_add - see report_queue.h. */
int
report_queue_add(struct report_queue *q, const struct report_queue_entry *e, int64_t now,
    char **err)
{
	static const char sql[] =
	    "INSERT INTO report_queue (path, policy_domain, report_id, submitter,"
	    " first_attempt, next_attempt, attempts, last_error) VALUES (?1,?2,?3,?4,?5,?6,1,?7)"
	    " ON CONFLICT(path) DO UPDATE SET next_attempt = ?6, attempts = attempts + 1,"
	    " last_error = ?7";
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(q, "prepare", err);
	sqlite3_bind_text(st, 1, e->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, e->policy_domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->report_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->submitter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now + report_queue_backoff(1));
	sqlite3_bind_text(st, 7, e->last_error, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		db_err(q, "insert", err);
	else
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? xstrdup((const char *)s) : NULL;
}

/** report_queue_due - see report_queue.h. */
int
report_queue_due(struct report_queue *q, int64_t now, struct report_queue_entry **v, size_t *n,
    char **err)
{
	static const char sql[] =
	    "SELECT id, path, policy_domain, report_id, submitter, first_attempt, next_attempt,"
	    " attempts, last_error FROM report_queue WHERE next_attempt <= ?1"
	    " ORDER BY first_attempt, id";
	sqlite3_stmt *st = NULL;
	int r;

	*v = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(q, "prepare", err);
	sqlite3_bind_int64(st, 1, now);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_queue_entry e;

		e.id = sqlite3_column_int64(st, 0);
		e.path = col_text(st, 1);
		e.policy_domain = col_text(st, 2);
		e.report_id = col_text(st, 3);
		e.submitter = col_text(st, 4);
		e.first_attempt = sqlite3_column_int64(st, 5);
		e.next_attempt = sqlite3_column_int64(st, 6);
		e.attempts = (unsigned)sqlite3_column_int(st, 7);
		e.last_error = col_text(st, 8);
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[(*n)++] = e;
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		for (size_t i = 0; i < *n; i++)
			report_queue_entry_clear(&(*v)[i]);
		free(*v);
		*v = NULL;
		*n = 0;
		return db_err(q, "select", err);
	}
	return 0;
}

/* Run sql with ?1 = a, ?2 = b, ?3 = text (each optional by the caller's sql). */
static int
exec3(struct report_queue *q, const char *sql, int64_t a, int64_t b, const char *text, char **err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(q, "prepare", err);
	sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		db_err(q, "update", err);
	else
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

/** report_queue_remove - see report_queue.h. */
int
report_queue_remove(struct report_queue *q, int64_t id, char **err)
{
	return exec3(q, "DELETE FROM report_queue WHERE id = ?1", id, 0, NULL, err);
}

/** report_queue_failed - see report_queue.h. */
int
report_queue_failed(struct report_queue *q, const struct report_queue_entry *e, int64_t now,
    const char *why, char **err)
{
	return exec3(q,
	    "UPDATE report_queue SET attempts = attempts + 1, next_attempt = ?2,"
	    " last_error = ?3 WHERE id = ?1",
	    e->id, now + report_queue_backoff(e->attempts + 1), why, err);
}

/** report_queue_count - see report_queue.h. */
long
report_queue_count(struct report_queue *q, char **err)
{
	sqlite3_stmt *st = NULL;
	long n = -1;

	if (sqlite3_prepare_v2(q->db, "SELECT count(*) FROM report_queue", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_err(q, "prepare", err);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	else
		db_err(q, "count", err);
	sqlite3_finalize(st);
	return n;
}
