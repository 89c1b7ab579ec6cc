/*
 * test_store_queue.c - unit tests of the write-behind outcome queue
 * (store/store_queue.h) over an SQLite store.
 *
 * Covers: everything written, in order (rowid order of the table); the
 * bound while the store cannot be opened (its directory does not exist
 * yet: max + K added, exactly K dropped, one drop line; the directory
 * made: exactly max rows); an outcome the store refuses (a policy domain
 * that is not a domain name) counted as rejected while the valid ones
 * around it are written; a database that opens but refuses every write
 * for a while (nothing rejected, all written once it takes writes again);
 * free with a flush writing what is held, and free without a reachable
 * store counting and logging what is left.
 *
 * Waiting is polling store_queue_stats() against a deadline, never a
 * fixed sleep. Each test works in its own mkdtemp() directory.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "outcome.h"
#include "store_queue.h"

static char dir[64];
static char dbpath[160];
static char subdir[96];
static char subdb[160];

static pthread_mutex_t cap_mu = PTHREAD_MUTEX_INITIALIZER;
static int cap_full, cap_not_written, cap_refused, cap_down, cap_back;
static char cap_lines[4096]; /* the store's state lines, for failure messages */

static void capture(int prio, const char *line)
{
	(void)prio;
	pthread_mutex_lock(&cap_mu);
	if (strstr(line, "outcome queue full"))
		cap_full++;
	if (strstr(line, "not written"))
		cap_not_written++;
	if (strstr(line, "refused, not kept"))
		cap_refused++;
	if (strstr(line, "outcomes are held in memory"))
		cap_down++;
	if (strstr(line, "reachable again"))
		cap_back++;
	if (strstr(line, "outcome store") && strlen(cap_lines) + strlen(line) + 2 < sizeof(cap_lines))
		strcat(strcat(cap_lines, line), "\n");
	pthread_mutex_unlock(&cap_mu);
}

/* A counter of capture(), read under its mutex (the writer thread logs). */
static int cap(const int *counter)
{
	int v;

	pthread_mutex_lock(&cap_mu);
	v = *counter;
	pthread_mutex_unlock(&cap_mu);
	return v;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/danepol-sq.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/o.db", dir);
	snprintf(subdir, sizeof(subdir), "%s/later", dir);
	snprintf(subdb, sizeof(subdb), "%s/o.db", subdir);
	cap_full = cap_not_written = cap_refused = cap_down = cap_back = 0;
	cap_lines[0] = 0;
	msg_set_capture(capture);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	msg_set_capture(NULL);
	cr_assert_eq(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* outcome number i (time 1000 + i, mx host mxI.example.net) of domain */
static void mk(struct tls_outcome *o, int i, const char *domain)
{
	char host[64];

	memset(o, 0, sizeof(*o));
	snprintf(host, sizeof(host), "mx%d.example.net", i);
	o->time = 1000 + i;
	o->source = OUTCOME_SRC_PROBE;
	o->policy_domain = (char *)domain;
	o->policy_type = OUTCOME_POLICY_TLSA;
	o->mx_host = strdup(host);
	o->success = 1;
}

static void add_n(struct store_queue *q, int from, int n, int want_rc)
{
	for (int i = from; i < from + n; i++) {
		struct tls_outcome o;

		mk(&o, i, "example.org");
		cr_assert_eq(store_queue_add(q, &o), want_rc, "outcome %d", i);
		free(o.mx_host);
	}
}

/* Poll until written + rejected reaches n (deadline 10 s). */
static void wait_done(struct store_queue *q, uint64_t n, struct store_queue_stats *st)
{
	int64_t end = clock_now_ms() + 10000;

	for (;;) {
		store_queue_stats(q, st);
		if (st->written + st->rejected >= n || clock_now_ms() > end)
			break;
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL); /* poll interval */
	}
	cr_assert_eq(st->written + st->rejected, n, "written %llu rejected %llu, want %llu",
	    (unsigned long long)st->written, (unsigned long long)st->rejected,
	    (unsigned long long)n);
}

/* The mx hosts' numbers in rowid order into nums (at most max); their count. */
static int rows(const char *path, int *nums, int max)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = 0;

	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT mx_host FROM outcomes ORDER BY rowid", -1, &st,
			 NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 0);

		cr_assert(h != NULL && n < max);
		nums[n++] = atoi(h + 2);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

TestSuite(store_queue, .init = setup, .fini = teardown, .timeout = 60);

Test(store_queue, all_written_in_order)
{
	static int nums[2000];
	struct store_queue_stats st;
	char *err = NULL;
	struct store_queue *q = store_queue_new(dbpath, NULL, 5000, &err);

	cr_assert_not_null(q, "%s", err);
	add_n(q, 0, 1234, 0); /* more than two batches */
	wait_done(q, 1234, &st);
	cr_assert_eq(st.written, 1234);
	cr_assert_eq(st.dropped, 0);
	cr_assert_eq(st.rejected, 0);
	cr_assert_eq(st.queued, 0);
	cr_assert_eq(st.connected, 1);
	cr_assert_eq(st.max, 5000);
	store_queue_free(q, 1000);
	cr_assert_eq(rows(dbpath, nums, 2000), 1234);
	for (int i = 0; i < 1234; i++)
		cr_assert_eq(nums[i], i, "row %d holds outcome %d", i, nums[i]);
	cr_assert_eq(cap(&cap_not_written), 0);
	cr_assert_eq(cap(&cap_full), 0);
}

Test(store_queue, bound_while_down_then_written)
{
	static int nums[200];
	struct store_queue_stats st;
	char *err = NULL;
	int64_t end;
	struct store_queue *q = store_queue_new(subdb, NULL, 100, &err);

	cr_assert_not_null(q, "%s", err);
	store_queue_set_backoff(q, 20, 100);
	add_n(q, 0, 100, 0);
	add_n(q, 100, 7, -1); /* K = 7 past the bound */
	store_queue_stats(q, &st);
	cr_assert_eq(st.queued, 100);
	cr_assert_eq(st.dropped, 7);
	cr_assert_eq(st.written, 0);
	cr_assert_eq(st.connected, 0);
	cr_assert_eq(cap(&cap_full), 1, "one drop line within 10 s, got %d", cap(&cap_full));
	end = clock_now_ms() + 10000;
	do { /* a few retries */
		store_queue_stats(q, &st);
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL); /* poll interval */
	} while (cap(&cap_down) == 0 && clock_now_ms() < end);
	/* not a synchronisation: lets the writer retry a few times (backoff 20..100 ms)
	 * before the directory appears; those retries must log nothing */
	nanosleep(&(struct timespec){ 0, 300 * 1000 * 1000 }, NULL);
	cr_assert_eq(mkdir(subdir, 0700), 0); /* the database is back */
	wait_done(q, 100, &st);
	cr_assert_eq(cap(&cap_down), 1, "one line for the store down, not one per retry: %d:\n%s",
	    cap(&cap_down), cap_lines);
	cr_assert_eq(cap(&cap_back), 1);
	cr_assert_eq(st.written, 100);
	cr_assert_eq(st.dropped, 7);
	cr_assert_eq(st.queued, 0);
	cr_assert_eq(st.connected, 1);
	add_n(q, 200, 1, 0); /* room again */
	wait_done(q, 101, &st);
	store_queue_free(q, 1000);
	cr_assert_eq(rows(subdb, nums, 200), 101);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(nums[i], i);
	cr_assert_eq(nums[100], 200);
}

Test(store_queue, refused_outcome_rejected_others_written)
{
	static int nums[100];
	struct store_queue_stats st;
	char *err = NULL;
	struct store_queue *q = store_queue_new(dbpath, NULL, 1000, &err);
	struct tls_outcome o;

	cr_assert_not_null(q, "%s", err);
	store_queue_set_backoff(q, 20, 100);
	for (int i = 0; i < 30; i++) {
		mk(&o, i, i == 9 || i == 20 ? "bad domain!" : "example.org");
		cr_assert_eq(store_queue_add(q, &o), 0);
		free(o.mx_host);
	}
	wait_done(q, 30, &st);
	cr_assert_eq(st.written, 28);
	cr_assert_eq(st.rejected, 2);
	cr_assert_eq(st.dropped, 0);
	cr_assert_eq(st.queued, 0);
	cr_assert_eq(cap(&cap_refused), 2);
	store_queue_free(q, 1000);
	cr_assert_eq(rows(dbpath, nums, 100), 28);
	for (int i = 0, want = 0; i < 28; i++, want++) {
		if (want == 9 || want == 20)
			want++;
		cr_assert_eq(nums[i], want, "row %d holds %d, want %d", i, nums[i], want);
	}
}

Test(store_queue, free_flushes_what_is_held)
{
	static int nums[100];
	char *err = NULL;
	struct store_queue *q = store_queue_new(subdb, NULL, 1000, &err);
	int64_t end;

	cr_assert_not_null(q, "%s", err);
	store_queue_set_backoff(q, 60000, 60000); /* only the shutdown ends its wait */
	add_n(q, 0, 50, 0);
	end = clock_now_ms() + 10000;
	while (cap(&cap_down) == 0 && clock_now_ms() < end) /* the writer is in its backoff */
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL); /* poll interval */
	cr_assert_eq(cap(&cap_down), 1, "%s", cap_lines);
	cr_assert_eq(mkdir(subdir, 0700), 0);
	store_queue_free(q, 5000);
	cr_assert_eq(rows(subdb, nums, 100), 50);
	cr_assert_eq(cap(&cap_not_written), 0);
}

Test(store_queue, free_counts_what_is_left)
{
	char *err = NULL;
	struct store_queue *q = store_queue_new(subdb, NULL, 1000, &err);

	cr_assert_not_null(q, "%s", err);
	store_queue_set_backoff(q, 20, 100);
	add_n(q, 0, 12, 0);
	store_queue_free(q, 50); /* the directory never appears */
	cr_assert_eq(cap(&cap_not_written), 1);
}

/* Run sql on the SQLite file at path (another connection). */
static void exec_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	char *e = NULL;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000); /* the writer may be in a transaction */
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &e), SQLITE_OK, "%s", e ? e : "");
	sqlite3_close(db);
}

/*
 * The database opens but refuses every write for a while (a trigger
 * aborting each insert): the outcomes are the store's failure, not
 * theirs: none is rejected, all are written once it takes writes again.
 */
Test(store_queue, store_refusing_every_write_loses_nothing)
{
	static int nums[100];
	struct store_queue_stats st;
	char *err = NULL;
	struct store_queue *q;
	int64_t end;

	q = store_queue_new(dbpath, NULL, 1000, &err);
	cr_assert_not_null(q, "%s", err);
	store_queue_set_backoff(q, 20, 100);
	add_n(q, 0, 1, 0);
	wait_done(q, 1, &st); /* the schema exists */
	exec_sql(dbpath, "CREATE TRIGGER down BEFORE INSERT ON outcomes "
			 "BEGIN SELECT RAISE(ABORT, 'the database is down'); END");
	add_n(q, 1, 40, 0); /* more than QB_PARK */
	end = clock_now_ms() + 10000;
	while (cap(&cap_down) == 0 && clock_now_ms() < end) /* until the store is blamed */
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL); /* poll interval */
	store_queue_stats(q, &st);
	cr_assert_eq(cap(&cap_down), 1, "%s", cap_lines);
	cr_assert(strstr(cap_lines, "refuses every write: ") != NULL, "%s", cap_lines);
	cr_assert_eq(st.connected, 0);
	cr_assert_eq(st.written, 1);
	cr_assert_eq(st.rejected, 0);
	cr_assert_eq(st.queued, 40);
	exec_sql(dbpath, "DROP TRIGGER down");
	wait_done(q, 41, &st);
	cr_assert_eq(st.written, 41);
	cr_assert_eq(st.rejected, 0);
	cr_assert_eq(cap(&cap_refused), 0);
	cr_assert_eq(cap(&cap_down), 1, "one line for the store refusing, got %d:\n%s", cap(&cap_down),
	    cap_lines);
	cr_assert_eq(cap(&cap_back), 1, "one line for the store back, got %d", cap(&cap_back));
	store_queue_free(q, 1000);
	cr_assert_eq(rows(dbpath, nums, 100), 41);
}
