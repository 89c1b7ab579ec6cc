/*
 * daemon_selfcheck.c - the periodic self-check thread (daemon_selfcheck.h).
 *
 * The thread sleeps on a condition variable until the next run is due
 * or danepold stops; a run takes the snapshot, checks every domain of
 * selfcheck_domains (the served certificate files from
 * selfcheck_cert_files, else postconf when it is there), and publishes the
 * results. A run is bounded by the decision timeout and the probe's step
 * timeouts per address; stopping waits for it.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "clock.h"
#include "daemon_audit.h"
#include "daemon_selfcheck.h"
#include "daemon_store.h"
#include "log.h"
#include "mem.h"
#include "selfcheck.h"
#include "snapshot.h"

#define SC_IDLE_S    60 /* look again this often while the check is off */
#define SC_DOMAINS   64

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t tid;
	int started, stopping, cv_ready;
	/* the latest run, for /metrics */
	char *domain[SC_DOMAINS];
	int state[SC_DOMAINS];
	size_t n;
	int64_t last_run;
} sc = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void
sc_publish(const struct selfcheck_result *r, size_t n, int64_t now)
{
	pthread_mutex_lock(&sc.mu);
	for (size_t i = 0; i < sc.n; i++)
		free(sc.domain[i]);
	sc.n = 0;
	for (size_t i = 0; i < n && i < SC_DOMAINS; i++) {
		sc.domain[i] = xstrdup(r[i].domain);
		sc.state[i] = (int)findings_worst(&r[i].f);
		sc.n++;
	}
	sc.last_run = now;
	pthread_mutex_unlock(&sc.mu);
}

static void
sc_report(const struct conf *c, const struct selfcheck_result *r, size_t n)
{
	json_t *ev = daemon_audit_event_new("selfcheck");
	char *err = NULL;

	json_object_set_new(ev, "result", selfcheck_json(r, n));
	audit_write(daemon_audit(), ev);
	json_decref(ev);
	for (size_t i = 0; i < n; i++) {
		enum finding_sev s = findings_worst(&r[i].f);
		size_t crit = findings_count(&r[i].f, FINDING_CRITICAL),
		       warn = findings_count(&r[i].f, FINDING_WARNING);

		if (s == FINDING_OK)
			msg_info("selfcheck %s: OK", r[i].domain);
		else
			msg_warn("selfcheck %s: %s, %zu critical, %zu warning (danepol selfcheck "
				 "%s says what to do)",
			    r[i].domain, finding_sev_name(s), crit, warn, r[i].domain);
	}
	if (c->selfcheck_prometheus_file &&
	    selfcheck_write_prometheus(c->selfcheck_prometheus_file, r, n, &err) < 0) {
		msg_warn("selfcheck: cannot write selfcheck_prometheus_file: %s", err);
		free(err);
	}
}

/* One run on the current snapshot. */
static void
sc_run(void)
{
	struct snapshot *snap = snapshot_acquire();
	const struct conf *c;
	struct selfcheck_opts o;
	struct selfcheck_result *r;
	struct findings pre = { 0 };
	char **domains = NULL, **files = NULL;
	size_t n, nfiles;

	if (snap == NULL)
		return;
	c = snap->rt->conf;
	selfcheck_opts_conf(&o, c, (int64_t)time(NULL));
	o.store = daemon_store_reader(); /* the rollover history, when a store is open */
	n = selfcheck_words(c->selfcheck_domains, &domains);
	nfiles = selfcheck_served_files(c, NULL, 0, NULL, 1, &pre, &files);
	r = selfcheck_all(snap->rt, domains, n, files, nfiles, &pre, &o);
	sc_report(c, r, n);
	sc_publish(r, n, o.now);
	selfcheck_results_free(r, n);
	for (size_t i = 0; i < n; i++)
		free(domains[i]);
	free(domains);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	findings_clear(&pre);
	snapshot_release(snap);
}

/* The interval now (0: off). */
static unsigned
sc_interval(void)
{
	struct snapshot *snap = snapshot_acquire();
	unsigned s = 0;

	if (snap && snap->rt->conf->selfcheck_domains)
		s = snap->rt->conf->selfcheck_interval_s;
	snapshot_release(snap);
	return s;
}

static void *
sc_thread(void *arg)
{
	int64_t next = clock_now_ms(); /* the first run right after start */

	(void)arg;
	pthread_mutex_lock(&sc.mu);
	while (!sc.stopping) {
		struct timespec ts = clock_deadline_ts(next);
		unsigned every;

		if (clock_now_ms() < next) {
			(void)pthread_cond_timedwait(&sc.cv, &sc.mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&sc.mu);
		every = sc_interval();
		if (every > 0)
			sc_run();
		next = clock_now_ms() + 1000 * (int64_t)(every ? every : SC_IDLE_S);
		pthread_mutex_lock(&sc.mu);
	}
	pthread_mutex_unlock(&sc.mu);
	return NULL;
}

int
daemon_selfcheck_start(void)
{
	int rc;

	if (!sc.cv_ready && (rc = clock_cond_init(&sc.cv)) != 0) {
		msg_error("selfcheck: cannot make a condition variable: %s", strerror(rc));
		return -1;
	}
	sc.cv_ready = 1;
	sc.stopping = 0;
	if ((rc = pthread_create(&sc.tid, NULL, sc_thread, NULL)) != 0) {
		msg_error("cannot start the selfcheck thread: %s", strerror(rc));
		return -1;
	}
	sc.started = 1;
	return 0;
}

void
daemon_selfcheck_stop(void)
{
	if (!sc.started)
		return;
	pthread_mutex_lock(&sc.mu);
	sc.stopping = 1;
	pthread_cond_broadcast(&sc.cv);
	pthread_mutex_unlock(&sc.mu);
	pthread_join(sc.tid, NULL);
	sc.started = 0;
	for (size_t i = 0; i < sc.n; i++)
		free(sc.domain[i]);
	sc.n = 0;
}

void
daemon_selfcheck_metrics(struct buf *b)
{
	buf_puts(b, "# HELP danepol_selfcheck_state Self-check of our own domains: 0 OK, "
		    "1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n# TYPE danepol_selfcheck_state gauge\n");
	pthread_mutex_lock(&sc.mu);
	/* domains come from selfcheck_domains: [A-Za-z0-9_.-] only (conf_value_words) */
	for (size_t i = 0; i < sc.n; i++)
		buf_printf(b, "danepol_selfcheck_state{domain=\"%s\"} %d\n", sc.domain[i],
		    sc.state[i]);
	buf_printf(b,
	    "# HELP danepol_selfcheck_last_run_timestamp_seconds When the self-check last "
	    "ran (0: not yet).\n# TYPE danepol_selfcheck_last_run_timestamp_seconds gauge\n"
	    "danepol_selfcheck_last_run_timestamp_seconds %" PRId64 "\n",
	    sc.last_run);
	pthread_mutex_unlock(&sc.mu);
}
