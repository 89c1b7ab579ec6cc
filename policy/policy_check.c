/*
 * policy_check.c - the configuration check of danepol and danepold
 * (contract in policy_check.h).
 *
 * The messages are those each program always gave: danepol check says
 * "cannot start the resolver: why" and keeps a proven anchor for -v;
 * danepold logs the resolver's reason alone, a proven anchor at info
 * level, and says it goes on when the anchor cannot be proven yet.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "log.h"
#include "mem.h"
#include "policy_check.h"

struct conf *
policy_check_load(const char *path)
{
	char *err = NULL;
	struct conf *c = conf_load_default(path, &err);

	if (c == NULL)
		msg_error("%s", err ? err : "configuration error");
	free(err);
	return c;
}

struct policy_status_table *
policy_check_status(const struct conf *c, char **err)
{
	struct policy_status_table *st = policy_status_table_new();
	const char *why;

	for (size_t i = 0; i < c->nstatus; i++) {
		if (policy_status_set(st, c->status[i].reason, c->status[i].value, &why) < 0) {
			*err = xasprintf("%s:%u: status.%.64s: %s", c->path, c->status[i].line,
			    c->status[i].reason, why);
			policy_status_table_free(st);
			return NULL;
		}
	}
	return st;
}

/*
 * A file-level error about the file named by key (cannot open, refused,
 * too large: *err does not start with "PATH:LINE:") names the line of
 * c's file that set the key (whose value is path), so the operator sees which setting to fix.
 */
static void
where_set(const struct conf *c, const char *key, const char *path, char **err)
{
	size_t n = strlen(path);
	unsigned line = conf_key_line(c, key);
	char *e = *err;

	if (e == NULL || line == 0)
		return;
	if (strncmp(e, path, n) == 0 && e[n] == ':' && e[n + 1] >= '0' && e[n + 1] <= '9')
		return; /* a line of the table itself */
	*err = xasprintf("%s:%u: %s: %s", c->path, line, key, e);
	free(e);
}

int
policy_check_conf(const struct conf *c, char **err)
{
	struct policy_status_table *st = NULL;
	struct policy_table *t = NULL;
	int rc = -1;

	*err = NULL;
	if ((st = policy_check_status(c, err)) == NULL)
		goto out;
	if (c->policy_table && (t = policy_table_load(c->policy_table, err)) == NULL) {
		where_set(c, "policy_table", c->policy_table, err);
		goto out;
	}
	rc = 0;
out:
	policy_table_free(t);
	policy_status_table_free(st);
	return rc;
}

/* Prove rt's trust anchor; 0, or -1 (rt freed) when it validates nothing. */
static int
check_anchor(struct policy_runtime *rt, int daemon)
{
	char *msg = NULL;
	int rc = 0;

	switch (policy_run_anchor_check(rt, &msg)) {
	case DNS_ANCHOR_OK:
		if (daemon)
			msg_info("%s", msg);
		else
			msg_debug("%s", msg);
		break;
	case DNS_ANCHOR_UNKNOWN: /* offline at boot is no configuration error;
					 * danepol check's decisions say what failed */
		if (daemon)
			msg_warn("%s; going on: DNSSEC-signed destinations are deferred until "
				 "the resolver gets answers",
			    msg);
		else
			msg_warn("%s", msg);
		break;
	case DNS_ANCHOR_BAD:
		msg_error("%s", msg);
		policy_run_free(rt);
		rc = -1;
		break;
	}
	free(msg);
	return rc;
}

struct policy_runtime *
policy_check_start(struct conf *c, int flags, int (*also)(const struct conf *c), int *ex)
{
	struct policy_runtime *rt;
	char *err = NULL, *where;
	unsigned line;
	int rc;

	rc = policy_check_conf(c, &err);
	if (rc < 0)
		msg_error("%s", err ? err : "configuration error");
	free(err);
	err = NULL;
	if (rc < 0 || (also != NULL && also(c) < 0)) {
		conf_free(c);
		*ex = EX_CONFIG;
		return NULL;
	}
	line = conf_key_line(c, "resolver_config");
	where = c->resolver_config && line ? xasprintf("%s:%u", c->path, line) : NULL;
	if ((rt = policy_run_new(c, &err)) == NULL) {
		if (where && err && strncmp(err, "resolver config ", 16) == 0)
			msg_error("%s: resolver_config %s", where, err + 16);
		else if (flags & POLICY_CHECK_DAEMON)
			msg_error("%s", err ? err : "cannot start the resolver");
		else
			msg_error("cannot start the resolver: %s", err ? err : "unknown error");
		free(err);
		free(where);
		*ex = EX_UNAVAILABLE;
		return NULL;
	}
	free(where);
	if ((flags & POLICY_CHECK_ANCHOR) &&
	    check_anchor(rt, (flags & POLICY_CHECK_DAEMON) != 0) < 0) {
		*ex = EX_CONFIG;
		return NULL;
	}
	return rt;
}
