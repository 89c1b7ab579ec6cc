/*
 * test_store_backends.c - the outcome store's PostgreSQL backend
 * (store/store_pg.c) through store.h, against a real PostgreSQL: the
 * database whose libpq URI is in DANEPOL_TEST_PG (tests/unit/store/
 * store_pg.sh starts a private cluster and sets it; without it every
 * test is skipped). Each test works in a database of its own, created
 * (dropped first) beside that one, so the tests may run in parallel.
 *
 * Covers: the round trip of every field and the relay; dedupe keys per
 * relay; each_domain; time ranges and the domain filter; a batch of 10000
 * read back in order (ten cursor fetches); 8 threads with a store each
 * adding 2000 outcomes; relays opening a new database at once (the schema
 * lock); claims (taken, held, expiry takeover, renewal, done, released);
 * sts_policies; migration of a version-2 database made by SQL; a newer
 * version and an empty version table refused; other programs' tables
 * left alone; hostile rows written by SQL (5 MB text, policy_strings not
 * JSON or not strings, unknown result type, control characters, an
 * out-of-range number) refused by each() with the row's id; the password
 * never in messages; an unreachable server failing within the timeout; a
 * callback calling its own store refused, not deadlocked; a connection
 * killed by the server re-established by the next call; one killed under
 * a cursor an error, its rows not replayed to the callback.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "outcome.h"
#include "store.h"
#include "stspol.h"

static char uri[1024];	/* the test's own database */
static char dbname[64]; /* its name */

/* DANEPOL_TEST_PG with its database replaced by name (into out) */
static void
uri_for(const char *name, char *out, size_t n)
{
	const char *base = getenv("DANEPOL_TEST_PG"), *q, *slash;

	cr_assert_not_null(base);
	q = strchr(base, '?');
	if (q == NULL)
		q = base + strlen(base);
	for (slash = q; slash > base && slash[-1] != '/'; slash--)
		;
	cr_assert(slash > base, "DANEPOL_TEST_PG is not a postgresql:// URI: %s", base);
	snprintf(out, n, "%.*s%s%s", (int)(slash - base), base, name, q);
}

/* Run sql on the database of uri u; fails the test on an error. */
static void
sql_on(const char *u, const char *sql)
{
	PGconn *c = PQconnectdb(u);
	PGresult *r;

	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	r = PQexec(c, sql);
	cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
	    "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* The integer sql returns on the test's database. */
static long
sql_int(const char *sql)
{
	PGconn *c = PQconnectdb(uri);
	PGresult *r;
	long v;

	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	r = PQexec(c, sql);
	cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
	v = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return v;
}

static void
sql(const char *s)
{
	sql_on(uri, s);
}

/* A fresh database for this test (its name from the test's). */
static void
setup(void)
{
	char drop[160], create[160];
	const char *base = getenv("DANEPOL_TEST_PG");

	if (base == NULL || base[0] == 0)
		cr_skip_test("DANEPOL_TEST_PG not set (tests/unit/store/store_pg.sh sets it)");
	snprintf(dbname, sizeof(dbname), "t_%ld_%ld", (long)getpid(), (long)time(NULL) % 100000);
	uri_for(dbname, uri, sizeof(uri));
	snprintf(drop, sizeof(drop), "DROP DATABASE IF EXISTS %s", dbname);
	snprintf(create, sizeof(create), "CREATE DATABASE %s", dbname);
	sql_on(base, drop);
	sql_on(base, create);
}

static void
teardown(void)
{
	char drop[160];
	const char *base = getenv("DANEPOL_TEST_PG");

	if (base == NULL || base[0] == 0)
		return;
	snprintf(drop, sizeof(drop), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	sql_on(base, drop);
}

TestSuite(pg, .init = setup, .fini = teardown, .timeout = 120);

/* An outcome with borrowed strings (never cleared). */
static struct tls_outcome
mk(int64_t t, const char *domain, int success, const char *type)
{
	struct tls_outcome o = { .time = t, .source = OUTCOME_SRC_PROBE,
		.policy_domain = (char *)domain, .success = success,
		.result_type = success ? NULL : type };
	return o;
}

static struct store *
open_as(const char *relay)
{
	char *err = NULL;
	struct store *s = store_open(uri, &err);

	cr_assert_not_null(s, "%s", err);
	cr_assert_str_eq(store_kind(s), "postgresql");
	if (relay != NULL)
		store_set_relay(s, relay);
	return s;
}

struct seen {
	size_t n;
	int64_t last_time;
	long last_seq;
	int in_order;
	struct tls_outcome first;
	int stop_at;
};

static int
collect(const struct tls_outcome *o, void *arg)
{
	struct seen *s = arg;
	long seq = o->detail ? atol(o->detail) : 0;

	if (s->n == 0) {
		outcome_copy(&s->first, o);
		s->in_order = 1;
	} else if (o->time < s->last_time || (o->time == s->last_time && seq < s->last_seq))
		s->in_order = 0;
	s->last_time = o->time;
	s->last_seq = seq;
	s->n++;
	return s->stop_at && (int)s->n == s->stop_at ? 42 : 0;
}

static size_t
count(struct store *s, int64_t from, int64_t to, const char *domain)
{
	struct seen seen = { 0 };
	char *err = NULL;

	cr_assert_eq(store_each(s, from, to, domain, collect, &seen, &err), 0, "%s", err);
	outcome_clear(&seen.first);
	return seen.n;
}

Test(pg, roundtrip_every_field_and_relay)
{
	char *ps[] = { "3 1 1 AABB", "mx: \"quoted\\\" {x,y}" };
	struct tls_outcome o = mk(1000, "Secure.Example.", 0, "certificate-not-trusted");
	struct seen seen = { 0 };
	char *err = NULL;
	struct store *s = open_as("relay-1.example");

	o.source = OUTCOME_SRC_EXIM;
	o.policy_type = OUTCOME_POLICY_TLSA;
	o.policy_strings = ps;
	o.npolicy_strings = 2;
	o.mx_host = "mx1.secure.example";
	o.receiving_ip = "192.0.2.1";
	o.sending_ip = "2001:db8::1";
	o.mx_helo = "mx1.secure.example";
	o.detail = "X509_V_ERR_DANE_NO_MATCH ü NULL";
	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	cr_assert_eq(store_each(s, 0, 2000, "SECURE.example", collect, &seen, &err), 0, "%s", err);
	cr_assert_eq(seen.n, 1);
	cr_assert_eq(seen.first.time, 1000);
	cr_assert_eq(seen.first.source, OUTCOME_SRC_EXIM);
	cr_assert_str_eq(seen.first.policy_domain, "secure.example");
	cr_assert_eq(seen.first.policy_type, OUTCOME_POLICY_TLSA);
	cr_assert_eq(seen.first.npolicy_strings, 2);
	cr_assert_str_eq(seen.first.policy_strings[0], ps[0]);
	cr_assert_str_eq(seen.first.policy_strings[1], ps[1]);
	cr_assert_str_eq(seen.first.mx_host, "mx1.secure.example");
	cr_assert_str_eq(seen.first.receiving_ip, "192.0.2.1");
	cr_assert_str_eq(seen.first.sending_ip, "2001:db8::1");
	cr_assert_str_eq(seen.first.mx_helo, "mx1.secure.example");
	cr_assert_eq(seen.first.success, 0);
	cr_assert_eq(seen.first.result_type, outcome_result_type("certificate-not-trusted"));
	cr_assert_str_eq(seen.first.detail, o.detail);
	cr_assert_str_eq(seen.first.relay, "relay-1.example");
	outcome_clear(&seen.first);

	/* a success: no result type, NULLs stay NULL */
	o = mk(1001, "b.example", 1, NULL);
	o.result_type = "validation-failure";
	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(store_each(s, 1001, 1002, NULL, collect, &seen, &err), 0, "%s", err);
	cr_assert_eq(seen.n, 1);
	cr_assert_null(seen.first.result_type);
	cr_assert_null(seen.first.mx_host);
	cr_assert_null(seen.first.policy_strings);
	cr_assert_eq(seen.first.success, 1);
	outcome_clear(&seen.first);
	store_close(s);
}

Test(pg, dedupe_keys_per_relay)
{
	struct tls_outcome o = mk(10, "a.example", 1, NULL);
	struct store *a = open_as("relay-a"), *b = open_as("relay-b");
	const char *keys[] = { "k2", "k3", "k2" };
	struct tls_outcome batch[3] = { o, o, o };
	size_t added = 99;
	char *err = NULL;

	cr_assert_eq(store_add_keyed(a, &o, "line-1", &err), 1, "%s", err);
	cr_assert_eq(store_add_keyed(a, &o, "line-1", &err), 0, "%s", err);
	cr_assert_eq(store_add_keyed(b, &o, "line-1", &err), 1, "%s", err);
	cr_assert_eq(store_add_keyed(b, &o, "line-1", &err), 0, "%s", err);
	/* another source, same key: a different outcome */
	o.source = OUTCOME_SRC_POSTFIX;
	cr_assert_eq(store_add_keyed(a, &o, "line-1", &err), 1, "%s", err);
	/* NULL keys never collide */
	cr_assert_eq(store_add_keyed(a, &o, NULL, &err), 1, "%s", err);
	cr_assert_eq(store_add_keyed(a, &o, NULL, &err), 1, "%s", err);
	/* a duplicate inside one batch counts once */
	cr_assert_eq(store_add_batch(a, batch, keys, 3, &added, &err), 0, "%s", err);
	cr_assert_eq(added, 2);
	cr_assert_eq(store_add_batch(a, batch, keys, 3, &added, &err), 0, "%s", err);
	cr_assert_eq(added, 0);
	cr_assert_eq(count(a, 0, 100, NULL), 7);
	cr_assert_eq(sql_int("SELECT count(*) FROM outcomes WHERE relay = 'relay-b'"), 1);
	store_close(a);
	store_close(b);
}

static int
domains(const char *d, void *arg)
{
	struct seen *s = arg;
	char *list = (char *)s->first.detail;
	size_t len = list ? strlen(list) : 0;

	s->first.detail = realloc(list, len + strlen(d) + 2);
	snprintf(s->first.detail + len, strlen(d) + 2, "%s ", d);
	s->n++;
	return s->stop_at && (int)s->n == s->stop_at ? 7 : 0;
}

Test(pg, each_domain_in_name_order_and_range)
{
	const char *names[] = { "c.example", "a.example", "b.example", "a.example", "z.example" };
	struct store *s = open_as(NULL);
	struct seen seen = { 0 };
	char *err = NULL;

	for (int i = 0; i < 5; i++) {
		struct tls_outcome o = mk(100 + i, names[i], 1, NULL);

		cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	}
	cr_assert_eq(store_each_domain(s, 0, 1000, domains, &seen, &err), 0, "%s", err);
	cr_assert_str_eq(seen.first.detail, "a.example b.example c.example z.example ");
	free(seen.first.detail);
	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(store_each_domain(s, 101, 104, domains, &seen, &err), 0, "%s", err);
	cr_assert_str_eq(seen.first.detail, "a.example b.example ");
	free(seen.first.detail);
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 2;
	cr_assert_eq(store_each_domain(s, 0, 1000, domains, &seen, &err), 7);
	free(seen.first.detail);
	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(store_each_domain(s, 500, 1000, domains, &seen, &err), 0, "%s", err);
	cr_assert_eq(seen.n, 0);
	store_close(s);
}

Test(pg, time_ranges_domain_filter_and_stop)
{
	struct store *s = open_as(NULL);
	struct seen seen = { .stop_at = 3 };
	char *err = NULL;

	for (int i = 0; i < 10; i++) {
		struct tls_outcome o = mk(1000 + i, i % 2 ? "odd.example" : "even.example", 1, NULL);

		cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	}
	cr_assert_eq(count(s, 1000, 1010, NULL), 10);
	cr_assert_eq(count(s, 1003, 1007, NULL), 4);
	cr_assert_eq(count(s, 1003, 1003, NULL), 0);
	cr_assert_eq(count(s, INT64_MIN, 1001, NULL), 1);
	cr_assert_eq(count(s, 1009, INT64_MAX, NULL), 1);
	cr_assert_eq(count(s, 1000, 1010, "odd.example"), 5);
	cr_assert_eq(count(s, 1000, 1010, "ODD.example."), 5);
	cr_assert_eq(count(s, 1000, 1010, "none.example"), 0);
	cr_assert_eq(store_each(s, 0, 5000, NULL, collect, &seen, &err), 42);
	cr_assert_eq(seen.n, 3);
	cr_assert(seen.in_order);
	outcome_clear(&seen.first);
	store_close(s);
}

Test(pg, batch_of_10000_read_back_in_order)
{
	enum { N = 10000 };
	struct tls_outcome *o = calloc(N, sizeof(*o));
	char (*detail)[16] = calloc(N, sizeof(*detail));
	struct store *s = open_as("bulk");
	struct seen seen = { 0 };
	struct timespec t0, t1;
	size_t added = 0;
	char *err = NULL;

	for (int i = 0; i < N; i++) {
		/* times out of insertion order, many equal: the order is time, then insertion */
		o[i] = mk(5000 + (i * 7) % 100, "bulk.example", i % 3 != 0, "validation-failure");
		snprintf(detail[i], sizeof(detail[i]), "%d", i);
		o[i].detail = detail[i];
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(store_add_batch(s, o, NULL, N, &added, &err), 0, "%s", err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_log_info("10000 rows in %.3f s", (double)(t1.tv_sec - t0.tv_sec) +
						 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	cr_assert_eq(added, N);
	cr_assert_eq(store_each(s, 0, 10000, NULL, collect, &seen, &err), 0, "%s", err);
	cr_assert_eq(seen.n, N);
	cr_assert(seen.in_order, "not in (time, insertion) order");
	cr_assert_eq(seen.first.time, 5000);
	cr_assert_str_eq(seen.first.detail, "0");
	outcome_clear(&seen.first);
	/* a refused outcome: nothing of the batch is written */
	o[N - 1].policy_domain = "bad domain";
	cr_assert_eq(store_add_batch(s, o, NULL, N, &added, &err), -1);
	cr_assert_not_null(strstr(err, "outcome 9999"), "%s", err);
	free(err);
	cr_assert_eq(sql_int("SELECT count(*) FROM outcomes"), N);
	store_close(s);
	free(o);
	free(detail);
}

struct writer {
	int id;
	int failed;
};

static void *
writer(void *arg)
{
	struct writer *w = arg;
	char relay[32], *err = NULL;
	struct store *s = store_open(uri, &err);

	if (s == NULL) {
		fprintf(stderr, "writer %d: %s\n", w->id, err);
		w->failed = 1;
		free(err);
		return NULL;
	}
	snprintf(relay, sizeof(relay), "relay-%d", w->id);
	store_set_relay(s, relay);
	for (int i = 0; i < 2000 && !w->failed; i++) {
		struct tls_outcome o = mk(i, "conc.example", 1, NULL);
		char key[32];

		snprintf(key, sizeof(key), "k%d", i);
		if (i % 2 == 0 && store_add(s, &o, &err) < 0)
			w->failed = 1;
		if (i % 2 == 1 && store_add_keyed(s, &o, key, &err) != 1)
			w->failed = 1;
	}
	if (w->failed)
		fprintf(stderr, "writer %d: %s\n", w->id, err ? err : "duplicate");
	free(err);
	store_close(s);
	return NULL;
}

Test(pg, eight_writers_with_a_store_each)
{
	pthread_t t[8];
	struct writer w[8];
	struct store *s;

	/* the first opens race for the schema too (pg_advisory_xact_lock) */
	for (int i = 0; i < 8; i++) {
		w[i] = (struct writer){ .id = i };
		cr_assert_eq(pthread_create(&t[i], NULL, writer, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(w[i].failed, 0, "writer %d failed", i);
	}
	s = open_as(NULL);
	cr_assert_eq(count(s, INT64_MIN, INT64_MAX, NULL), 16000);
	cr_assert_eq(sql_int("SELECT count(DISTINCT relay) FROM outcomes"), 8);
	cr_assert_eq(sql_int("SELECT max(version) FROM danepol_schema_version"), 3);
	cr_assert_eq(sql_int("SELECT count(*) FROM danepol_schema_version"), 1);
	store_close(s);
}

Test(pg, claims)
{
	struct store *a = open_as("relay-a"), *b = open_as("relay-b");
	char *by = NULL, *err = NULL;

	cr_assert_eq(store_claim(a, "report", "x.example/2026-12-06", 1000, 60, &by, &err), 1,
	    "%s", err);
	cr_assert_null(by);
	/* held by a: b gets 0 and a's name */
	cr_assert_eq(store_claim(b, "report", "x.example/2026-12-06", 1010, 60, &by, &err), 0,
	    "%s", err);
	cr_assert_str_eq(by, "relay-a");
	free(by);
	by = NULL;
	/* renewed by its holder */
	cr_assert_eq(store_claim(a, "report", "x.example/2026-12-06", 1050, 60, &by, &err), 1);
	cr_assert_eq(sql_int("SELECT expires FROM claims"), 1110);
	cr_assert_eq(store_claim(b, "report", "x.example/2026-12-06", 1100, 60, &by, &err), 0);
	free(by);
	by = NULL;
	/* expired: b takes it over */
	cr_assert_eq(store_claim(b, "report", "x.example/2026-12-06", 1110, 60, &by, &err), 1,
	    "%s", err);
	cr_assert_eq(store_claim(a, "report", "x.example/2026-12-06", 1111, 60, &by, &err), 0);
	cr_assert_str_eq(by, "relay-b");
	free(by);
	by = NULL;
	/* a's finish of b's claim changes nothing */
	cr_assert_eq(store_claim_finish(a, "report", "x.example/2026-12-06", 1, &err), 0, "%s",
	    err);
	cr_assert_eq(sql_int("SELECT count(*) FROM claims WHERE done"), 0);
	/* done: nobody claims it again, even long after */
	cr_assert_eq(store_claim_finish(b, "report", "x.example/2026-12-06", 1, &err), 0, "%s",
	    err);
	cr_assert_eq(store_claim(a, "report", "x.example/2026-12-06", 999999, 60, &by, &err), 0);
	cr_assert_str_eq(by, "relay-b");
	free(by);
	by = NULL;
	cr_assert_eq(store_claim(b, "report", "x.example/2026-12-06", 999999, 60, &by, &err), 0);
	free(by);
	by = NULL;
	/* released (done 0): claimable at once */
	cr_assert_eq(store_claim(a, "probe", "mx.example", 2000, 600, &by, &err), 1);
	cr_assert_eq(store_claim_finish(a, "probe", "mx.example", 0, &err), 0, "%s", err);
	cr_assert_eq(store_claim(b, "probe", "mx.example", 2001, 600, &by, &err), 1, "%s", err);
	/* kinds are separate */
	cr_assert_eq(store_claim(a, "fetch", "mx.example", 2001, 600, &by, &err), 1, "%s", err);
	/* hostile kind refused before the database */
	cr_assert_eq(store_claim(a, "bad\nkind", "k", 1, 1, &by, &err), -1);
	free(err);
	store_close(a);
	store_close(b);
}

Test(pg, sts_policies_put_get)
{
	struct stspol_row r = { .domain = "sts.example", .id = "20261206", .mode = "enforce",
		.max_age = 86400, .mx = "mx1.sts.example *.sts.example", .fetched = 1000,
		.expires = 87400 };
	struct stspol_row got;
	struct store *s = open_as(NULL);
	char *err = NULL;

	cr_assert_eq(stspol_get(s, "sts.example", &got, &err), 0, "%s", err);
	cr_assert_eq(stspol_put(s, &r, &err), 0, "%s", err);
	cr_assert_eq(stspol_get(s, "sts.example", &got, &err), 1, "%s", err);
	cr_assert_str_eq(got.domain, "sts.example");
	cr_assert_str_eq(got.id, "20261206");
	cr_assert_str_eq(got.mode, "enforce");
	cr_assert_eq(got.max_age, 86400);
	cr_assert_str_eq(got.mx, r.mx);
	cr_assert_eq(got.fetched, 1000);
	cr_assert_eq(got.expires, 87400);
	stspol_row_clear(&got);
	r.mode = "testing";
	r.mx = "";
	r.expires = INT64_MAX;
	cr_assert_eq(stspol_put(s, &r, &err), 0, "%s", err);
	cr_assert_eq(stspol_get(s, "sts.example", &got, &err), 1, "%s", err);
	cr_assert_str_eq(got.mode, "testing");
	cr_assert_str_eq(got.mx, "");
	cr_assert_eq(got.expires, INT64_MAX);
	stspol_row_clear(&got);
	cr_assert_eq(sql_int("SELECT count(*) FROM sts_policies"), 1);
	store_close(s);
}

/* a database of version 2 as danepol would have made it (no relay) */
static const char v2_sql[] =
    "CREATE TABLE danepol_schema_version (version integer NOT NULL);"
    "INSERT INTO danepol_schema_version VALUES (2);"
    "CREATE TABLE outcomes (id bigserial PRIMARY KEY, time bigint NOT NULL,"
    " source smallint NOT NULL, policy_domain text NOT NULL, have_policy smallint NOT NULL,"
    " policy_strings text NOT NULL DEFAULT '[]', mx_host text, receiving_ip text,"
    " sending_ip text, mx_helo text, success smallint NOT NULL, result_type text,"
    " detail text, dedupe_key text, UNIQUE (source, dedupe_key));"
    "CREATE INDEX outcomes_time ON outcomes (time);"
    "INSERT INTO outcomes (time, source, policy_domain, have_policy, policy_strings, success,"
    " result_type, dedupe_key) VALUES"
    " (100, 1, 'old.example', 1, '[\"3 1 1 AA\"]', 0, 'dane-required', 'line-1'),"
    " (101, 1, 'old.example', 0, '[]', 1, NULL, 'line-2');";

Test(pg, migrates_version_2)
{
	struct tls_outcome o = mk(102, "old.example", 1, NULL);
	struct store *s;
	struct seen seen = { 0 };
	char *err = NULL;

	sql(v2_sql);
	s = open_as("new-relay");
	cr_assert_eq(sql_int("SELECT version FROM danepol_schema_version"), 3);
	cr_assert_eq(store_each(s, 0, 1000, NULL, collect, &seen, &err), 0, "%s", err);
	cr_assert_eq(seen.n, 2);
	cr_assert_str_eq(seen.first.relay, "");
	cr_assert_eq(seen.first.npolicy_strings, 1);
	cr_assert_str_eq(seen.first.result_type, "dane-required");
	outcome_clear(&seen.first);
	/* the old rows' keys are the '' relay's: another relay may use them */
	o.source = OUTCOME_SRC_POSTFIX;
	cr_assert_eq(store_add_keyed(s, &o, "line-1", &err), 1, "%s", err);
	cr_assert_eq(store_add_keyed(s, &o, "line-1", &err), 0, "%s", err);
	cr_assert_eq(sql_int("SELECT count(*) FROM claims"), 0);
	cr_assert_eq(sql_int("SELECT count(*) FROM sts_policies"), 0);
	store_close(s);
	/* and it opens again as version 3, unchanged */
	s = open_as(NULL);
	cr_assert_eq(count(s, 0, 1000, NULL), 3);
	store_close(s);
}

static void
open_fails(const char *needle)
{
	char *err = NULL;
	struct store *s = store_open(uri, &err);

	cr_assert_null(s);
	cr_assert_not_null(err);
	cr_assert_not_null(strstr(err, needle), "%s", err);
	free(err);
}

Test(pg, newer_version_and_empty_version_refused)
{
	sql("CREATE TABLE danepol_schema_version (version integer NOT NULL)");
	open_fails("holds no version");
	sql("INSERT INTO danepol_schema_version VALUES (4)");
	open_fails("schema version 4, this danepol knows 3");
	/* nothing was changed */
	cr_assert_eq(sql_int("SELECT count(*) FROM pg_tables WHERE tablename = 'outcomes'"), 0);
}

Test(pg, other_programs_tables_left_alone)
{
	struct store *s;

	sql("CREATE TABLE users (name text); INSERT INTO users VALUES ('alice');"
	    "CREATE SCHEMA other; CREATE TABLE other.outcomes (x int);");
	s = open_as(NULL);
	store_close(s);
	cr_assert_eq(sql_int("SELECT count(*) FROM users"), 1);
	cr_assert_eq(sql_int("SELECT count(*) FROM danepol_schema_version"), 1);
}

/* each() over one hostile row (inserted by SQL) fails naming the row, no crash */
static void
hostile(const char *values, const char *needle)
{
	char *q = NULL, *err = NULL;
	struct store *s = open_as(NULL);
	struct seen seen = { 0 };
	long id;

	sql("DELETE FROM outcomes");
	cr_assert(asprintf(&q,
		      "INSERT INTO outcomes (time, source, policy_domain, have_policy,"
		      " policy_strings, mx_host, success, result_type, relay) VALUES (%s)",
		      values) > 0);
	sql(q);
	free(q);
	id = sql_int("SELECT max(id) FROM outcomes");
	cr_assert_eq(store_each(s, 0, 1000, NULL, collect, &seen, &err), -1, "%s", values);
	cr_assert_eq(seen.n, 0);
	cr_assert_not_null(err);
	cr_assert_not_null(strstr(err, needle), "%s: %s", values, err);
	cr_assert(asprintf(&q, "outcome row %ld", id) > 0);
	cr_assert_not_null(strstr(err, q), "%s", err);
	cr_assert_lt(strlen(err), 2000);
	free(q);
	free(err);
	err = NULL;
	/* the store still works after the refusal */
	sql("DELETE FROM outcomes");
	cr_assert_eq(count(s, 0, 1000, NULL), 0);
	store_close(s);
}

Test(pg, hostile_rows_refused_with_their_id)
{
	hostile("1, 0, 'h.example', 0, '[]', repeat('x', 5 * 1024 * 1024), 1, NULL, ''",
	    "longer than");
	hostile("1, 0, 'h.example', 0, '[not json', NULL, 1, NULL, ''", "not a JSON array");
	hostile("1, 0, 'h.example', 0, '{\"a\": 1}', NULL, 1, NULL, ''", "not a JSON array");
	hostile("1, 0, 'h.example', 0, '[\"a\", 3]', NULL, 1, NULL, ''", "not a JSON array");
	hostile("1, 0, 'h.example', 0, '[\"a\\u0000b\"]', NULL, 1, NULL, ''", "not a JSON array");
	hostile("1, 0, 'h.example', 0, '[]', NULL, 0, 'no-such-type', ''", "result_type");
	hostile("1, 0, 'h.example', 0, '[]', NULL, 0, NULL, ''", "result type");
	hostile("1, 0, 'h.example', 0, '[]', E'mx\\x01.example', 1, NULL, ''",
	    "control character");
	hostile("1, 0, 'h.example', 0, '[\"a\\nb\"]', NULL, 1, NULL, ''", "control character");
	hostile("1, 0, 'h.example', 0, '[]', NULL, 1, NULL, E'relay\\x1b'", "control character");
	hostile("1, 9, 'h.example', 0, '[]', NULL, 1, NULL, ''", "out of range");
	hostile("1, 0, 'h.example', 7, '[]', NULL, 1, NULL, ''", "out of range");
	hostile("1, 0, 'Not Canonical', 0, '[]', NULL, 1, NULL, ''", "policy domain");
}

Test(pg, password_never_shown)
{
	char bad[1200], *err = NULL, *q;
	struct store *s;

	/* a wrong port: the socket does not exist */
	snprintf(bad, sizeof(bad), "%s", uri);
	q = strstr(bad, "user=postgres");
	cr_assert_not_null(q);
	snprintf(q, sizeof(bad) - (size_t)(q - bad), "user=postgres&password=secret&port=1");
	s = store_open(bad, &err);
	cr_assert_null(s);
	cr_assert_not_null(err);
	cr_assert_null(strstr(err, "secret"), "%s", err);
	cr_assert_not_null(strstr(err, "password=***"), "%s", err);
	free(err);
	err = NULL;
	s = store_open("postgresql://postgres:secret@/nodb?host=/nonexistent", &err);
	cr_assert_null(s);
	cr_assert_null(strstr(err, "secret"), "%s", err);
	free(err);
	/* nor store_path() of an open store */
	snprintf(bad, sizeof(bad), "%s&password=secret", uri);
	s = store_open(bad, &err);
	cr_assert_not_null(s, "%s", err);
	cr_assert_null(strstr(store_path(s), "secret"), "%s", store_path(s));
	store_close(s);
}

static double
since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(pg, unreachable_server_fails_within_the_timeout)
{
	struct timespec t0;
	char *err = NULL;
	struct store *s;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	s = store_open("postgresql:///danepol?host=/nonexistent", &err);
	cr_assert_null(s);
	cr_assert_not_null(strstr(err, "cannot connect"), "%s", err);
	cr_assert_not_null(strstr(err, "/nonexistent"), "%s", err);
	cr_assert_null(strchr(err, '\n'), "%s", err);
	cr_assert_lt(since(&t0), 5.0);
	free(err);
	err = NULL;
	/* a TCP address that does not answer (TEST-NET-1): connect_timeout */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	s = store_open("postgresql://192.0.2.1:5432/danepol?connect_timeout=2", &err);
	cr_assert_null(s);
	cr_assert_not_null(err);
	cr_assert_lt(since(&t0), 4.5, "took %.1f s: %s", since(&t0), err);
	free(err);
}

static int
reenter(const struct tls_outcome *o, void *arg)
{
	struct store *s = arg;
	char *err = NULL;
	int rc = store_add(s, o, &err);

	cr_assert_eq(rc, -1);
	cr_assert_not_null(strstr(err, "own callbacks"), "%s", err);
	free(err);
	return 5;
}

Test(pg, callback_calling_its_store_refused_not_deadlocked)
{
	struct tls_outcome o = mk(1, "cb.example", 1, NULL);
	struct store *s = open_as(NULL);
	char *err = NULL;

	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	cr_assert_eq(store_each(s, 0, 10, NULL, reenter, s, &err), 5);
	cr_assert_eq(count(s, 0, 10, NULL), 1);
	store_close(s);
}

Test(pg, killed_connection_comes_back)
{
	struct tls_outcome o = mk(1, "reset.example", 1, NULL);
	struct store *s = open_as(NULL);
	char *err = NULL, *by = NULL, q[256];

	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	snprintf(q, sizeof(q),
	    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
	    " WHERE application_name = 'danepol' AND datname = '%s'",
	    dbname);
	cr_assert_eq(sql_int(q), 1);
	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	cr_assert_eq(sql_int(q), 1);
	cr_assert_eq(count(s, 0, 10, NULL), 2);
	cr_assert_eq(sql_int(q), 1);
	cr_assert_eq(store_claim(s, "k", "v", 1, 10, &by, &err), 1, "%s", err);
	store_close(s);
}

struct killer {
	size_t n;
	char q[256];
};

/* after the first fetched batch: the server ends the connection under the cursor */
static int
kill_midway(const struct tls_outcome *o, void *arg)
{
	struct killer *k = arg;

	(void)o;
	if (++k->n == 1500)
		cr_assert_eq(sql_int(k->q), 1);
	return 0;
}

Test(pg, connection_lost_under_a_cursor_is_an_error_not_a_replay)
{
	enum { N = 3000 };
	struct tls_outcome *o = calloc(N, sizeof(*o));
	struct store *s = open_as(NULL);
	struct killer k = { 0 };
	char *err = NULL;

	for (int i = 0; i < N; i++)
		o[i] = mk(i, "kill.example", 1, NULL);
	cr_assert_eq(store_add_batch(s, o, NULL, N, NULL, &err), 0, "%s", err);
	snprintf(k.q, sizeof(k.q),
	    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
	    " WHERE application_name = 'danepol' AND datname = '%s'",
	    dbname);
	cr_assert_eq(store_each(s, 0, N, NULL, kill_midway, &k, &err), -1);
	cr_assert_eq(k.n, 2000, "callbacks ran %zu times (replayed?)", k.n);
	cr_assert_not_null(err);
	cr_assert_not_null(strstr(err, "fetch"), "%s", err);
	cr_assert_null(strchr(err, '\n'), "%s", err);
	free(err);
	/* the next call connects again */
	cr_assert_eq(count(s, 0, N, NULL), N);
	store_close(s);
	free(o);
}
