/*
 * daemon_probe.c - danepold's background STARTTLS probes and probe_defer
 * (daemon_probe.h).
 *
 * When `probe = yes` (read at start-up; a reload cannot switch it), every
 * require/try decision the milter, the socketmap or the Exim socket makes
 * is offered to daemon_probe_apply(): a destination not probed within
 * probe_interval (from the current snapshot) is queued - a bounded queue
 * of PQ_MAX jobs, each holding a reference to its decision; when full the
 * job is dropped and the destination offered again at its next decision -
 * and one of PQ_WORKERS threads probes it (probe/probe.h, step timeout and
 * EHLO name of the snapshot the decision came from). The result is kept
 * per destination (at most PC_MAX destinations; beyond that the oldest
 * result is forgotten; chained in PC_BUCKETS buckets by the seeded
 * lib/hash.h hash, since senders choose the names), written to the audit
 * log as an event "probe" (doc/probe.schema.json under "result"), and
 * each reportable session is queued for the outcome store.
 *
 * probe_defer = yes: a require decision for a destination whose latest
 * probe found every DANE host failing authentication is answered with a
 * new decision, defer / dane-auth-failed (450 4.7.5, doc/status-codes.md),
 * until a later probe succeeds. Destinations not probed yet are decided
 * as usual.
 *
 * The outcomes go to the process's outcome queue (daemon_store.h), which
 * copies them and returns: a probe worker never waits for the database.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "buf.h"
#include "daemon_audit.h"
#include "daemon_metrics.h"
#include "daemon_probe.h"
#include "daemon_shared.h"
#include "daemon_store.h"
#include "clock.h"
#include "hash.h"
#include "log.h"
#include "mem.h"
#include "probe.h"

#define PQ_MAX	   256	 /* queued probes */
#define PQ_WORKERS 2	 /* probing threads */
#define PC_MAX	   10000 /* destinations remembered */
#define PC_BUCKETS 16384 /* a power of two above PC_MAX: short chains */

struct queued_probe {
	struct policy_decision *d; /* a reference */
	struct probe_opts opts;	   /* helo, ca_file owned */
	unsigned interval_s;	   /* probe_interval of its snapshot */
};

struct remembered_dest {
	char *domain;
	long long when; /* monotonic seconds of the last queueing / result */
	int pending;	/* queued or being probed */
	int have_result;
	int all_failed;				      /* latest result: every DANE host failed */
	char *why;				      /* summary of the latest failure, or NULL */
	struct remembered_dest *next, *older, *newer; /* bucket chain; age list */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started, stopping;
	pthread_t tid[PQ_WORKERS];
	int nthreads;
	struct queued_probe q[PQ_MAX];
	size_t qhead, qlen;
	struct remembered_dest *bucket[PC_BUCKETS];
	struct remembered_dest *oldest, *newest;
	size_t nentries;
	uint64_t seed; /* of hash(), set by daemon_probe_start() */
} probes = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, { 0 }, 0, { { 0 } }, 0, 0,
	{ 0 }, NULL, NULL, 0, 0 };

/*
 * Destination names come from senders: the seeded hash of the decision
 * cache (lib/hash.h), seeded per run at the first use, so that no one can
 * precompute names that share a chain.
 */
static unsigned
hash(const char *s)
{
	return hash_string(probes.seed, s, NULL) & (PC_BUCKETS - 1);
}

/* ------------------------------------------------------------ the cache (probes.mu held) */

static struct remembered_dest *
pc_find(const char *domain)
{
	for (struct remembered_dest *e = probes.bucket[hash(domain)]; e; e = e->next)
		if (strcmp(e->domain, domain) == 0)
			return e;
	return NULL;
}

static void
pc_unlink_age(struct remembered_dest *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		probes.oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		probes.newest = e->older;
	e->older = e->newer = NULL;
}

static void
pc_push_age(struct remembered_dest *e)
{
	e->older = probes.newest;
	e->newer = NULL;
	if (probes.newest)
		probes.newest->newer = e;
	else
		probes.oldest = e;
	probes.newest = e;
}

/* Forget the oldest entry that is not pending. */
static void
pc_evict(void)
{
	for (struct remembered_dest *e = probes.oldest; e; e = e->newer) {
		struct remembered_dest **pp = &probes.bucket[hash(e->domain)];

		if (e->pending)
			continue;
		while (*pp != e)
			pp = &(*pp)->next;
		*pp = e->next;
		pc_unlink_age(e);
		free(e->domain);
		free(e->why);
		free(e);
		probes.nentries--;
		return;
	}
}

static struct remembered_dest *
pc_add(const char *domain)
{
	struct remembered_dest *e;
	unsigned h = hash(domain);

	if (probes.nentries >= PC_MAX)
		pc_evict();
	if (probes.nentries >= PC_MAX)
		return NULL;
	e = xcalloc(1, sizeof(*e));
	e->domain = xstrdup(domain);
	e->next = probes.bucket[h];
	probes.bucket[h] = e;
	pc_push_age(e);
	probes.nentries++;
	return e;
}

/* ------------------------------------------------------------ workers */

/* One line: which DANE host failed how. */
static char *
summary(const struct probe_result *r)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "latest probe: every DANE host failed authentication");
	for (size_t i = 0; i < r->naddrs && b.len < 300; i++) {
		const struct probe_addr *a = &r->addrs[i];

		if (a->state == POLICY_HOST_DANE && !a->success && !a->transient)
			buf_printf(&b, "; %s[%s] %s", a->host ? a->host : "?",
			    a->addr ? a->addr : "-", a->result_type ? a->result_type : "failed");
	}
	return buf_steal(&b);
}

/* Queue each reportable session for the outcome store (daemon_store.h). */
static void
store_result(const struct probe_result *r)
{
	for (size_t i = 0; i < r->naddrs; i++) {
		struct tls_outcome o;

		if (probe_outcome(r, i, &o) < 0)
			continue;
		daemon_store_add(&o);
		outcome_clear(&o);
	}
}

static void
audit_result(const struct probe_result *r)
{
	json_t *ev = daemon_audit_event_new("probe"), *j = probe_result_json(r);

	json_object_set_new(ev, "destination", audit_string(r->domain));
	json_object_set_new(ev, "result", j ? j : json_null());
	audit_write(daemon_audit(), ev);
	json_decref(ev);
}

static void
finish(const struct probe_result *r)
{
	struct remembered_dest *e;

	store_result(r);
	audit_result(r);
	daemon_metrics_probe(r);
	pthread_mutex_lock(&probes.mu);
	if ((e = pc_find(r->domain)) != NULL) {
		e->pending = 0;
		e->have_result = 1;
		e->when = clock_now_s();
		e->all_failed = probe_all_dane_failed(r);
		free(e->why);
		e->why = e->all_failed ? summary(r) : NULL;
	}
	pthread_mutex_unlock(&probes.mu);
	msg_info("probe %s: %u DANE host%s, %u failed authentication", r->domain, r->ndane,
	    r->ndane == 1 ? "" : "s", r->ndane_failed);
}

/*
 * With a store shared by several relays: is another relay probing this
 * destination in this probe_interval (the claim "probe" DOMAIN)? Then its
 * outcomes are in the shared store and this relay does not probe again.
 * No shared store, or one not reachable: 0 (probe here).
 */
static int
claimed_elsewhere(const struct queued_probe *job)
{
	struct store *st = daemon_shared_get(NULL);
	char *by = NULL, *err = NULL;
	int rc;

	if (st == NULL)
		return 0;
	rc = store_claim(st, "probe", job->d->domain, (int64_t)time(NULL), job->interval_s, &by,
	    &err);
	if (rc < 0)
		msg_warn("probe %s: claim in the shared store: %s", job->d->domain, err);
	else if (rc == 0)
		msg_info("probe %s: probed by relay %s in this probe_interval: not probed here",
		    job->d->domain, by);
	free(by);
	free(err);
	return rc == 0;
}

/* A queued destination another relay probes: no longer pending, asked again after the interval. */
static void
not_probed(const char *domain)
{
	struct remembered_dest *e;

	pthread_mutex_lock(&probes.mu);
	if ((e = pc_find(domain)) != NULL) {
		e->pending = 0;
		e->when = clock_now_s();
	}
	pthread_mutex_unlock(&probes.mu);
}

static void *
worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&probes.mu);
	for (;;) {
		struct queued_probe job;
		struct probe_result *r;

		while (!probes.stopping && probes.qlen == 0)
			pthread_cond_wait(&probes.cv, &probes.mu);
		if (probes.stopping)
			break;
		job = probes.q[probes.qhead];
		probes.qhead = (probes.qhead + 1) % PQ_MAX;
		probes.qlen--;
		pthread_mutex_unlock(&probes.mu);
		if (claimed_elsewhere(&job)) {
			not_probed(job.d->domain);
		} else {
			r = probe_run(job.d, &job.opts);
			finish(r);
			probe_result_free(r);
		}
		policy_decision_unref(job.d);
		free((char *)job.opts.helo);
		free((char *)job.opts.ca_file);
		pthread_mutex_lock(&probes.mu);
	}
	pthread_mutex_unlock(&probes.mu);
	return NULL;
}

/* ------------------------------------------------------------ interface */

int
daemon_probe_start(const struct conf *c)
{
	char eb[128];
	int rc;

	if (!c->probe)
		return 0;
	probes.seed = hash_seed(&probes); /* before any thread uses the table */
	probes.started = 1;
	for (int i = 0; i < PQ_WORKERS; i++) {
		if ((rc = pthread_create(&probes.tid[i], NULL, worker, NULL)) != 0) {
			msg_error("cannot start a probe thread: %s",
			    strerror_r(rc, eb, sizeof(eb)));
			return -1;
		}
		probes.nthreads++;
	}
	return 0;
}

void
daemon_probe_stop(void)
{
	pthread_mutex_lock(&probes.mu);
	probes.stopping = 1;
	pthread_cond_broadcast(&probes.cv);
	pthread_mutex_unlock(&probes.mu);
	for (int i = 0; i < probes.nthreads; i++)
		pthread_join(probes.tid[i], NULL);
	probes.nthreads = 0;
	for (; probes.qlen > 0; probes.qlen--, probes.qhead = (probes.qhead + 1) % PQ_MAX) {
		policy_decision_unref(probes.q[probes.qhead].d);
		free((char *)probes.q[probes.qhead].opts.helo);
		free((char *)probes.q[probes.qhead].opts.ca_file);
	}
	while (probes.oldest) {
		struct remembered_dest *e = probes.oldest;

		pc_unlink_age(e);
		free(e->domain);
		free(e->why);
		free(e);
	}
	memset(probes.bucket, 0, sizeof(probes.bucket));
	probes.nentries = 0;
	probes.started = 0;
}

/* Queue d for probing (probes.mu held). */
static void
enqueue(const struct conf *c, struct policy_decision *d, struct remembered_dest *e)
{
	struct queued_probe *j;

	if (probes.qlen >= PQ_MAX) {
		msg_debug("probe queue full: %s not queued", d->domain);
		return;
	}
	j = &probes.q[(probes.qhead + probes.qlen) % PQ_MAX];
	memset(j, 0, sizeof(*j));
	j->d = policy_decision_ref(d);
	j->opts.step_timeout_ms = c->probe_step_timeout_ms;
	j->opts.helo = xstrdup_null(c->probe_helo);
	j->opts.ca_file = xstrdup_null(c->sts_ca_file);
	j->interval_s = c->probe_interval_s;
	probes.qlen++;
	e->pending = 1;
	e->when = clock_now_s();
	pthread_cond_signal(&probes.cv);
}

void
daemon_probe_apply(const struct conf *c, struct policy_outcome *o)
{
	struct policy_decision *d = o->d;
	struct remembered_dest *e;
	char *why = NULL;

	if (!probes.started || d == NULL || d->domain == NULL || d->domain[0] == 0 ||
	    (d->verdict != POLICY_REQUIRE && d->verdict != POLICY_TRY) || d->nhosts == 0)
		return;
	pthread_mutex_lock(&probes.mu);
	if ((e = pc_find(d->domain)) == NULL)
		e = pc_add(d->domain);
	if (e && !e->pending &&
	    (!e->have_result || clock_now_s() - e->when >= (long long)c->probe_interval_s))
		enqueue(c, d, e);
	if (e && c->probe_defer && d->verdict == POLICY_REQUIRE && e->have_result && e->all_failed)
		why = xstrdup(
		    e->why ? e->why : "latest probe: every DANE host failed authentication");
	pthread_mutex_unlock(&probes.mu);
	if (why == NULL)
		return;
	o->d = policy_decision_simple(d->domain, POLICY_DEFER, d->level, POLICY_R_DANE_AUTH_FAILED,
	    why);
	policy_decision_unref(d);
	free(why);
}
