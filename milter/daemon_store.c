/*
 * daemon_store.c - danepold's outcome store (daemon_store.h).
 *
 * One write-behind queue for the process (store/store_queue.h): the probe
 * workers (daemon_probe.c), the Exim event lines (exim.c) and the failed
 * MTA-STS fetches (daemon_sts.c) hand their outcomes to
 * daemon_store_add(), which copies them into memory (at most
 * outcome_queue_max) and returns; the queue's writer thread connects to
 * outcome_db, retries with backoff while it cannot, and writes in
 * batches. So danepold starts, and decides, while the database is down
 * or slow; what the bound drops is counted (danepol_outcomes_dropped_total)
 * and logged.
 *
 * The queue exists when outcome_db is set and probe = yes, exim_socket or
 * sts = yes is. For probe and exim_socket, an SQLite outcome_db this user
 * can never open (store_access(): the file or its directory not writable)
 * stays a start-up error naming the file, the reason and the remedy
 * (outcomes would never be written, and the reports built from them
 * empty); daemon_store_check() makes the same test for `danepold -n`. A
 * PostgreSQL outcome_db is not checked at start: the writer connects when
 * it can. outcome_db = none keeps no outcomes, by choice.
 *
 * The read connection (ds.reader) serves what must be read back: the
 * self-check's rollover history and the MTA-STS policy kept for an Exim
 * outcome. It is opened at start for SQLite, else at first use; while it
 * cannot be opened it is tried again at most every DS_RETRY_S seconds.
 *
 * Locks: ds.lock (a rwlock) guards ds.q against daemon_store_stop();
 * ds.rmu guards the reader's opening.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "daemon_store.h"
#include "log.h"
#include "mem.h"

#define DS_FLUSH_MS 5000 /* at stop: time to write what is held */
#define DS_RETRY_S  30	 /* between attempts to open the reader */

static struct {
	pthread_rwlock_t lock;
	struct store_queue *q; /* NULL: no outcomes kept */
	pthread_mutex_t rmu;
	char *spec;	       /* outcome_db when the reader may be opened */
	struct store *reader;  /* NULL until opened */
	long long reader_next; /* clock_now_s() of the next attempt */
	int reader_failed;     /* the last attempt failed (logged once) */
} ds = { PTHREAD_RWLOCK_INITIALIZER, NULL, PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0 };

/* The features that need the start-up check of outcome_db ("probe = yes", ...), or NULL. */
static const char *
ds_checked_users(const struct conf *c)
{
	if (c->outcome_db == NULL)
		return NULL;
	if (c->probe && c->exim_socket)
		return "probe = yes and exim_socket";
	if (c->probe)
		return "probe = yes";
	if (c->exim_socket)
		return "exim_socket";
	return NULL;
}

/* Log why outcome_db is unusable (err: "PATH: reason") and what to do. */
static void
ds_error(const struct conf *c, const char *who, const char *err)
{
	msg_error("outcome_db %s; needed by %s (TLS outcomes): make the directory writable for "
		  "user %s (danepold.service: StateDirectory=danepol), or set outcome_db = none to "
		  "keep no outcomes",
	    err ? err : "cannot be opened", who, c->user);
}

int
daemon_store_check(const struct conf *c)
{
	const char *who = ds_checked_users(c);
	char *err = NULL;
	int rc = 0;

	if (who != NULL && !store_spec_is_pg(c->outcome_db) && store_access(c->outcome_db, &err) < 0) {
		ds_error(c, who, err);
		rc = -1;
	}
	free(err);
	return rc;
}

int
daemon_store_start(const struct conf *c)
{
	struct store_queue *q;
	char *err = NULL;

	if (c->outcome_db == NULL || !(c->probe || c->exim_socket || c->sts))
		return 0;
	if (daemon_store_check(c) < 0)
		return -1;
	if ((q = store_queue_new(c->outcome_db, c->relay_name, c->outcome_queue_max, &err)) ==
	    NULL) {
		msg_error("%s", err);
		free(err);
		return -1;
	}
	pthread_rwlock_wrlock(&ds.lock);
	ds.q = q;
	pthread_rwlock_unlock(&ds.lock);
	pthread_mutex_lock(&ds.rmu);
	/* this relay's own file (with PostgreSQL: local_db): policies, rollover history */
	ds.spec = xstrdup(store_local_path(c->outcome_db, c->local_db));
	pthread_mutex_unlock(&ds.rmu);
	(void)daemon_store_reader(); /* a local file: cheap, and its errors logged at start */
	return 0;
}

void
daemon_store_add(const struct tls_outcome *o)
{
	pthread_rwlock_rdlock(&ds.lock);
	if (ds.q != NULL)
		(void)store_queue_add(ds.q, o); /* a drop is counted and logged there */
	pthread_rwlock_unlock(&ds.lock);
}

int
daemon_store_stats(struct store_queue_stats *st)
{
	int rc = -1;

	memset(st, 0, sizeof(*st));
	pthread_rwlock_rdlock(&ds.lock);
	if (ds.q != NULL) {
		store_queue_stats(ds.q, st);
		rc = 0;
	}
	pthread_rwlock_unlock(&ds.lock);
	return rc;
}

struct store *
daemon_store_reader(void)
{
	struct store *s;
	char *err = NULL;

	pthread_mutex_lock(&ds.rmu);
	if (ds.reader == NULL && ds.spec != NULL && clock_now_s() >= ds.reader_next) {
		ds.reader = store_open(ds.spec, &err);
		if (ds.reader == NULL) {
			if (!ds.reader_failed)
				msg_warn(
				    "outcome_db: cannot open it for reading (tried again every "
				    "%d s): %s",
				    DS_RETRY_S, err ? err : "failed");
			ds.reader_failed = 1;
			ds.reader_next = clock_now_s() + DS_RETRY_S;
		} else if (ds.reader_failed) {
			msg_info("outcome_db: open for reading again");
			ds.reader_failed = 0;
		}
		free(err);
	}
	s = ds.reader;
	pthread_mutex_unlock(&ds.rmu);
	return s;
}

void
daemon_store_stop(void)
{
	struct store_queue *q;

	pthread_rwlock_wrlock(&ds.lock);
	q = ds.q;
	ds.q = NULL;
	pthread_rwlock_unlock(&ds.lock);
	store_queue_free(q, DS_FLUSH_MS);
	pthread_mutex_lock(&ds.rmu);
	store_close(ds.reader);
	ds.reader = NULL;
	free(ds.spec);
	ds.spec = NULL;
	ds.reader_next = 0;
	ds.reader_failed = 0;
	pthread_mutex_unlock(&ds.rmu);
}
