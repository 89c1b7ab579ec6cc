/*
 * test_queue.c - report/report_queue.c: the retry queue with its backoff,
 * and its table as part of the outcome store's schema (store/store.c):
 * files made before the table joined the schema, with or without the
 * table report_queue.c used to create on its own, keep working (and keep
 * their rows).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_queue.h"
#include "store.h"

/* The outcome store's schema as store_open() created it before the queue joined it. */
static const char old_store_sql[] =
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
    "CREATE INDEX outcomes_time ON outcomes (time);"
    "INSERT INTO schema_version (version) VALUES (1);"
    "PRAGMA application_id = 1684106853;"
    "PRAGMA journal_mode=WAL;";

/* What report_queue_open() used to add on its own (unversioned), with one queued row. */
static const char old_queue_sql[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
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
    "INSERT INTO report_queue (path, policy_domain, report_id, submitter,"
    " first_attempt, next_attempt, attempts, last_error)"
    " VALUES ('/r/old.json.gz', 'old.example', 'rid-old', 's.example', 500, 800, 1, 'was down');";

static char tmpdir[] = "/tmp/test_queue_old.XXXXXX";
static char dbpath[64];

/* Make dbpath with sql through SQLite alone (no danepol code). */
static void
make_db(const char *sql)
{
	sqlite3 *h = NULL;
	char *emsg = NULL;

	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/o.db", tmpdir);
	cr_assert_eq(sqlite3_open(dbpath, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, &emsg), SQLITE_OK, "%s", emsg);
	sqlite3_close(h);
}

/* An int from the first column of sql on dbpath. */
static long long
db_int(const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;

	cr_assert_eq(sqlite3_open(dbpath, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void
remove_dir(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

/*
 * Queue one entry at now 1000 and find it due at 1300, next to the
 * nrows rows already queued (ndue of them due at 1300).
 */
static void
queue_works(struct store *s, long nrows, size_t ndue)
{
	struct report_queue_entry e = { 0, (char *)"/r/new.json.gz", (char *)"new.example",
	    (char *)"rid-new", (char *)"s.example", 0, 0, 0, (char *)"down" };
	struct report_queue_entry *v = NULL;
	struct report_queue *q;
	char *err = NULL;
	size_t n = 0;

	q = report_queue_open(s, &err);
	cr_assert_not_null(q, "%s", err);
	cr_expect_eq(report_queue_count(q, &err), nrows);
	cr_assert_eq(report_queue_add(q, &e, 1000, &err), 0, "%s", err);
	cr_expect_eq(report_queue_count(q, &err), nrows + 1);
	cr_assert_eq(report_queue_due(q, 1300, &v, &n, &err), 0, "%s", err);
	cr_assert_eq(n, ndue + 1);
	cr_expect_str_eq(v[n - 1].path, "/r/new.json.gz");
	for (size_t i = 0; i < n; i++)
		report_queue_entry_clear(&v[i]);
	free(v);
	report_queue_close(q);
}

Test(queue, new_store_has_the_table)
{
	struct store *s;
	char *err = NULL;

	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/o.db", tmpdir);
	cr_assert_not_null(s = store_open(dbpath, &err), "%s", err);
	cr_expect_eq(db_int("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	    " AND name = 'report_queue'"), 1, "created with the store's schema");
	cr_expect_eq(db_int("SELECT max(version) FROM schema_version"), 3);
	queue_works(s, 0, 0);
	store_close(s);
	remove_dir();
}

Test(queue, old_store_without_the_table)
{
	struct store *s;
	char *err = NULL;

	make_db(old_store_sql);
	cr_assert_eq(db_int("SELECT count(*) FROM sqlite_master WHERE name = 'report_queue'"), 0);
	cr_assert_not_null(s = store_open(dbpath, &err), "%s", err);
	cr_expect_eq(db_int("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	    " AND name = 'report_queue'"), 1, "store_open() added the table");
	cr_expect_eq(db_int("SELECT count(*) FROM sqlite_master WHERE type = 'index'"
	    " AND name = 'report_queue_next'"), 1);
	cr_expect_eq(db_int("SELECT max(version) FROM schema_version"), 3,
	    "a version 1 file is migrated to version 3 (sts outcomes, relay)");
	queue_works(s, 0, 0);
	store_close(s);

	/* and again: the update is idempotent, the row stays */
	cr_assert_not_null(s = store_open(dbpath, &err), "%s", err);
	cr_expect_eq(db_int("SELECT count(*) FROM report_queue"), 1);
	store_close(s);
	remove_dir();
}

Test(queue, old_store_with_the_old_table)
{
	struct report_queue_entry *v = NULL;
	struct report_queue *q;
	struct store *s;
	char *err = NULL;
	size_t n = 0;

	make_db(old_store_sql);
	{
		sqlite3 *h = NULL;
		char *emsg = NULL;

		cr_assert_eq(sqlite3_open(dbpath, &h), SQLITE_OK);
		cr_assert_eq(sqlite3_exec(h, old_queue_sql, NULL, NULL, &emsg), SQLITE_OK, "%s",
		    emsg);
		sqlite3_close(h);
	}
	cr_assert_not_null(s = store_open(dbpath, &err), "%s", err);
	cr_expect_eq(db_int("SELECT max(version) FROM schema_version"), 3);
	q = report_queue_open(s, &err);
	cr_assert_not_null(q, "%s", err);
	cr_assert_eq(report_queue_due(q, 800, &v, &n, &err), 0, "%s", err);
	cr_assert_eq(n, 1, "the row queued by the old code is kept");
	cr_expect_str_eq(v[0].path, "/r/old.json.gz");
	cr_expect_str_eq(v[0].policy_domain, "old.example");
	cr_expect_str_eq(v[0].report_id, "rid-old");
	cr_expect_eq(v[0].first_attempt, 500);
	cr_expect_eq(v[0].attempts, 1);
	cr_expect_str_eq(v[0].last_error, "was down");
	cr_assert_eq(report_queue_failed(q, &v[0], 800, "still down", &err), 0, "%s", err);
	report_queue_entry_clear(&v[0]);
	free(v);
	report_queue_close(q);
	queue_works(s, 1, 0);	/* the old row is due at 800 + 600 now */
	store_close(s);
	cr_expect_eq(db_int("SELECT count(*) FROM report_queue"), 2);
	remove_dir();
}

Test(queue, not_a_store)
{
	struct store *s;
	char *err = NULL;

	/* a database of something else: the store refuses it, nothing is added */
	make_db("CREATE TABLE other (x INTEGER);");
	cr_expect_null(s = store_open(dbpath, &err));
	cr_expect_not_null(err);
	free(err);
	cr_expect_eq(db_int("SELECT count(*) FROM sqlite_master WHERE name = 'report_queue'"), 0);
	remove_dir();
}

Test(queue, backoff)
{
	cr_expect_eq(report_queue_backoff(1), 300);
	cr_expect_eq(report_queue_backoff(2), 600);
	cr_expect_eq(report_queue_backoff(3), 1200);
	cr_expect_eq(report_queue_backoff(7), 19200);
	cr_expect_eq(report_queue_backoff(8), 21600, "capped at 6 h");
	cr_expect_eq(report_queue_backoff(1000), 21600);
}

Test(queue, add_due_failed_remove)
{
	char dir[] = "/tmp/test_queue.XXXXXX", db[64], *err = NULL;
	struct report_queue_entry e = { 0, (char *)"/r/f.json.gz", (char *)"x.example",
	    (char *)"rid", (char *)"s.example", 0, 0, 0, (char *)"down" };
	struct report_queue_entry *v = NULL;
	struct report_queue *q;
	struct store *s;
	size_t n = 9;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/o.db", dir);
	cr_assert_not_null(s = store_open(db, &err), "%s", err);
	q = report_queue_open(s, &err);
	cr_assert_not_null(q, "%s", err);
	cr_assert_eq(report_queue_add(q, &e, 1000, &err), 0, "%s", err);
	cr_expect_eq(report_queue_count(q, &err), 1);
	cr_assert_eq(report_queue_due(q, 1299, &v, &n, &err), 0);
	cr_expect_eq(n, 0, "not due before the backoff");
	free(v);
	cr_assert_eq(report_queue_due(q, 1300, &v, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(v[0].path, "/r/f.json.gz");
	cr_expect_str_eq(v[0].policy_domain, "x.example");
	cr_expect_eq(v[0].first_attempt, 1000);
	cr_expect_eq(v[0].attempts, 1);
	cr_assert_eq(report_queue_failed(q, &v[0], 1300, "still down", &err), 0);
	report_queue_entry_clear(&v[0]);
	free(v);
	cr_assert_eq(report_queue_due(q, 1899, &v, &n, &err), 0);
	cr_expect_eq(n, 0, "second backoff is 600 s");
	free(v);
	cr_assert_eq(report_queue_due(q, 1900, &v, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_expect_eq(v[0].attempts, 2);
	cr_expect_eq(v[0].first_attempt, 1000, "first attempt kept");
	cr_expect_str_eq(v[0].last_error, "still down");
	cr_assert_eq(report_queue_remove(q, v[0].id, &err), 0);
	report_queue_entry_clear(&v[0]);
	free(v);
	cr_expect_eq(report_queue_count(q, &err), 0);
	report_queue_close(q);

	/* reopening finds the table; the queue may outlive its store */
	q = report_queue_open(s, &err);
	cr_assert_not_null(q, "%s", err);
	store_close(s);
	cr_expect_eq(report_queue_count(q, &err), 0);
	report_queue_close(q);
	snprintf(db, sizeof(db), "rm -rf %s", dir);
	cr_expect_eq(system(db), 0);
}
