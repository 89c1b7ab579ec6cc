/*
 * test_store.c - unit tests of the outcome store (store/store.h) and of
 * struct tls_outcome (store/outcome.h).
 *
 * Covers: add/each round trip of every field, time ranges [from, to) and
 * the domain filter (canonical names), store_each_domain, callback stop
 * values, dedupe keys (store_add_keyed), all-or-none batches, concurrent
 * writers from threads on one store, two connections (and two connections
 * written from threads at once: busy timeout), reopen, corrupt and
 * foreign files, a newer schema, hostile strings (bad UTF-8, control
 * characters, huge values, bad domains, unregistered result types), and
 * crash safety: a child process writing rows is killed with SIGKILL after
 * it reported N committed rows through a pipe; the parent then opens the
 * database and finds at least those N rows intact.
 *
 * Each test works in its own mkdtemp() directory. Valgrind: see the head
 * comment of tests/unit/policy/test_policy_cache.c (same command with this binary); the
 * one log without an ERROR SUMMARY is the SIGKILLed writer's.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"
#include "outcome.h"
#include "store.h"

static char dir[64];
static char dbpath[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/danepol-store.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/o.db", dir);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* rm -rf dir without a shell (no child processes under valgrind). */
static void teardown(void)
{
	cr_assert_eq(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

TestSuite(store, .init = setup, .fini = teardown);

/* An outcome with borrowed strings (never cleared). */
static struct tls_outcome mk(int64_t t, const char *domain, int success, const char *type)
{
	struct tls_outcome o = { .time = t, .source = OUTCOME_SRC_PROBE,
		.policy_domain = (char *)domain, .success = success,
		.result_type = success ? NULL : type };
	return o;
}

struct seen {
	size_t n;
	int64_t times[64];
	char domains[64][64];
	struct tls_outcome first;
	int stop_at;
};

static int collect(const struct tls_outcome *o, void *arg)
{
	struct seen *s = arg;

	if (s->n == 0)
		outcome_copy(&s->first, o);
	if (s->n < 64) {
		s->times[s->n] = o->time;
		snprintf(s->domains[s->n], sizeof(s->domains[0]), "%s", o->policy_domain);
	}
	s->n++;
	return s->stop_at && (int)s->n == s->stop_at ? 42 : 0;
}

static size_t count_all(struct store *s)
{
	struct seen seen = { 0 };
	char *err = NULL;

	cr_assert_eq(store_each(s, INT64_MIN, INT64_MAX, NULL, collect, &seen, &err), 0, "%s", err);
	outcome_clear(&seen.first);
	return seen.n;
}

Test(store, roundtrip_every_field)
{
	char *ps[] = { "3 1 1 AABB", "2 1 1 CCDD" };
	struct tls_outcome o = mk(1000, "Secure.Example.", 0, "certificate-not-trusted");
	struct seen seen = { 0 };
	char *err = NULL;
	struct store *s = store_open(dbpath, &err);

	cr_assert_not_null(s, "%s", err);
	o.source = OUTCOME_SRC_EXIM;
	o.policy_type = OUTCOME_POLICY_TLSA;
	o.policy_strings = ps;
	o.npolicy_strings = 2;
	o.mx_host = "mx1.secure.example";
	o.receiving_ip = "192.0.2.1";
	o.sending_ip = "2001:db8::1";
	o.mx_helo = "mx1.secure.example";
	o.detail = "X509_V_ERR_DANE_NO_MATCH";
	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	cr_assert_eq(store_each(s, 0, 2000, "secure.example", collect, &seen, &err), 0);
	cr_assert_eq(seen.n, 1);
	cr_assert_eq(seen.first.time, 1000);
	cr_assert_eq(seen.first.source, OUTCOME_SRC_EXIM);
	cr_assert_str_eq(seen.first.policy_domain, "secure.example");
	cr_assert_eq(seen.first.policy_type, OUTCOME_POLICY_TLSA);
	cr_assert_eq(seen.first.npolicy_strings, 2);
	cr_assert_str_eq(seen.first.policy_strings[0], "3 1 1 AABB");
	cr_assert_str_eq(seen.first.policy_strings[1], "2 1 1 CCDD");
	cr_assert_str_eq(seen.first.mx_host, "mx1.secure.example");
	cr_assert_str_eq(seen.first.receiving_ip, "192.0.2.1");
	cr_assert_str_eq(seen.first.sending_ip, "2001:db8::1");
	cr_assert_str_eq(seen.first.mx_helo, "mx1.secure.example");
	cr_assert_eq(seen.first.success, 0);
	cr_assert_eq(seen.first.result_type, outcome_result_type("certificate-not-trusted"));
	cr_assert_str_eq(seen.first.detail, "X509_V_ERR_DANE_NO_MATCH");
	outcome_clear(&seen.first);
	cr_assert_null(seen.first.policy_domain);
	store_close(s);
}

/* Issue 11, item 10: destinations and addresses are not for every user. */
static unsigned
mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	return (unsigned)(st.st_mode & 07777);
}

Test(store, created_0640_with_its_wal_and_shm)
{
	struct tls_outcome o = mk(1000, "secure.example", 1, NULL);
	char wal[160], shm[160], *err = NULL;
	struct store *s;

	umask(022);		/* what a daemon or a shell usually has */
	s = store_open(dbpath, &err);
	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	snprintf(shm, sizeof(shm), "%s-shm", dbpath);
	cr_expect_eq(mode_of(dbpath), 0640, "database mode %04o", mode_of(dbpath));
	cr_expect_eq(mode_of(wal), 0640, "-wal mode %04o", mode_of(wal));
	cr_expect_eq(mode_of(shm), 0640, "-shm mode %04o", mode_of(shm));
	store_close(s);
}

Test(store, never_created_through_a_link)
{
	char target[160], *err = NULL;
	struct store *s;

	snprintf(target, sizeof(target), "%s/elsewhere.db", dir);
	cr_assert_eq(symlink(target, dbpath), 0);
	s = store_open(dbpath, &err);
	cr_expect_null(s);
	cr_expect_not_null(err);
	cr_expect_eq(access(target, F_OK), -1, "the link's target was created");
	store_close(s);
	free(err);
}

Test(store, success_drops_result_type_and_nulls_stay_null)
{
	struct tls_outcome o = mk(5, "a.example", 1, NULL);
	struct seen seen = { 0 };
	char *err = NULL;
	struct store *s = store_open(dbpath, &err);

	o.result_type = "validation-failure";	/* ignored for a success */
	cr_assert_eq(store_add(s, &o, &err), 0);
	cr_assert_eq(store_each(s, 0, 10, NULL, collect, &seen, &err), 0);
	cr_assert_null(seen.first.result_type);
	cr_assert_null(seen.first.mx_host);
	cr_assert_null(seen.first.policy_strings);
	cr_assert_eq(seen.first.npolicy_strings, 0);
	outcome_clear(&seen.first);
	store_close(s);
}

static int collect_domain(const char *d, void *arg)
{
	struct seen *s = arg;

	snprintf(s->domains[s->n++], sizeof(s->domains[0]), "%s", d);
	return s->stop_at && (int)s->n == s->stop_at ? 7 : 0;
}

Test(store, ranges_order_and_domains)
{
	const int64_t t[] = { 300, 100, 199, 200, 99 };
	const char *d[] = { "b.example", "a.example", "c.example", "a.example", "z.example" };
	struct seen seen = { 0 }, dom = { 0 };
	char *err = NULL;
	struct store *s = store_open(dbpath, &err);
	size_t i;

	for (i = 0; i < 5; i++) {
		struct tls_outcome o = mk(t[i], d[i], 1, NULL);

		cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	}
	/* [100, 300): 100, 199, 200 in time order; 99 and 300 outside */
	cr_assert_eq(store_each(s, 100, 300, NULL, collect, &seen, &err), 0);
	cr_assert_eq(seen.n, 3);
	cr_assert_eq(seen.times[0], 100);
	cr_assert_eq(seen.times[1], 199);
	cr_assert_eq(seen.times[2], 200);
	outcome_clear(&seen.first);
	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(store_each(s, 0, 1000, "A.EXAMPLE.", collect, &seen, &err), 0);
	cr_assert_eq(seen.n, 2);
	cr_assert_eq(seen.times[0], 100);
	cr_assert_eq(seen.times[1], 200);
	outcome_clear(&seen.first);
	/* distinct, sorted */
	cr_assert_eq(store_each_domain(s, 99, 300, collect_domain, &dom, &err), 0);
	cr_assert_eq(dom.n, 3);
	cr_assert_str_eq(dom.domains[0], "a.example");
	cr_assert_str_eq(dom.domains[1], "c.example");
	cr_assert_str_eq(dom.domains[2], "z.example");
	/* stop values pass through */
	memset(&dom, 0, sizeof(dom));
	dom.stop_at = 1;
	cr_assert_eq(store_each_domain(s, 0, 1000, collect_domain, &dom, &err), 7);
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 2;
	cr_assert_eq(store_each(s, 0, 1000, NULL, collect, &seen, &err), 42);
	cr_assert_eq(seen.n, 2);
	outcome_clear(&seen.first);
	/* an empty range, a bad domain filter */
	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(store_each(s, 500, 400, NULL, collect, &seen, &err), 0);
	cr_assert_eq(seen.n, 0);
	cr_assert_eq(store_each(s, 0, 1000, "bad domain", collect, &seen, &err), -1);
	cr_assert_not_null(err);
	free(err);
	store_close(s);
}

Test(store, dedupe_keys)
{
	struct tls_outcome o = mk(10, "a.example", 1, NULL);
	char *err = NULL;
	struct store *s = store_open(dbpath, &err);

	o.source = OUTCOME_SRC_POSTFIX;
	cr_assert_eq(store_add_keyed(s, &o, "line-1", &err), 1);
	cr_assert_eq(store_add_keyed(s, &o, "line-1", &err), 0);
	cr_assert_eq(store_add_keyed(s, &o, "line-2", &err), 1);
	o.source = OUTCOME_SRC_EXIM;	/* keys are per source */
	cr_assert_eq(store_add_keyed(s, &o, "line-1", &err), 1);
	cr_assert_eq(store_add_keyed(s, &o, NULL, &err), 1);	/* no key: never a duplicate */
	cr_assert_eq(store_add_keyed(s, &o, NULL, &err), 1);
	cr_assert_eq(store_add(s, &o, &err), 0);
	cr_assert_eq(count_all(s), 6);
	store_close(s);
	/* keys survive a reopen */
	s = store_open(dbpath, &err);
	o.source = OUTCOME_SRC_POSTFIX;
	cr_assert_eq(store_add_keyed(s, &o, "line-2", &err), 0);
	cr_assert_eq(count_all(s), 6);
	store_close(s);
}

Test(store, batch_all_or_none)
{
	struct tls_outcome v[3] = { mk(1, "a.example", 1, NULL), mk(2, "b.example", 1, NULL),
		mk(3, "c.example", 0, "no-such-type") };
	const char *keys[3] = { "k1", "k2", "k3" };
	char *err = NULL;
	size_t added = 99;
	struct store *s = store_open(dbpath, &err);

	cr_assert_eq(store_add_batch(s, v, keys, 3, &added, &err), -1);
	cr_assert_not_null(strstr(err, "outcome 2"), "%s", err);
	free(err);
	err = NULL;
	cr_assert_eq(count_all(s), 0);
	v[2].result_type = "dnssec-invalid";
	cr_assert_eq(store_add_batch(s, v, keys, 3, &added, &err), 0, "%s", err);
	cr_assert_eq(added, 3);
	cr_assert_eq(store_add_batch(s, v, keys, 3, &added, &err), 0);
	cr_assert_eq(added, 0);
	cr_assert_eq(store_add_batch(s, v, NULL, 2, &added, &err), 0);
	cr_assert_eq(added, 2);
	cr_assert_eq(count_all(s), 5);
	store_close(s);
}

/* ------------------------------------------------------------ hostile */

static void refused(struct store *s, struct tls_outcome *o, const char *what)
{
	char *err = NULL;

	cr_assert_eq(store_add(s, o, &err), -1, "%s accepted", what);
	cr_assert_not_null(err, "%s: no error text", what);
	free(err);
}

Test(store, hostile_strings_refused)
{
	char *huge = malloc(100000), *ps[1];
	struct tls_outcome o;
	char *err = NULL;
	struct store *s = store_open(dbpath, &err);
	size_t i;

	memset(huge, 'a', 99999);
	huge[99999] = 0;
	o = mk(1, "a.example", 1, NULL);
	o.mx_host = "mx\xff\xfe.example";
	refused(s, &o, "bad UTF-8");
	o.mx_host = "\xc0\xaf";	/* overlong '/' */
	refused(s, &o, "overlong UTF-8");
	o.mx_host = "\xed\xa0\x80";	/* surrogate */
	refused(s, &o, "surrogate");
	o.mx_host = "\xf4\x90\x80\x80";	/* > U+10FFFF */
	refused(s, &o, "beyond U+10FFFF");
	o.mx_host = "mx\x01";
	refused(s, &o, "control character");
	o.mx_host = "\xe2\x82";	/* truncated sequence */
	refused(s, &o, "truncated UTF-8");
	o.mx_host = NULL;
	o.detail = huge;
	refused(s, &o, "huge detail");
	o.detail = NULL;
	ps[0] = huge;
	o.policy_strings = ps;
	o.npolicy_strings = 1;
	refused(s, &o, "huge policy string");
	o.npolicy_strings = 1000;
	refused(s, &o, "too many policy strings");
	o.policy_strings = NULL;
	o.npolicy_strings = 0;
	o.policy_domain = huge;
	refused(s, &o, "huge domain");
	o.policy_domain = "bad domain";
	refused(s, &o, "bad domain");
	o.policy_domain = NULL;
	refused(s, &o, "missing domain");
	o = mk(1, "a.example", 0, NULL);
	refused(s, &o, "failure without result type");
	o.result_type = "made-up";
	refused(s, &o, "unregistered result type");
	o = mk(1, "a.example", 1, NULL);
	o.source = (enum outcome_source)77;
	refused(s, &o, "unknown source");
	o.source = OUTCOME_SRC_POSTFIX;
	cr_assert_eq(store_add_keyed(s, &o, huge, &err), -1);
	free(err);
	cr_assert_eq(count_all(s), 0);
	/* valid non-ASCII text and U-label domains are fine */
	o.mx_helo = "h\xc3\xa9lo \xf0\x9f\x98\x80";
	o.policy_domain = "b\xc3\xbc" "cher.example";
	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	{
		struct seen seen = { 0 };

		cr_assert_eq(store_each(s, 0, 10, "xn--bcher-kva.example", collect, &seen, &err), 0);
		cr_assert_eq(seen.n, 1);
		cr_assert_str_eq(seen.first.mx_helo, "h\xc3\xa9lo \xf0\x9f\x98\x80");
		outcome_clear(&seen.first);
	}
	for (i = 0; i < 3; i++)
		cr_assert_eq(store_add(s, &o, &err), 0);
	cr_assert_eq(count_all(s), 4);
	free(huge);
	store_close(s);
}

/* ------------------------------------------------------------ files */

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

Test(store, corrupt_and_foreign_files)
{
	char path[160], *err = NULL;
	char junk[8192];
	sqlite3 *db;
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 37 + 11);
	snprintf(path, sizeof(path), "%s/junk.db", dir);
	write_file(path, junk, sizeof(junk));
	cr_assert_null(store_open(path, &err));
	cr_assert_not_null(strstr(err, "not a usable SQLite database"), "%s", err);
	free(err);
	err = NULL;

	/* a real SQLite database of something else */
	snprintf(path, sizeof(path), "%s/other.db", dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_assert_null(store_open(path, &err));
	cr_assert_not_null(strstr(err, "not a danepol outcome store"), "%s", err);
	free(err);
	err = NULL;

	/* ours, but from a newer danepol */
	store_close(store_open(dbpath, &err));
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "UPDATE schema_version SET version = 99", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	cr_assert_null(store_open(dbpath, &err));
	cr_assert_not_null(strstr(err, "schema version 99"), "%s", err);
	free(err);
	err = NULL;

	/* a directory, a missing parent */
	cr_assert_null(store_open(dir, &err));
	cr_assert_not_null(err);
	free(err);
	err = NULL;
	snprintf(path, sizeof(path), "%s/no/such/dir.db", dir);
	cr_assert_null(store_open(path, &err));
	cr_assert_not_null(err);
	free(err);
	store_close(NULL);
}

Test(store, damaged_row_reported_not_crashing)
{
	struct tls_outcome o = mk(1, "a.example", 1, NULL);
	struct seen seen = { 0 };
	char *err = NULL;
	struct store *s = store_open(dbpath, &err);
	sqlite3 *db;

	cr_assert_eq(store_add(s, &o, &err), 0);
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	cr_assert_eq(sqlite3_exec(db, "UPDATE outcomes SET policy_strings = '{not json'", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_assert_eq(store_each(s, 0, 10, NULL, collect, &seen, &err), -1);
	cr_assert_not_null(strstr(err, "damaged"), "%s", err);
	free(err);
	store_close(s);
}

/* An MTA-STS outcome keeps its type and lines; a type out of range is refused, written or read. */
Test(store, sts_policy_type)
{
	char *lines[] = { "version: STSv1", "mode: enforce", "mx: *.sts.example", "max_age: 86400" };
	struct tls_outcome o = mk(5, "sts.example", 0, "sts-policy-fetch-error");
	struct seen seen = { 0 };
	char *err = NULL;
	struct store *s = store_open(dbpath, &err);
	sqlite3 *db;

	cr_assert_not_null(s, "%s", err);
	o.source = OUTCOME_SRC_STS;
	o.policy_type = OUTCOME_POLICY_STS;
	o.policy_strings = lines;
	o.npolicy_strings = 4;
	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	cr_assert_eq(store_each(s, 0, 10, NULL, collect, &seen, &err), 0, "%s", err);
	cr_assert_eq(seen.first.policy_type, OUTCOME_POLICY_STS);
	cr_assert_eq(seen.first.source, OUTCOME_SRC_STS);
	cr_assert_eq(seen.first.npolicy_strings, 4);
	cr_assert_str_eq(seen.first.policy_strings[2], "mx: *.sts.example");
	cr_assert_str_eq(seen.first.result_type, "sts-policy-fetch-error");
	cr_assert_str_eq(outcome_policy_name(seen.first.policy_type), "sts");
	cr_assert_str_eq(outcome_source_name(OUTCOME_SRC_STS), "sts-fetch");
	outcome_clear(&seen.first);

	o.policy_type = (enum outcome_policy)3;
	cr_assert_eq(store_add(s, &o, &err), -1);
	cr_assert_not_null(strstr(err, "policy type 3"), "%s", err);
	free(err);
	err = NULL;
	cr_assert_null(outcome_policy_name((enum outcome_policy)3));

	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	cr_assert_eq(sqlite3_exec(db, "UPDATE outcomes SET have_policy = 7", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(store_each(s, 0, 10, NULL, collect, &seen, &err), -1);
	cr_assert_not_null(strstr(err, "damaged"), "%s", err);
	free(err);
	outcome_clear(&seen.first);
	store_close(s);
}

/*
 * The outcomes table of schema versions 1 and 2 (no relay column), as
 * those versions created it, with one DANE row.
 */
static void
make_old_file(int version)
{
	char *sql = xasprintf(
	    "PRAGMA application_id = 1684106853;"
	    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
	    "INSERT INTO schema_version VALUES (%d);"
	    "CREATE TABLE outcomes (id INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
	    " source INTEGER NOT NULL, policy_domain TEXT NOT NULL, have_policy INTEGER NOT NULL,"
	    " policy_strings TEXT NOT NULL DEFAULT '[]', mx_host TEXT, receiving_ip TEXT,"
	    " sending_ip TEXT, mx_helo TEXT, success INTEGER NOT NULL, result_type TEXT,"
	    " detail TEXT, dedupe_key TEXT, UNIQUE (source, dedupe_key));"
	    "INSERT INTO outcomes (time, source, policy_domain, have_policy, policy_strings,"
	    " mx_host, success) VALUES (7, 0, 'v1.example', 1, '[\"3 1 1 AA\"]', 'mx.v1.example', 1);",
	    version);
	sqlite3 *db;

	unlink(dbpath);
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
	free(sql);
}

/* Files of versions 1 and 2 are migrated to version 3 and keep their rows (relay unknown). */
Test(store, migrates_versions_1_and_2)
{
	for (int v = 1; v <= 2; v++) {
		struct seen seen = { 0 };
		char *err = NULL;
		struct store *s;
		sqlite3 *db;
		sqlite3_stmt *st;

		make_old_file(v);
		cr_assert_not_null(s = store_open(dbpath, &err), "%s", err);
		cr_assert_eq(store_each(s, 0, 10, NULL, collect, &seen, &err), 0, "%s", err);
		cr_assert_eq(seen.n, 1);
		cr_assert_eq(seen.first.policy_type, OUTCOME_POLICY_TLSA);
		cr_assert_str_eq(seen.first.mx_host, "mx.v1.example");
		cr_assert_null(seen.first.relay);
		outcome_clear(&seen.first);
		store_close(s);
		cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
		cr_assert_eq(sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1,
				 &st, NULL),
		    SQLITE_OK);
		cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
		cr_assert_eq(sqlite3_column_int(st, 0), 3);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

/* Outcomes carry the store's relay name: the host name, or what store_set_relay() gave. */
Test(store, relay_name_kept)
{
	struct seen seen = { 0 };
	char *err = NULL, host[256] = "";
	struct store *s = store_open(dbpath, &err);
	struct tls_outcome o = mk(7, "relay.example", 1, NULL);

	cr_assert_not_null(s, "%s", err);
	gethostname(host, sizeof(host) - 1);
	cr_assert_str_eq(store_relay(s), host[0] ? host : "localhost");
	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	store_set_relay(s, "relay-b");
	store_set_relay(s, "bad\nname"); /* refused: keeps relay-b */
	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	cr_assert_eq(store_each(s, 0, 10, NULL, collect, &seen, &err), 0, "%s", err);
	cr_assert_eq(seen.n, 2);
	cr_assert_str_eq(seen.first.relay, host[0] ? host : "localhost");
	outcome_clear(&seen.first);
	cr_assert_str_eq(store_relay(s), "relay-b");
	cr_assert_str_eq(store_kind(s), "sqlite");
	store_close(s);
}

/* Claims: one holder at a time, expiry, renewal, done for good, release. */
Test(store, claims)
{
	char *err = NULL, *by = NULL;
	struct store *a = store_open(dbpath, &err), *b;

	cr_assert_not_null(a, "%s", err);
	cr_assert_not_null(b = store_open(dbpath, &err), "%s", err);
	store_set_relay(a, "relay-a");
	store_set_relay(b, "relay-b");
	cr_assert_eq(store_claim(a, "report", "d.example/2026-12-05", 100, 60, &by, &err), 1, "%s", err);
	cr_assert_eq(store_claim(b, "report", "d.example/2026-12-05", 120, 60, &by, &err), 0, "%s", err);
	cr_assert_str_eq(by, "relay-a");
	free(by);
	by = NULL;
	cr_assert_eq(store_claim(a, "report", "d.example/2026-12-05", 130, 60, NULL, &err), 1);
	/* a's lease now runs to 190: b takes it over at 190 */
	cr_assert_eq(store_claim(b, "report", "d.example/2026-12-05", 189, 60, NULL, &err), 0);
	cr_assert_eq(store_claim(b, "report", "d.example/2026-12-05", 190, 60, NULL, &err), 1);
	/* a's finish of a claim b holds changes nothing */
	cr_assert_eq(store_claim_finish(a, "report", "d.example/2026-12-05", 1, &err), 0);
	cr_assert_eq(store_claim(a, "report", "d.example/2026-12-05", 200, 60, &by, &err), 0);
	cr_assert_str_eq(by, "relay-b");
	free(by);
	by = NULL;
	/* done: nobody claims it again, however late */
	cr_assert_eq(store_claim_finish(b, "report", "d.example/2026-12-05", 1, &err), 0);
	cr_assert_eq(store_claim(a, "report", "d.example/2026-12-05", 9999, 60, &by, &err), 0);
	cr_assert_str_eq(by, "relay-b");
	free(by);
	by = NULL;
	cr_assert_eq(store_claim(b, "report", "d.example/2026-12-05", 9999, 60, NULL, &err), 0);
	/* released: claimable at once */
	cr_assert_eq(store_claim(a, "probe", "x.example", 100, 60, NULL, &err), 1);
	cr_assert_eq(store_claim_finish(a, "probe", "x.example", 0, &err), 0);
	cr_assert_eq(store_claim(b, "probe", "x.example", 101, 60, NULL, &err), 1);
	cr_assert_eq(store_claim(a, "probe", "bad\001key", 100, 60, NULL, &err), -1);
	cr_assert_not_null(strstr(err, "claim refused"), "%s", err);
	free(err);
	store_close(a);
	store_close(b);
}

/* ------------------------------------------------------------ concurrency */

struct writer {
	struct store *s;
	int id;
	atomic_int *failures;
};

#define NTHREADS 8
#define PER_THREAD 150

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char domain[32];
	int i;

	snprintf(domain, sizeof(domain), "t%d.example", w->id);
	for (i = 0; i < PER_THREAD; i++) {
		struct tls_outcome o = mk(i, domain, i % 3 != 0, "validation-failure");
		char *err = NULL;

		if (store_add(w->s, &o, &err) != 0) {
			atomic_fetch_add(w->failures, 1);
			free(err);
		}
	}
	return NULL;
}

static void run_writers(struct store **stores, size_t nstores)
{
	pthread_t th[NTHREADS];
	struct writer w[NTHREADS];
	atomic_int failures = 0;
	int i;

	for (i = 0; i < NTHREADS; i++) {
		w[i] = (struct writer){ .s = stores[(size_t)i % nstores], .id = i, .failures = &failures };
		cr_assert_eq(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(atomic_load(&failures), 0);
}

Test(store, threads_share_one_store)
{
	char *err = NULL;
	struct store *s = store_open(dbpath, &err);
	struct seen dom = { 0 };

	run_writers(&s, 1);
	cr_assert_eq(count_all(s), NTHREADS * PER_THREAD);
	cr_assert_eq(store_each_domain(s, 0, PER_THREAD, collect_domain, &dom, &err), 0);
	cr_assert_eq(dom.n, NTHREADS);
	store_close(s);
}

Test(store, two_connections)
{
	char *err = NULL;
	struct store *a = store_open(dbpath, &err), *b = store_open(dbpath, &err), *both[2];
	struct tls_outcome o = mk(1, "a.example", 1, NULL);

	cr_assert_not_null(a);
	cr_assert_not_null(b, "%s", err);
	cr_assert_eq(store_add(a, &o, &err), 0);
	cr_assert_eq(count_all(b), 1);
	cr_assert_eq(store_add(b, &o, &err), 0);
	cr_assert_eq(count_all(a), 2);
	both[0] = a;
	both[1] = b;
	run_writers(both, 2);	/* both connections write at once: busy timeout */
	cr_assert_eq(count_all(a), 2 + NTHREADS * PER_THREAD);
	store_close(a);
	cr_assert_eq(count_all(b), 2 + NTHREADS * PER_THREAD);
	store_close(b);
}

/* A store_each callback may add to the same store (recursive lock). */
static int add_from_callback(const struct tls_outcome *o, void *arg)
{
	struct store *s = arg;
	struct tls_outcome n = mk(o->time + 1000, "re.example", 1, NULL);
	char *err = NULL;

	return store_add(s, &n, &err) == 0 ? 0 : 1;
}

Test(store, callback_may_write)
{
	char *err = NULL;
	struct store *s = store_open(dbpath, &err);
	struct tls_outcome o = mk(1, "a.example", 1, NULL);

	cr_assert_eq(store_add(s, &o, &err), 0);
	cr_assert_eq(store_each(s, 0, 10, NULL, add_from_callback, s, &err), 0);
	cr_assert_eq(count_all(s), 2);
	store_close(s);
}

/* ------------------------------------------------------------ crash safety */

#define CRASH_REPORTED 200

/* Child: write rows one by one, report each committed count on fd. */
static void crash_child(int fd)
{
	char *err = NULL, detail[32];
	struct store *s = store_open(dbpath, &err);
	int i;

	if (s == NULL)
		_exit(2);
	for (i = 0;; i++) {
		struct tls_outcome o = mk(i, "crash.example", 0, "validation-failure");

		snprintf(detail, sizeof(detail), "row-%d", i);
		o.detail = detail;
		if (store_add(s, &o, &err) != 0)
			_exit(3);
		if (write(fd, &i, sizeof(i)) != sizeof(i))
			_exit(4);
	}
}

static int check_row(const struct tls_outcome *o, void *arg)
{
	int *next = arg;
	char want[32];

	snprintf(want, sizeof(want), "row-%d", *next);
	if (o->time != *next || o->detail == NULL || strcmp(o->detail, want) != 0 ||
	    o->result_type == NULL)
		return 1;
	(*next)++;
	return 0;
}

Test(store, sigkill_mid_write_keeps_committed_rows)
{
	int fds[2], last = -1, status, next = 0;
	char *err = NULL;
	struct store *s;
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(fds[0]);
		crash_child(fds[1]);
	}
	close(fds[1]);
	while (last < CRASH_REPORTED - 1)
		cr_assert_eq(read(fds[0], &last, sizeof(last)), sizeof(last));
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child ended otherwise");
	close(fds[0]);
	s = store_open(dbpath, &err);
	cr_assert_not_null(s, "reopen after crash: %s", err);
	cr_assert_eq(store_each(s, 0, INT64_MAX, NULL, check_row, &next, &err), 0,
	    "a row is damaged or missing at %d", next);
	cr_assert_geq(next, CRASH_REPORTED, "only %d of %d committed rows", next, CRASH_REPORTED);
	/* and the database is writable again */
	{
		struct tls_outcome o = mk(next, "crash.example", 0, "validation-failure");
		char d[32];

		snprintf(d, sizeof(d), "row-%d", next);
		o.detail = d;
		cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	}
	store_close(s);
}

/* ------------------------------------------------------------ outcome.c */

Test(store, outcome_copy_clear_and_names)
{
	char *ps[] = { "3 1 1 AA", NULL };
	struct tls_outcome a = mk(1, "a.example", 0, "tlsa-invalid"), b;

	a.policy_strings = ps;
	a.npolicy_strings = 2;
	a.mx_host = "mx";
	outcome_copy(&b, &a);
	cr_assert_neq(b.policy_domain, a.policy_domain);
	cr_assert_str_eq(b.policy_domain, "a.example");
	cr_assert_str_eq(b.policy_strings[0], "3 1 1 AA");
	cr_assert_null(b.policy_strings[1]);
	cr_assert_eq(b.result_type, a.result_type);
	outcome_clear(&b);
	cr_assert_null(b.mx_host);
	outcome_clear(NULL);
	cr_assert_str_eq(outcome_source_name(OUTCOME_SRC_PROBE), "probe");
	cr_assert_str_eq(outcome_source_name(OUTCOME_SRC_POSTFIX), "postfix");
	cr_assert_str_eq(outcome_source_name(OUTCOME_SRC_EXIM), "exim");
	cr_assert_str_eq(outcome_result_type("dane-required"), "dane-required");
	cr_assert_null(outcome_result_type("Dane-Required"));
	cr_assert_null(outcome_result_type(NULL));
}
