/*
 * daemon_shared.c - the shared store of danepold's background work
 * (daemon_shared.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "clock.h"
#include "conf.h"
#include "daemon_shared.h"
#include "log.h"
#include "mem.h"
#include "store.h"

static struct {
	pthread_mutex_t mu;
	char *spec, *relay;
	unsigned timeout_ms;
	struct store *st;
	long long next_try; /* monotonic seconds */
	int failing;
} shared = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, NULL, 0, 0 };

void
daemon_shared_start(const struct conf *c)
{
	if (c->outcome_db == NULL || !store_spec_is_pg(c->outcome_db))
		return;
	shared.spec = xstrdup(c->outcome_db);
	shared.relay = xstrdup_null(c->relay_name);
	shared.timeout_ms = c->outcome_db_timeout_ms;
}

void
daemon_shared_stop(void)
{
	store_close(shared.st);
	free(shared.spec);
	free(shared.relay);
	shared.st = NULL;
	shared.spec = shared.relay = NULL;
	shared.next_try = 0;
	shared.failing = 0;
}

int
daemon_shared_enabled(void)
{
	return shared.spec != NULL;
}

struct store *
daemon_shared_get(void *unused)
{
	struct store *st;
	char *err = NULL;

	(void)unused;
	pthread_mutex_lock(&shared.mu);
	if (shared.st == NULL && shared.spec != NULL && clock_now_s() >= shared.next_try) {
		if ((shared.st = store_open_bounded(shared.spec, shared.timeout_ms, &err)) != NULL) {
			store_set_relay(shared.st, shared.relay);
			if (shared.failing)
				msg_info("shared store %s reachable again", store_path(shared.st));
			shared.failing = 0;
		} else {
			if (!shared.failing)
				msg_warn("shared store: %s: each relay does its own probes and "
					 "MTA-STS fetches until it is back (next try in %d s)",
				    err, DAEMON_SHARED_RETRY_S);
			shared.failing = 1;
			shared.next_try = clock_now_s() + DAEMON_SHARED_RETRY_S;
		}
		free(err);
	}
	st = shared.st;
	pthread_mutex_unlock(&shared.mu);
	return st;
}
