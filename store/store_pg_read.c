/*
 * store_pg_read.c - the PostgreSQL backend's reads (store_pg_int.h):
 * outcomes and their domains through a NO SCROLL cursor, PG_FETCH rows a
 * FETCH inside a read-only transaction, and the sts_policies row of a
 * domain. Nothing read is trusted: each row's length is bounded by the
 * server (a row longer than STORE_MAX_ROW comes with its texts as NULL),
 * numbers are parsed and range-checked, policy_strings must be a JSON
 * array of strings, result_type a registered name, and store_row_check()
 * sees each outcome before its callback; a refused row is an error naming
 * its id. Callbacks run with the handle's lock held and inside the
 * cursor's transaction: they must not call the same store.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "store_backend.h"
#include "store_pg_int.h"
#include "stspol.h"

#define PG_FETCH   1000 /* rows a FETCH */
#define PG_STR(x)  #x
#define PG_XSTR(x) PG_STR(x)

/* a cursor's rows, one at a time */
struct cur {
	/* 0 go on, non-0 stop (returned); an error: -1 with *err and failed set */
	int (*row)(struct store_pg *p, const PGresult *r, int i, struct cur *c, char **err);
	int called; /* callbacks run (no retry after the first) */
	int failed; /* a row was refused */
};

/* One attempt: BEGIN, DECLARE, FETCH until done or stopped, COMMIT. */
static int
cursor_once(struct store_pg *p, const char *sql, int n, const char *const *v, struct cur *c,
    char **err)
{
	char *decl = xasprintf("DECLARE danepol_cur NO SCROLL CURSOR FOR %s", sql);
	PGresult *r = NULL;
	int ret = -1, rc = 0, rows;

	if (store_pg_cmd(p, "begin", "BEGIN READ ONLY", 0, NULL, err) < 0 ||
	    store_pg_cmd(p, "declare cursor", decl, n, v, err) < 0)
		goto out;
	do {
		r = store_pg_query(p, "fetch", "FETCH " PG_XSTR(PG_FETCH) " FROM danepol_cur", 0,
		    NULL, PGRES_TUPLES_OK, err);
		if (r == NULL)
			goto out;
		rows = PQntuples(r);
		for (int i = 0; i < rows && rc == 0; i++)
			rc = c->row(p, r, i, c, err);
		PQclear(r);
	} while (rows == PG_FETCH && rc == 0);
	if (c->failed || store_pg_cmd(p, "commit", "COMMIT", 0, NULL, err) < 0)
		goto out;
	ret = rc;
out:
	if (ret == -1)
		store_pg_rollback(p);
	free(decl);
	return ret;
}

/* cursor_once() under the lock, once more after a reset when no callback ran. */
static int
cursor_run(struct store_pg *p, const char *sql, int n, const char *const *v, struct cur *c,
    char **err)
{
	int ret;

	if (store_pg_lock(p, err) < 0)
		return -1;
	ret = cursor_once(p, sql, n, v, c, err);
	if (ret == -1 && c->called == 0 && !c->failed && store_pg_reconnect(p)) {
		store_pg_err_clear(err);
		ret = cursor_once(p, sql, n, v, c, err);
	}
	pthread_mutex_unlock(&p->mu);
	return ret;
}

/* column col of row as an integer in [lo, hi]: 0, or -1 (NULL, not a number, out of range) */
static int
col_int(const PGresult *r, int row, int col, int64_t lo, int64_t hi, int64_t *v)
{
	const char *t = PQgetvalue(r, row, col);
	char *end;
	long long x;

	if (PQgetisnull(r, row, col))
		return -1;
	errno = 0;
	x = strtoll(t, &end, 10);
	if (errno != 0 || end == t || *end != 0 || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

static char *
col_text(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : xstrdup(PQgetvalue(r, row, col));
}

/* text (a JSON array of strings) into o's policy strings: 0, or -1 */
static int
pstrings_parse(const char *text, struct tls_outcome *o)
{
	json_t *arr = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	const char *v;
	size_t i, n;
	int ret = -1;

	if (arr == NULL || !json_is_array(arr))
		goto out;
	n = json_array_size(arr);
	o->policy_strings = n ? xcalloc(n, sizeof(char *)) : NULL;
	for (i = 0; i < n; i++) {
		if ((v = json_string_value(json_array_get(arr, i))) == NULL)
			goto out;
		o->policy_strings[o->npolicy_strings++] = xstrdup(v);
	}
	ret = 0;
out:
	json_decref(arr);
	return ret;
}

/* the columns of an outcome read back (outcome_sql()) */
enum {
	C_ID,
	C_LEN,
	C_TIME,
	C_SOURCE,
	C_PTYPE,
	C_SUCCESS,
	C_DOMAIN,
	C_PSTRINGS,
	C_MX,
	C_RIP,
	C_SIP,
	C_HELO,
	C_RTYPE,
	C_DETAIL,
	C_RELAY
};

/* Row i of r into *o (owned copies), without trust. 0, or -1 with *err naming where. */
static int
row_outcome(const PGresult *r, int i, struct tls_outcome *o, const char *where, char **err)
{
	int64_t len, src, ptype, ok;
	const char *what = NULL, *rt;

	memset(o, 0, sizeof(*o));
	if (col_int(r, i, C_LEN, 0, STORE_MAX_ROW, &len) < 0)
		what = "longer than "
		       "STORE_MAX_ROW (4 MiB)";
	else if (col_int(r, i, C_TIME, INT64_MIN, INT64_MAX, &o->time) < 0 ||
	    col_int(r, i, C_SOURCE, 0, OUTCOME_SRC_STS, &src) < 0 ||
	    col_int(r, i, C_PTYPE, 0, OUTCOME_POLICY_STS, &ptype) < 0 ||
	    col_int(r, i, C_SUCCESS, 0, 1, &ok) < 0)
		what = "a number out of range";
	else if (PQgetisnull(r, i, C_DOMAIN) || PQgetisnull(r, i, C_PSTRINGS))
		what = "a required value missing";
	else if (pstrings_parse(PQgetvalue(r, i, C_PSTRINGS), o) < 0)
		what = "policy_strings is not a JSON array of strings";
	if (what != NULL)
		goto out;
	o->source = (enum outcome_source)src;
	o->policy_type = (enum outcome_policy)ptype;
	o->success = (int)ok;
	o->policy_domain = col_text(r, i, C_DOMAIN);
	o->mx_host = col_text(r, i, C_MX);
	o->receiving_ip = col_text(r, i, C_RIP);
	o->sending_ip = col_text(r, i, C_SIP);
	o->mx_helo = col_text(r, i, C_HELO);
	o->detail = col_text(r, i, C_DETAIL);
	o->relay = col_text(r, i, C_RELAY);
	rt = PQgetisnull(r, i, C_RTYPE) ? NULL : PQgetvalue(r, i, C_RTYPE);
	if (rt != NULL && (o->result_type = outcome_result_type(rt)) == NULL)
		what = "result_type is not a registered RFC 8460 result type";
	if (o->success)
		o->result_type = NULL;
out:
	if (what == NULL)
		return 0;
	store_set_err(err, "%s: damaged row: %s", where, what);
	return -1;
}

struct each_ctx {
	struct cur c; /* first: the cursor's struct cur is this */
	int (*fn)(const struct tls_outcome *o, void *arg);
	void *arg;
};

static int
outcome_row(struct store_pg *p, const PGresult *r, int i, struct cur *c, char **err)
{
	struct each_ctx *x = (struct each_ctx *)c;
	char *where = xasprintf("%.300s: outcome row %.24s", p->shown, PQgetvalue(r, i, C_ID));
	struct tls_outcome o;
	int rc = -1;

	if (row_outcome(r, i, &o, where, err) == 0 && store_row_check(&o, where, err) == 0) {
		c->called++;
		rc = x->fn(&o, x->arg);
	} else
		c->failed = 1;
	outcome_clear(&o);
	free(where);
	return rc;
}

/*
 * The SELECT of each: every text of a row longer than STORE_MAX_ROW comes
 * as NULL (the server never sends it), with the row's length. Caller frees.
 */
static char *
outcome_sql(int with_domain)
{
	static const char *const texts[] = { "policy_domain", "policy_strings", "mx_host",
		"receiving_ip", "sending_ip", "mx_helo", "result_type", "detail", "relay" };
	struct buf b;
	size_t i, n = sizeof(texts) / sizeof(texts[0]);

	buf_init(&b);
	buf_puts(&b, "SELECT id, len, time, source, have_policy, success");
	for (i = 0; i < n; i++)
		buf_printf(&b, ", CASE WHEN len > %d THEN NULL ELSE %s END", STORE_MAX_ROW,
		    texts[i]);
	buf_puts(&b, " FROM (SELECT *, 0");
	for (i = 0; i < n; i++)
		buf_printf(&b, " + coalesce(octet_length(%s), 0)", texts[i]);
	buf_printf(&b,
	    " AS len FROM outcomes WHERE time >= $1 AND time < $2%s) q"
	    " ORDER BY time, id",
	    with_domain ? " AND policy_domain = $3" : "");
	return buf_steal(&b);
}

int
store_pg_read_each(void *b, int64_t from, int64_t to, const char *domain,
    int (*fn)(const struct tls_outcome *o, void *arg), void *arg, char **err)
{
	struct each_ctx x = { .c = { .row = outcome_row }, .fn = fn, .arg = arg };
	char f[24], t[24], *sql = outcome_sql(domain != NULL);
	const char *const v[] = { f, t, domain };
	int ret;

	snprintf(f, sizeof(f), "%" PRId64, from);
	snprintf(t, sizeof(t), "%" PRId64, to);
	ret = cursor_run(b, sql, domain ? 3 : 2, v, &x.c, err);
	free(sql);
	return ret;
}

struct domain_ctx {
	struct cur c; /* first */
	int (*fn)(const char *domain, void *arg);
	void *arg;
};

static int
domain_row(struct store_pg *p, const PGresult *r, int i, struct cur *c, char **err)
{
	struct domain_ctx *x = (struct domain_ctx *)c;
	const char *d = PQgetvalue(r, i, 0), *why = "missing";

	if (PQgetisnull(r, i, 0) || store_text_check(d, 255, &why) < 0 || d[0] == 0) {
		store_set_err(err, "%.300s: outcomes: damaged policy domain: %s", p->shown, why);
		c->failed = 1;
		return -1;
	}
	c->called++;
	return x->fn(d, x->arg);
}

int
store_pg_read_each_domain(void *b, int64_t from, int64_t to,
    int (*fn)(const char *domain, void *arg), void *arg, char **err)
{
	struct domain_ctx x = { .c = { .row = domain_row }, .fn = fn, .arg = arg };
	char f[24], t[24];
	const char *const v[] = { f, t };

	snprintf(f, sizeof(f), "%" PRId64, from);
	snprintf(t, sizeof(t), "%" PRId64, to);
	return cursor_run(b,
	    "SELECT DISTINCT policy_domain COLLATE \"C\" AS d FROM outcomes"
	    " WHERE time >= $1 AND time < $2 ORDER BY d",
	    2, v, &x.c, err);
}

/* The row of r (columns of stspol_get) into *row: 0, or -1 when damaged. */
static int
stspol_row(const PGresult *r, struct stspol_row *row)
{
	size_t len = 0;

	for (int c = 0; c < 7; c++)
		len += (size_t)PQgetlength(r, 0, c);
	if (len > STORE_MAX_ROW || PQgetisnull(r, 0, 0) || PQgetisnull(r, 0, 1) ||
	    PQgetisnull(r, 0, 2) || PQgetisnull(r, 0, 4) ||
	    col_int(r, 0, 3, INT64_MIN, INT64_MAX, &row->max_age) < 0 ||
	    col_int(r, 0, 5, INT64_MIN, INT64_MAX, &row->fetched) < 0 ||
	    col_int(r, 0, 6, INT64_MIN, INT64_MAX, &row->expires) < 0)
		return -1;
	row->domain = col_text(r, 0, 0);
	row->id = col_text(r, 0, 1);
	row->mode = col_text(r, 0, 2);
	row->mx = col_text(r, 0, 4);
	return 0;
}

static int
stspol_get_once(struct store_pg *p, const char *domain, struct stspol_row *row, char **err)
{
	const char *const v[] = { domain };
	PGresult *r = store_pg_query(p, "sts_policies",
	    "SELECT domain, id, mode, max_age, mx, fetched, expires FROM sts_policies"
	    " WHERE domain = $1",
	    1, v, PGRES_TUPLES_OK, err);
	int ret = -1;

	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0)
		ret = 0;
	else if (stspol_row(r, row) == 0)
		ret = 1;
	else
		store_set_err(err, "%.300s: sts_policies: damaged row", p->shown);
	PQclear(r);
	return ret;
}

int
store_pg_read_stspol(void *b, const char *domain, struct stspol_row *row, char **err)
{
	struct store_pg *p = b;
	int ret;

	memset(row, 0, sizeof(*row));
	if (store_pg_lock(p, err) < 0)
		return -1;
	ret = stspol_get_once(p, domain, row, err);
	if (ret < 0 && store_pg_reconnect(p)) {
		store_pg_err_clear(err);
		ret = stspol_get_once(p, domain, row, err);
	}
	pthread_mutex_unlock(&p->mu);
	return ret;
}
