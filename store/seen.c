/*
 * seen.c - first-seen / last-seen history in the outcome store's table
 * seen (contract in seen.h; the table is created by store.c's schema).
 *
 * seen_observe(), in one IMMEDIATE transaction under the store's lock:
 * delete the rows of (kind, owner) whose item is not in the set, then for
 * each item keep its first_seen when its row exists, its first_seen is
 * not in the future and its last_seen is within max_gap of now, else
 * (re)start it at now; last_seen becomes now. Everything is checked
 * before the transaction starts, so a refused call writes nothing.
 * Duplicate items in the set are the same item.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "seen.h"
#include "store_backend.h"
#include "store_db.h"

/* Non-empty, at most max bytes, UTF-8 without control characters. */
static int
seen_check(const char *what, const char *v, size_t max, char **err)
{
	const char *why = NULL;

	if (v == NULL || v[0] == 0) {
		store_set_err(err, "seen: %s refused: empty", what);
		return -1;
	}
	if (store_text_check(v, max, &why) < 0) {
		store_set_err(err, "seen: %s refused: %s", what, why);
		return -1;
	}
	return 0;
}

static int
seen_dbfail(sqlite3 *db, const char *what, char **err)
{
	store_set_err(err, "seen: %s: %.300s", what, sqlite3_errmsg(db));
	return -1;
}

static int
seen_exec(sqlite3 *db, const char *sql, char **err)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return seen_dbfail(db, sql, err);
	return 0;
}

/* DELETE the rows of (kind, owner) whose item is not one of items[0..n). */
static int
seen_prune(sqlite3 *db, const char *kind, const char *owner, const char *const *items, size_t n,
    char **err)
{
	struct buf sql;
	sqlite3_stmt *st = NULL;
	char *text;
	int ret = -1;

	buf_init(&sql);
	buf_puts(&sql, "DELETE FROM seen WHERE kind = ?1 AND owner = ?2");
	if (n > 0) {
		buf_puts(&sql, " AND item NOT IN (");
		for (size_t i = 0; i < n; i++) {
			char ph[24];

			snprintf(ph, sizeof(ph), "%s?%zu", i ? ", " : "", i + 3);
			buf_puts(&sql, ph);
		}
		buf_puts(&sql, ")");
	}
	text = buf_steal(&sql);
	if (sqlite3_prepare_v2(db, text, -1, &st, NULL) != SQLITE_OK) {
		seen_dbfail(db, "prune", err);
		goto out;
	}
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
	for (size_t i = 0; i < n; i++)
		sqlite3_bind_text(st, (int)i + 3, items[i], -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		seen_dbfail(db, "prune", err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	free(text);
	return ret;
}

/*
 * The row of (kind, owner, item): 1 with *first and *last, 0 when absent,
 * -1 with *err.
 */
static int
seen_row(sqlite3 *db, const char *kind, const char *owner, const char *item, int64_t *first,
    int64_t *last, char **err)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(db,
		"SELECT first_seen, last_seen FROM seen"
		" WHERE kind = ?1 AND owner = ?2 AND item = ?3",
		-1, &st, NULL) != SQLITE_OK) {
		seen_dbfail(db, "select", err);
		goto out;
	}
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, item, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*first = sqlite3_column_int64(st, 0);
		if (last != NULL)
			*last = sqlite3_column_int64(st, 1);
		ret = 1;
	} else if (rc == SQLITE_DONE)
		ret = 0;
	else
		seen_dbfail(db, "select", err);
out:
	sqlite3_finalize(st);
	return ret;
}

static int
seen_put(sqlite3 *db, const char *kind, const char *owner, const char *item, int64_t first,
    int64_t last, char **err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (sqlite3_prepare_v2(db,
		"INSERT OR REPLACE INTO seen (kind, owner, item, first_seen, last_seen)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
		-1, &st, NULL) != SQLITE_OK) {
		seen_dbfail(db, "insert", err);
		goto out;
	}
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, item, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, first);
	sqlite3_bind_int64(st, 5, last);
	if (sqlite3_step(st) != SQLITE_DONE) {
		seen_dbfail(db, "insert", err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/*
 * The rollover history is a relay's own (its MX, its keys): it stays in
 * SQLite; a PostgreSQL outcome_db has none.
 */
static int
no_sqlite(struct store *s, char **err)
{
	store_set_err(err, "seen: %s is a %s store: the rollover history needs an SQLite outcome_db "
		      "(danepol rollover -c with a configuration whose outcome_db is a file)",
	    store_path(s), store_kind(s));
	return -1;
}

int
seen_observe(struct store *s, const char *kind, const char *owner, const char *const *items,
    size_t n, int64_t now, int64_t max_gap, int64_t *first_seen, char **err)
{
	sqlite3 *db;
	int ret = -1;

	if (s == NULL) {
		store_set_err(err, "seen: no store");
		return -1;
	}
	if (seen_check("kind", kind, SEEN_MAX_KIND, err) < 0 ||
	    seen_check("owner", owner, SEEN_MAX_OWNER, err) < 0)
		return -1;
	if (n > SEEN_MAX_ITEMS) {
		store_set_err(err, "seen: refused: %zu items, at most %d", n, SEEN_MAX_ITEMS);
		return -1;
	}
	if (n > 0 && items == NULL) {
		store_set_err(err, "seen: refused: no items");
		return -1;
	}
	if (max_gap < 0 || now < 0) {
		store_set_err(err, "seen: refused: negative time or gap");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char what[32];

		snprintf(what, sizeof(what), "item %zu", i);
		if (seen_check(what, items[i], SEEN_MAX_ITEM, err) < 0)
			return -1;
	}
	if ((db = store_db_lock(s)) == NULL)
		return no_sqlite(s, err);
	if (seen_exec(db, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	if (seen_prune(db, kind, owner, items, n, err) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		int64_t first = 0, last = 0, start = now;
		int rc = seen_row(db, kind, owner, items[i], &first, &last, err);

		if (rc < 0)
			goto fail;
		if (rc == 1 && first <= now && (max_gap == 0 || last >= now - max_gap))
			start = first;
		if (seen_put(db, kind, owner, items[i], start, now, err) < 0)
			goto fail;
		if (first_seen != NULL)
			first_seen[i] = start;
	}
	if (seen_exec(db, "COMMIT", err) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	seen_exec(db, "ROLLBACK", NULL);
out:
	store_db_unlock(s);
	return ret;
}

int
seen_get(struct store *s, const char *kind, const char *owner, const char *item,
    int64_t *first_seen, char **err)
{
	int64_t first = 0;
	sqlite3 *db;
	int rc;

	if (s == NULL) {
		store_set_err(err, "seen: no store");
		return -1;
	}
	if (seen_check("kind", kind, SEEN_MAX_KIND, err) < 0 ||
	    seen_check("owner", owner, SEEN_MAX_OWNER, err) < 0 ||
	    seen_check("item", item, SEEN_MAX_ITEM, err) < 0)
		return -1;
	if ((db = store_db_lock(s)) == NULL)
		return no_sqlite(s, err);
	rc = seen_row(db, kind, owner, item, &first, NULL, err);
	store_db_unlock(s);
	if (rc == 1 && first_seen != NULL)
		*first_seen = first;
	return rc;
}
