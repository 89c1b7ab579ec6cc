/*
 * stspol.c - the table sts_policies (contract in stspol.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "stspol.h"
#include "store_backend.h"
#include "store_db.h"

static int
check(const char *what, const char *v, size_t max, int may_be_empty, char **err)
{
	const char *why = "empty";

	if (v == NULL || (v[0] == 0 && !may_be_empty) || store_db_text_check(v, max, &why) < 0) {
		*err = xasprintf("sts_policies: %s refused: %s", what, why);
		return -1;
	}
	return 0;
}

/* the end of a call: the error when ret < 0, the statement, the lock */
static int
done(struct store *s, sqlite3 *db, sqlite3_stmt *st, int ret, char **err)
{
	if (ret < 0)
		*err = xasprintf("sts_policies: %.300s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	store_db_unlock(s);
	return ret;
}

int
stspol_put(struct store *s, const struct stspol_row *r, char **err)
{
	const struct store_ops *ops;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	void *b;
	int ret = -1;

	*err = NULL;
	if (check("domain", r->domain, 253, 0, err) < 0 || check("id", r->id, 32, 0, err) < 0 ||
	    check("mode", r->mode, 16, 0, err) < 0 || check("mx", r->mx, STSPOL_MAX_MX, 1, err) < 0)
		return -1;
	if ((ops = store_backend(s, &b)) != NULL) /* INTERIM (pg-backend): main's split */
		return ops->stspol_put(b, r, err);
	db = store_db_lock(s);
	if (sqlite3_prepare_v2(db,
		"INSERT OR REPLACE INTO sts_policies"
		" (domain, id, mode, max_age, mx, fetched, expires)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		-1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, r->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r->max_age);
	sqlite3_bind_text(st, 5, r->mx, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, r->fetched);
	sqlite3_bind_int64(st, 7, r->expires);
	if (sqlite3_step(st) == SQLITE_DONE)
		ret = 0;
out:
	return done(s, db, st, ret, err);
}

/* column i as a malloc'd string ("" for NULL) */
static char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return xstrdup(t ? (const char *)t : "");
}

int
stspol_get(struct store *s, const char *domain, struct stspol_row *r, char **err)
{
	const struct store_ops *ops;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	void *b;
	int rc, ret = -1;

	memset(r, 0, sizeof(*r));
	*err = NULL;
	if ((ops = store_backend(s, &b)) != NULL) /* INTERIM (pg-backend): main's split */
		return ops->stspol_get(b, domain, r, err);
	db = store_db_lock(s);
	if (sqlite3_prepare_v2(db,
		"SELECT domain, id, mode, max_age, mx, fetched, expires FROM sts_policies"
		" WHERE domain = ?1",
		-1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	r->domain = col(st, 0);
	r->id = col(st, 1);
	r->mode = col(st, 2);
	r->max_age = sqlite3_column_int64(st, 3);
	r->mx = col(st, 4);
	r->fetched = sqlite3_column_int64(st, 5);
	r->expires = sqlite3_column_int64(st, 6);
	ret = 1;
out:
	return done(s, db, st, ret, err);
}

void
stspol_row_clear(struct stspol_row *r)
{
	free(r->domain);
	free(r->id);
	free(r->mode);
	free(r->mx);
	memset(r, 0, sizeof(*r));
}
