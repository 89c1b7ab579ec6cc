/*
 * test_seen.c - unit tests of the seen history (store/seen.h) in the
 * outcome store.
 *
 * Covers: a new item starts at now and keeps its first_seen across calls;
 * an item missing from a later set is deleted and restarts when it comes
 * back (an empty set clears the owner); a last_seen older than max_gap
 * restarts (max_gap 0: no limit); a first_seen in the future (clock set
 * back) restarts; seen_get of unknown kind/owner/item is 0 and changes
 * nothing; owners and kinds are independent; the history survives a
 * reopen; a store file without the table (made before it joined the
 * schema) gets it on open; hostile input (control characters, bad UTF-8,
 * empty or oversized kind/owner/item, too many items, NULL items, negative
 * times) is refused with *err and nothing written, and the exact bounds
 * are accepted.
 *
 * Each test works in its own mkdtemp() directory.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seen.h"
#include "store.h"

static char dir[64];
static char dbpath[128];
static struct store *st;

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void
setup(void)
{
	char *err = NULL;

	snprintf(dir, sizeof(dir), "/tmp/danepol-seen.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/o.db", dir);
	st = store_open(dbpath, &err);
	cr_assert_not_null(st, "%s", err ? err : "?");
}

static void
teardown(void)
{
	store_close(st);
	st = NULL;
	cr_assert_eq(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

TestSuite(seen, .init = setup, .fini = teardown);

#define OWNER "_25._tcp.mx1.ownok.example."
#define REC_A "3 1 1 AC7B7A06BC80D1A7D4A5E0C5E2F4C19A3E1F0B6A9C8D7E6F5A4B3C2D1E0F9A8B"
#define REC_B "3 1 1 8F79874457BDD3C1A2B0C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B2C1D0E9F8"
#define REC_C "2 1 1 0011223344556677889900112233445566778899001122334455667788990011"

/* observe items (NULL-terminated list) at now; first_seen into out. */
static void
observe(const char *kind, const char *owner, int64_t now, int64_t gap, int64_t *out, ...)
{
	const char *items[16];
	size_t n = 0;
	va_list ap;
	char *err = NULL;

	va_start(ap, out);
	while ((items[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	cr_assert_eq(seen_observe(st, kind, owner, items, n, now, gap, out, &err), 0, "observe: %s",
	    err ? err : "?");
	cr_assert_null(err);
}

/* first_seen of item, 0 when unknown. */
static int64_t
get(const char *kind, const char *owner, const char *item)
{
	int64_t t = -1;
	char *err = NULL;
	int rc = seen_get(st, kind, owner, item, &t, &err);

	cr_assert_geq(rc, 0, "get: %s", err ? err : "?");
	if (rc == 0) {
		cr_assert_eq(t, -1, "unknown item: *first_seen untouched");
		return 0;
	}
	return t;
}

Test(seen, new_item_starts_now_and_is_kept)
{
	int64_t f[3];

	observe("tlsa", OWNER, 1000, 0, f, REC_A, NULL);
	cr_expect_eq(f[0], 1000);
	observe("tlsa", OWNER, 1100, 0, f, REC_A, REC_B, NULL);
	cr_expect_eq(f[0], 1000);
	cr_expect_eq(f[1], 1100);
	observe("tlsa", OWNER, 5000, 0, f, REC_B, REC_A, NULL);
	cr_expect_eq(f[0], 1100);
	cr_expect_eq(f[1], 1000);
	cr_expect_eq(get("tlsa", OWNER, REC_A), 1000);
	cr_expect_eq(get("tlsa", OWNER, REC_B), 1100);
	/* first_seen may be NULL; duplicates are one item */
	observe("tlsa", OWNER, 5100, 0, NULL, REC_A, REC_A, REC_B, NULL);
	cr_expect_eq(get("tlsa", OWNER, REC_A), 1000);
}

Test(seen, absent_item_is_deleted_and_restarts)
{
	int64_t f[3];

	observe("tlsa", OWNER, 1000, 0, f, REC_A, REC_B, NULL);
	observe("tlsa", OWNER, 1100, 0, f, REC_B, NULL);
	cr_expect_eq(f[0], 1000);
	cr_expect_eq(get("tlsa", OWNER, REC_A), 0, "A left the set: deleted");
	observe("tlsa", OWNER, 1200, 0, f, REC_A, REC_B, NULL);
	cr_expect_eq(f[0], 1200, "A came back: its history restarts");
	cr_expect_eq(f[1], 1000);
	/* an empty set clears the owner */
	observe("tlsa", OWNER, 1300, 0, f, NULL);
	cr_expect_eq(get("tlsa", OWNER, REC_A), 0);
	cr_expect_eq(get("tlsa", OWNER, REC_B), 0);
}

Test(seen, max_gap_hole_restarts)
{
	int64_t f[1];

	observe("tlsa", OWNER, 1000, 300, f, REC_A, NULL);
	observe("tlsa", OWNER, 1300, 300, f, REC_A, NULL);
	cr_expect_eq(f[0], 1000, "a gap of exactly max_gap is no hole");
	observe("tlsa", OWNER, 1601, 300, f, REC_A, NULL);
	cr_expect_eq(f[0], 1601, "301 s unobserved: restarts");
	/* max_gap 0: no limit */
	observe("tlsa", OWNER, 1000000, 0, f, REC_A, NULL);
	cr_expect_eq(f[0], 1601);
	/* a first_seen in the future (the clock went back) restarts */
	observe("tlsa", OWNER, 900, 0, f, REC_A, NULL);
	cr_expect_eq(f[0], 900);
}

Test(seen, get_unknown_is_zero)
{
	int64_t t = 42;
	char *err = NULL;

	cr_expect_eq(seen_get(st, "tlsa", OWNER, REC_A, &t, &err), 0);
	cr_expect_eq(t, 42);
	observe("tlsa", OWNER, 1000, 0, NULL, REC_A, NULL);
	cr_expect_eq(seen_get(st, "served", OWNER, REC_A, &t, &err), 0, "other kind");
	cr_expect_eq(seen_get(st, "tlsa", "_25._tcp.mx2.ownok.example.", REC_A, &t, &err), 0);
	cr_expect_eq(seen_get(st, "tlsa", OWNER, REC_B, &t, &err), 0);
	cr_expect_eq(seen_get(st, "tlsa", OWNER, REC_A, NULL, &err), 1, "first_seen may be NULL");
	cr_expect_null(err);
	/* seen_get changes nothing */
	cr_expect_eq(get("tlsa", OWNER, REC_A), 1000);
}

Test(seen, owners_and_kinds_are_independent)
{
	int64_t f[1];

	observe("tlsa", OWNER, 1000, 0, f, REC_A, NULL);
	observe("tlsa", "_25._tcp.mx2.ownok.example.", 1100, 0, f, REC_B, NULL);
	observe("served", "mx1.ownok.example[127.0.0.21]:25", 1200, 0, f, REC_A, NULL);
	observe("served", OWNER, 1250, 0, f, REC_C, NULL);
	/* clearing one owner of one kind leaves the others */
	observe("tlsa", OWNER, 1300, 0, f, NULL);
	cr_expect_eq(get("tlsa", OWNER, REC_A), 0);
	cr_expect_eq(get("tlsa", "_25._tcp.mx2.ownok.example.", REC_B), 1100);
	cr_expect_eq(get("served", "mx1.ownok.example[127.0.0.21]:25", REC_A), 1200);
	cr_expect_eq(get("served", OWNER, REC_C), 1250);
}

Test(seen, history_survives_reopen)
{
	char *err = NULL;
	int64_t f[1];

	observe("tlsa", OWNER, 1000, 0, f, REC_A, NULL);
	store_close(st);
	st = store_open(dbpath, &err);
	cr_assert_not_null(st, "%s", err ? err : "?");
	observe("tlsa", OWNER, 2000, 0, f, REC_A, NULL);
	cr_expect_eq(f[0], 1000);
}

Test(seen, older_file_without_the_table_gets_it)
{
	sqlite3 *db;
	char *err = NULL;
	int64_t f[1];

	store_close(st);
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "DROP TABLE seen", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	st = store_open(dbpath, &err);
	cr_assert_not_null(st, "%s", err ? err : "?");
	observe("tlsa", OWNER, 1000, 0, f, REC_A, NULL);
	cr_expect_eq(get("tlsa", OWNER, REC_A), 1000);
}

/* A refused call: -1, *err set, and the state (A since 1000) unchanged. */
static void
refused(const char *what, const char *kind, const char *owner, const char *const *items, size_t n,
    int64_t now, int64_t gap)
{
	char *err = NULL;
	int64_t f[SEEN_MAX_ITEMS + 1];

	cr_expect_eq(seen_observe(st, kind, owner, items, n, now, gap, f, &err), -1, "%s: accepted",
	    what);
	cr_expect_not_null(err, "%s: no error text", what);
	free(err);
	cr_expect_eq(get("tlsa", OWNER, REC_A), 1000, "%s: A's history changed", what);
	cr_expect_eq(get("tlsa", OWNER, REC_B), 0, "%s: B written", what);
}

Test(seen, hostile_input_refused_nothing_written)
{
	const char *b[] = { REC_B };
	const char *bad[] = { REC_B, "3 1 1 AB\nCD" };
	const char *utf[] = { "3 1 1 \xc3\x28" };
	const char *empty[] = { "" };
	const char *nul[] = { NULL };
	const char *many[SEEN_MAX_ITEMS + 1];
	char *big_owner = malloc(SEEN_MAX_OWNER + 2), *big_item = malloc(SEEN_MAX_ITEM + 2);
	const char *bigi[] = { big_item };
	char *err = NULL;
	int64_t t;

	observe("tlsa", OWNER, 1000, 0, NULL, REC_A, NULL);
	refused("control character in an item", "tlsa", OWNER, bad, 2, 2000, 0);
	refused("control character in the owner", "tlsa", "_25._tcp.mx1\r.ownok.example.", b, 1,
	    2000, 0);
	refused("escape in the owner", "tlsa", "_25._tcp.\x1b[2Jmx1.example.", b, 1, 2000, 0);
	refused("DEL in the kind", "tl\x7fsa", OWNER, b, 1, 2000, 0);
	refused("invalid UTF-8", "tlsa", OWNER, utf, 1, 2000, 0);
	refused("empty item", "tlsa", OWNER, empty, 1, 2000, 0);
	refused("NULL item", "tlsa", OWNER, nul, 1, 2000, 0);
	refused("NULL items", "tlsa", OWNER, NULL, 1, 2000, 0);
	refused("empty owner", "tlsa", "", b, 1, 2000, 0);
	refused("NULL owner", "tlsa", NULL, b, 1, 2000, 0);
	refused("empty kind", "", OWNER, b, 1, 2000, 0);
	refused("oversized kind", "tlsa-and-more-than-16", OWNER, b, 1, 2000, 0);
	refused("negative now", "tlsa", OWNER, b, 1, -1, 0);
	refused("negative gap", "tlsa", OWNER, b, 1, 2000, -5);
	memset(big_owner, 'o', SEEN_MAX_OWNER + 1);
	big_owner[SEEN_MAX_OWNER + 1] = 0;
	refused("oversized owner", "tlsa", big_owner, b, 1, 2000, 0);
	memset(big_item, 'A', SEEN_MAX_ITEM + 1);
	big_item[SEEN_MAX_ITEM + 1] = 0;
	refused("oversized item", "tlsa", OWNER, bigi, 1, 2000, 0);
	for (size_t i = 0; i <= SEEN_MAX_ITEMS; i++)
		many[i] = REC_B;
	refused("too many items", "tlsa", OWNER, many, SEEN_MAX_ITEMS + 1, 2000, 0);
	cr_expect_eq(seen_get(st, "tlsa", "bad\nowner", REC_A, &t, &err), -1);
	cr_expect_not_null(err);
	free(err);
	err = NULL;
	/* the exact bounds are accepted */
	big_owner[SEEN_MAX_OWNER] = 0;
	big_item[SEEN_MAX_ITEM] = 0;
	cr_expect_eq(seen_observe(st, "0123456789abcdef", big_owner, bigi, 1, 3000, 0, NULL, &err),
	    0, "%s", err ? err : "?");
	cr_expect_eq(seen_observe(st, "tlsa", "o2", many, SEEN_MAX_ITEMS, 3000, 0, NULL, &err), 0,
	    "%s", err ? err : "?");
	cr_expect_eq(seen_get(st, "0123456789abcdef", big_owner, big_item, &t, &err), 1);
	cr_expect_eq(t, 3000);
	free(big_owner);
	free(big_item);
}
