/*
 * daemon_sts.c - the process-wide MTA-STS cache (contract in daemon_sts.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "daemon_audit.h"
#include "daemon_shared.h"
#include "daemon_store.h"
#include "daemon_sts.h"
#include "log.h"
#include "mem.h"
#include "outcome.h"
#include "policy_run.h"
#include "stats.h"
#include "store.h"
#include "sts_cache.h"

static struct sts_cache *d_sts;	  /* made once, by the signal-loop thread */
static struct store *d_sts_store; /* its store, or NULL */

/* err as a failure-reason-code the store takes: printable ASCII ('?' for other bytes), bounded */
static char *
d_sts_reason(const char *err)
{
	size_t n = err ? strnlen(err, 1000) : 0;
	char *r;

	if (n == 0)
		return NULL;
	r = xstrndup(err, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r[i] < 0x20 || (unsigned char)r[i] > 0x7e)
			r[i] = '?';
	return r;
}

/*
 * A failed fetch is an RFC 8460 failure of the domain's sts policy
 * (sts-policy-fetch-error, sts-webpki-invalid, sts-policy-invalid; the
 * reason as failure-reason-code), queued for the outcome store
 * (daemon_store.h) for the reports; the policy strings are those of the
 * policy kept from before, if any (none after a first fetch that failed).
 */
static void
d_sts_outcome(const char *domain, enum sts_fetch_status st, const char *err)
{
	struct tls_outcome o = { .source = OUTCOME_SRC_STS, .policy_type = OUTCOME_POLICY_STS };

	o.time = (int64_t)time(NULL);
	o.policy_domain = xstrdup(domain);
	if (d_sts_store != NULL) /* the kept policy's lines, if any */
		(void)sts_cache_outcome(d_sts_store, &o);
	o.result_type = outcome_result_type(sts_fetch_status_name(st));
	o.detail = d_sts_reason(err);
	daemon_store_add(&o); /* queued: the fetch does not wait for the database */
	outcome_clear(&o);
}

/* sts_cache_fetch_fn: one "sts-fetch" audit line per fetch, and a mail-log line for a failure */
static void
d_sts_fetched(void *arg, const char *domain, const char *txt_id, enum sts_fetch_status st,
    const struct sts_policy *p, const char *err)
{
	json_t *ev = daemon_audit_event_new("sts-fetch"), *mx = json_array();

	(void)arg;
	stats_sts_fetch((unsigned)st);
	for (size_t i = 0; p != NULL && i < p->nmx; i++)
		json_array_append_new(mx, audit_string(p->mx[i]));
	json_object_set_new(ev, "domain", audit_string(domain));
	json_object_set_new(ev, "txt_id", txt_id && *txt_id ? audit_string(txt_id) : json_null());
	json_object_set_new(ev, "result", json_string(sts_fetch_status_name(st)));
	json_object_set_new(ev, "error", err ? audit_string(err) : json_null());
	json_object_set_new(ev, "mode", p ? json_string(sts_policy_mode_name(p->mode)) : json_null());
	json_object_set_new(ev, "max_age", p ? json_integer(p->max_age) : json_null());
	json_object_set_new(ev, "mx", mx);
	if (st != STS_FETCH_OK) { /* queued for the store first (written behind) */
		msg_warn("sts: policy of %.255s not fetched (%s): %.400s", domain,
		    sts_fetch_status_name(st), err ? err : "");
		d_sts_outcome(domain, st, err);
	}
	audit_write(daemon_audit(), ev);
	json_decref(ev);
}

void
daemon_sts_attach(struct policy_runtime *rt)
{
	const struct conf *c = rt->conf;
	char *err = NULL;

	if (!c->sts)
		return;
	if (d_sts == NULL) {
		/* this relay's own file: a decision never waits for a shared database */
		const char *path = store_local_path(c->outcome_db, c->local_db);

		if (path != NULL && (store_access(path, &err) < 0 ||
					(d_sts_store = store_open(path, &err)) == NULL))
			msg_warn("sts: %s %s: MTA-STS policies are kept in memory only, "
				 "and fetched again after a restart",
			    store_spec_is_pg(c->outcome_db) ? "local_db" : "outcome_db",
			    err ? err : "cannot be opened");
		free(err);
		/* the options are set by policy_run_share_sts() */
		d_sts = sts_cache_new(d_sts_store, &(struct sts_fetch_opts){ 0 });
		sts_cache_on_fetch(d_sts, d_sts_fetched, NULL);
		if (daemon_shared_enabled())
			sts_cache_share(d_sts, daemon_shared_get, NULL,
			    2 * c->sts_fetch_timeout_ms / 1000 + 10);
		/* refreshes of cached policies do not hold up decisions */
		if (sts_cache_background(d_sts, 2) < 0)
			msg_warn("sts: policies are refreshed inside decisions (no refresh thread)");
	}
	policy_run_share_sts(rt, d_sts);
}

void
daemon_sts_stop(void)
{
	sts_cache_free(d_sts);
	store_close(d_sts_store);
	d_sts = NULL;
	d_sts_store = NULL;
}
