/*
 * daemon_sts.c - the process-wide MTA-STS cache (contract in daemon_sts.h).
 */
#include "config.h"

#include <stdlib.h>

#include "daemon_sts.h"
#include "log.h"
#include "policy_run.h"
#include "store.h"
#include "sts_cache.h"

static struct sts_cache *d_sts;	  /* made once, by the signal-loop thread */
static struct store *d_sts_store; /* its store, or NULL */

void
daemon_sts_attach(struct policy_runtime *rt)
{
	const struct conf *c = rt->conf;
	char *err = NULL;

	if (!c->sts)
		return;
	if (d_sts == NULL) {
		if (c->outcome_db != NULL && (store_access(c->outcome_db, &err) < 0 ||
						 (d_sts_store = store_open(c->outcome_db, &err)) == NULL))
			msg_warn("sts: outcome_db %s: MTA-STS policies are kept in memory only, "
				 "and fetched again after a restart",
			    err ? err : "cannot be opened");
		free(err);
		/* the options are set by policy_run_share_sts() */
		d_sts = sts_cache_new(d_sts_store, &(struct sts_fetch_opts){ 0 });
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
