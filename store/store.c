/*
 * store.c - the outcome store (store.h): the public calls, the checks at
 * its boundary, and the dispatch to a backend (store_backend.h): the
 * SQLite file (store_sqlite.c) or a PostgreSQL database shared by
 * several relays (store_pg.c).
 *
 * Input checks (hostile data): every string must be valid UTF-8 without
 * control characters and within a per-field bound (STORE_MAX_*); the
 * policy domain must be a domain name and is stored canonical (A-labels,
 * lower case, no trailing dot: dnsname_normalize()); a failure needs a
 * registered RFC 8460 result type. Anything else is refused with *err,
 * nothing is written. Rows read back go through the same checks
 * (store_row_check()): a value some other program wrote into the
 * database is an error naming the row, never a crash or a report built
 * on it.
 *
 * Each outcome is stamped with the store's relay name (store_set_relay();
 * default the host name) before it reaches the backend.
 *
 * Threads: the struct store itself is immutable after store_open() and
 * store_set_relay(); the backends lock their connections.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dnsname.h"
#include "log.h"
#include "mem.h"
#include "store.h"
#include "store_backend.h"

#define STORE_MAX_NAME	   255 /* mx host, helo (bytes) */
#define STORE_MAX_IP	   64
#define STORE_MAX_DETAIL   1024
#define STORE_MAX_KEY	   1024
#define STORE_MAX_PSTRING  16384 /* a "3 0 0" record of a large certificate */
#define STORE_MAX_PSTRINGS 64
#define STORE_MAX_RELAY	   255
#define STORE_MAX_KIND	   64

struct store {
	const struct store_ops *ops;
	void *b;     /* the backend's handle */
	char *path;  /* as opened; PostgreSQL: the password replaced */
	char *relay; /* stamped on each outcome */
};

void
store_set_err(char **err, const char *fmt, ...)
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

/* ------------------------------------------------------------ open */

int
store_spec_is_pg(const char *spec)
{
	return spec != NULL &&
	       (strncmp(spec, "postgresql://", 13) == 0 || strncmp(spec, "postgres://", 11) == 0);
}

const char *
store_local_path(const char *outcome_db, const char *local_db)
{
	if (outcome_db == NULL || !store_spec_is_pg(outcome_db))
		return outcome_db;
	return local_db ? local_db : DANEPOL_STATE_DIR "/local.db";
}

/*
 * spec for messages: a URI's password ("user:PASSWORD@" before the host,
 * or a password=... parameter) replaced by "***". Caller frees.
 */
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

/* spec with the timeouts it does not set itself (caller frees). */
static char *
bounded_spec(const char *spec, unsigned timeout_ms)
{
	struct buf b;
	char sep = strchr(spec, '?') ? '&' : '?';

	buf_init(&b);
	buf_puts(&b, spec);
	if (strstr(spec, "connect_timeout=") == NULL) {
		buf_printf(&b, "%cconnect_timeout=%u", sep, (timeout_ms + 999) / 1000);
		sep = '&';
	}
	if (strstr(spec, "options=") == NULL)
		buf_printf(&b, "%coptions=-c%%20statement_timeout%%3D%u", sep, timeout_ms);
	return buf_steal(&b);
}

struct store *
store_open_bounded(const char *spec, unsigned timeout_ms, char **err)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int pg = store_spec_is_pg(spec);
	char *full = pg ? bounded_spec(spec, timeout_ms ? timeout_ms : 5000) : NULL;

	s->path = pg ? shown_spec(spec) : xstrdup(spec);
	s->relay = dnsname_host();
	s->ops = pg ? &store_pg_ops : &store_sqlite_ops;
	s->b = pg ? store_pg_open(full, s->path, err) : store_sqlite_open(spec, err);
	free(full);
	if (s->b == NULL) {
		store_close(s);
		return NULL;
	}
	return s;
}

struct store *
store_open(const char *spec, char **err)
{
	return store_open_bounded(spec, 5000, err);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->b != NULL)
		s->ops->close(s->b);
	free(s->path);
	free(s->relay);
	free(s);
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

const char *
store_kind(const struct store *s)
{
	return s->ops->name;
}

void
store_set_relay(struct store *s, const char *relay)
{
	const char *why;

	if (relay == NULL || relay[0] == 0 || store_text_check(relay, STORE_MAX_RELAY, &why) < 0)
		return;
	free(s->relay);
	s->relay = xstrdup(relay);
}

const char *
store_relay(const struct store *s)
{
	return s->relay;
}

const struct store_ops *
store_backend(struct store *s, void **b)
{
	*b = s->b;
	return s->ops;
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

/* A path that does not exist yet: can its directory take it? */
static int
access_new(const char *path, char **err)
{
	char *dir = dir_of(path), eb[128];
	int ret = 0;

	if (access(dir, W_OK | X_OK) < 0) {
		store_set_err(err, "%.200s: cannot be created in %.200s: %s", path, dir,
		    strerror_r(errno, eb, sizeof(eb)));
		ret = -1;
	}
	free(dir);
	return ret;
}

/** See store.h. A PostgreSQL spec has no file to check: 0. */
int
store_access(const char *path, char **err)
{
	static const char *const companion[] = { "", "-wal", "-shm" };
	char *dir = NULL, *f, eb[128];
	int ret = -1;

	if (store_spec_is_pg(path))
		return 0;
	if (access(path, F_OK) < 0) {
		if (errno == ENOENT)
			return access_new(path, err);
		store_set_err(err, "%.200s: %s", path, strerror_r(errno, eb, sizeof(eb)));
		return -1;
	}
	for (size_t i = 0; i < sizeof(companion) / sizeof(companion[0]); i++) {
		f = xasprintf("%s%s", path, companion[i]);
		if ((i == 0 || access(f, F_OK) == 0) && access(f, R_OK | W_OK) < 0) {
			store_set_err(err, "%.200s: %s", f, strerror_r(errno, eb, sizeof(eb)));
			free(f);
			return -1;
		}
		free(f);
	}
	/* SQLite creates the -wal and -shm files beside the database */
	dir = dir_of(path);
	if (access(dir, W_OK | X_OK) < 0)
		store_set_err(err, "%.200s: its directory %.200s is not writable: %s", path, dir,
		    strerror_r(errno, eb, sizeof(eb)));
	else
		ret = 0;
	free(dir);
	return ret;
}
/* ------------------------------------------------------------ input checks */

/*
 * Length of s if it is valid UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF), has no control characters and is at most max
 * bytes; -1 otherwise (*why: static reason).
 */
long
store_text_check(const char *s, size_t max, const char **why)
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


static int
field_check(const char *name, const char *v, size_t max, char **err)
{
	const char *why = NULL;

	if (v != NULL && store_text_check(v, max, &why) < 0) {
		store_set_err(err, "outcome %s refused: %s", name, why);
		return -1;
	}
	return 0;
}

/* The checks common to outcomes given and read back (domain checked by the caller). */
static int
fields_check(const struct tls_outcome *o, const char *key, char **err)
{
	if ((unsigned)o->source > OUTCOME_SRC_STS) {
		store_set_err(err, "outcome source %d unknown", (int)o->source);
		return -1;
	}
	if (outcome_policy_name(o->policy_type) == NULL) {
		store_set_err(err, "outcome refused: policy type %d is not one of RFC 8460's",
		    (int)o->policy_type);
		return -1;
	}
	if (!o->success && outcome_result_type(o->result_type) == NULL) {
		store_set_err(err, "failed outcome without a registered RFC 8460 result type");
		return -1;
	}
	if (field_check("mx host", o->mx_host, STORE_MAX_NAME, err) < 0 ||
	    field_check("receiving ip", o->receiving_ip, STORE_MAX_IP, err) < 0 ||
	    field_check("sending ip", o->sending_ip, STORE_MAX_IP, err) < 0 ||
	    field_check("mx helo", o->mx_helo, STORE_MAX_NAME, err) < 0 ||
	    field_check("detail", o->detail, STORE_MAX_DETAIL, err) < 0 ||
	    field_check("relay", o->relay, STORE_MAX_RELAY, err) < 0 ||
	    field_check("dedupe key", key, STORE_MAX_KEY, err) < 0)
		return -1;
	if (o->npolicy_strings > STORE_MAX_PSTRINGS) {
		store_set_err(err, "outcome refused: more than %d policy strings", STORE_MAX_PSTRINGS);
		return -1;
	}
	for (size_t i = 0; i < o->npolicy_strings && o->policy_strings != NULL; i++)
		if (o->policy_strings[i] != NULL &&
		    field_check("policy string", o->policy_strings[i], STORE_MAX_PSTRING, err) < 0)
			return -1;
	return 0;
}

/*
 * Check o (and key) and fill *c with a copy as the backend stores it:
 * the canonical policy domain, result_type only on a failure, relay the
 * store's. 0, or -1 with *err (*c empty).
 */
static int
outcome_check(const struct store *s, const struct tls_outcome *o, const char *key,
    struct tls_outcome *c, char **err)
{
	char domain[DNSNAME_MAX];
	const char *why = NULL;

	memset(c, 0, sizeof(*c));
	if (o->policy_domain == NULL || dnsname_normalize(o->policy_domain, 1, domain, &why) < 0 ||
	    domain[0] == 0) {
		store_set_err(err, "outcome policy domain refused: %s", why ? why : "missing");
		return -1;
	}
	if (fields_check(o, key, err) < 0)
		return -1;
	outcome_copy(c, o);
	free(c->policy_domain);
	c->policy_domain = xstrdup(domain);
	free(c->relay);
	c->relay = xstrdup(s->relay);
	if (c->success)
		c->result_type = NULL;
	return 0;
}

int
store_row_check(const struct tls_outcome *o, const char *where, char **err)
{
	char domain[DNSNAME_MAX], *e = NULL;
	const char *why = NULL;

	if (o->policy_domain == NULL || dnsname_normalize(o->policy_domain, 1, domain, &why) < 0 ||
	    strcmp(domain, o->policy_domain) != 0)
		e = xasprintf("policy domain: %s", why ? why : "not canonical");
	else if (!o->success && o->result_type == NULL)
		e = xstrdup("a failure without a registered RFC 8460 result type");
	else if (fields_check(o, NULL, &e) < 0 && e == NULL)
		e = xstrdup("refused");
	if (e == NULL)
		return 0;
	store_set_err(err, "%s: damaged row: %s", where, e);
	free(e);
	return -1;
}

/* ------------------------------------------------------------ writing */

int
store_add_batch(struct store *s, const struct tls_outcome *o, const char *const *keys, size_t n,
    size_t *added, char **err)
{
	struct tls_outcome *c = n ? xcalloc(n, sizeof(*c)) : NULL;
	size_t i, done = 0;
	char *e = NULL;
	int ret = -1;

	if (added != NULL)
		*added = 0;
	for (i = 0; i < n; i++, done++)
		if (outcome_check(s, &o[i], keys ? keys[i] : NULL, &c[i], &e) < 0) {
			store_set_err(err, "outcome %zu: %s", i, e);
			goto out;
		}
	ret = n == 0 ? 0 : s->ops->add_batch(s->b, c, keys, n, added, err);
out:
	for (i = 0; i < done; i++)
		outcome_clear(&c[i]);
	free(c);
	free(e);
	return ret;
}

int
store_add_keyed(struct store *s, const struct tls_outcome *o, const char *dedupe_key, char **err)
{
	size_t added = 0;

	if (store_add_batch(s, o, dedupe_key ? &dedupe_key : NULL, 1, &added, err) < 0)
		return -1;
	return added > 0 ? 1 : 0;
}

int
store_add(struct store *s, const struct tls_outcome *o, char **err)
{
	return store_add_batch(s, o, NULL, 1, NULL, err);
}

/* ------------------------------------------------------------ reading */

int
store_each(struct store *s, int64_t from, int64_t to, const char *policy_domain,
    int (*fn)(const struct tls_outcome *o, void *arg), void *arg, char **err)
{
	char domain[DNSNAME_MAX];
	const char *why = NULL;

	if (policy_domain != NULL && dnsname_normalize(policy_domain, 1, domain, &why) < 0) {
		store_set_err(err, "policy domain refused: %s", why);
		return -1;
	}
	return s->ops->each(s->b, from, to, policy_domain ? domain : NULL, fn, arg, err);
}

int
store_each_domain(struct store *s, int64_t from, int64_t to,
    int (*fn)(const char *policy_domain, void *arg), void *arg, char **err)
{
	return s->ops->each_domain(s->b, from, to, fn, arg, err);
}

/* ------------------------------------------------------------ claims */

static int
claim_check(const char *kind, const char *key, char **err)
{
	const char *why = "empty";

	if (kind == NULL || kind[0] == 0 || store_text_check(kind, STORE_MAX_KIND, &why) < 0 ||
	    key == NULL || key[0] == 0 || store_text_check(key, STORE_MAX_KEY, &why) < 0) {
		store_set_err(err, "claim refused: kind or key %s", why);
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
	if (claim_check(kind, key, err) < 0)
		return -1;
	return s->ops->claim(s->b, kind, key, s->relay, now, now + (lease_s > 0 ? lease_s : 1), by,
	    err);
}

int
store_claim_finish(struct store *s, const char *kind, const char *key, int done, char **err)
{
	if (claim_check(kind, key, err) < 0)
		return -1;
	return s->ops->claim_finish(s->b, kind, key, s->relay, done, err);
}
