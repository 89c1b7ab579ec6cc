/*
 * store_queue.c - the bounded write-behind queue of the outcome store
 * (contract in store_queue.h).
 *
 * Producers append copies to a FIFO list under q->mu and signal the
 * writer; nothing else happens on their thread (a drop line, rate
 * limited, is logged after the mutex is released). The one writer thread
 * owns the store connection: it opens it (backoff 1 s doubling to 30 s
 * while it cannot, the wait a timed condition wait on CLOCK_MONOTONIC
 * that shutdown cuts short), takes up to QB_BATCH outcomes at a time and
 * writes them with store_add_batch() in one transaction, q->mu released.
 *
 * Failures. A batch that fails goes back to the head of the list, in
 * order, the store is closed and reopened, and that many outcomes are
 * then written one by one: one the store refuses twice in a row (the
 * second time on a fresh connection) is parked aside (at most QB_PARK);
 * the next write that succeeds proves the store works, and each parked
 * outcome is tried once more on that connection: refused again, it is
 * rejected (dropped, counted and logged), so a hostile row never blocks
 * the queue, and a store that failed for a while loses nothing. When
 * QB_PARK outcomes in a row are refused, the store is what fails: they
 * go back to the queue's tail and the writer backs off. Every outcome is
 * counted in exactly one of written, dropped, rejected, or held.
 *
 * Logging: once per change of the store's state (unreachable, reachable
 * again with the number waiting), a drop line at most every QB_DROP_LOG_MS
 * (the writer logs a pending summary too), one line per rejected outcome
 * and one at free for what was not written. The writer formats its lines
 * under q->mu and logs them after releasing it (sq_note()), so producers
 * never wait on the log's I/O.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "store.h"
#include "store_queue.h"

#define QB_BATCH	  500	/* outcomes per transaction */
#define QB_PARK		  16	/* refused outcomes set aside before the store is blamed */
#define QB_DROP_LOG_MS	  10000 /* at most one drop line per this */
#define QB_BACKOFF_MIN_MS 1000
#define QB_BACKOFF_MAX_MS 30000
#define QB_STOP_RETRY_MS  200 /* retry interval while flushing at shutdown */
#define QB_NOTES	  (QB_PARK + 8) /* log lines of one writer round */

struct qnode {
	struct qnode *next;
	struct tls_outcome o;
};

struct parked {
	struct tls_outcome o;
	char *why;
};

struct note {
	int warn; /* msg_warn, else msg_info */
	char *text;
};

struct store_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC: work arrived, or stopping */
	pthread_t tid;
	char *spec, *shown, *relay;
	size_t max;
	unsigned backoff_min, backoff_max;
	/* under mu */
	struct qnode *head, *tail;
	size_t len;	 /* in the list */
	size_t inflight; /* taken by the writer */
	struct parked park[QB_PARK];
	size_t nparked;
	uint64_t written, dropped, rejected;
	int connected;
	int stopping;
	int64_t flush_deadline; /* clock_now_ms() clock, when stopping */
	int64_t drop_log_ms;	/* time of the last drop line, 0: none */
	uint64_t drop_logged;	/* q->dropped at that line */
	/* the writer's own */
	struct store *store;
	int state; /* 0 not tried yet, 1 up, -1 down, -2 open again, no write yet: log per change */
	size_t single_left;	     /* outcomes still to write one by one after a failed batch */
	int head_fails;		     /* refusals in a row of the outcome at the head (one by one) */
	unsigned backoff_ms;	     /* the next wait after a failed open */
	struct note notes[QB_NOTES]; /* lines to log once q->mu is released */
	size_t nnotes;
};

/* spec with the password of a URI's user info replaced by "***" (caller frees). */
static char *
sq_shown(const char *spec)
{
	const char *p = strstr(spec, "://"), *at, *colon;

	if (p == NULL)
		return xstrdup(spec);
	p += 3;
	at = strchr(p, '@');
	colon = strchr(p, ':');
	if (at == NULL || colon == NULL || colon > at || strchr(p, '/') < at)
		return xstrdup(spec);
	return xasprintf("%.*s:***%s", (int)(colon - spec), spec, at);
}

static size_t
sq_held(const struct store_queue *q)
{
	return q->len + q->inflight + q->nparked;
}

/*
 * A line for the log (q->mu held, the writer's thread): kept until
 * sq_notes_flush(), so that no producer waits on the log's I/O.
 */
static void sq_note(struct store_queue *q, int warn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
sq_note(struct store_queue *q, int warn, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		msg_fatal("out of memory");
	va_end(ap);
	if (q->nnotes == QB_NOTES) { /* not expected: at most QB_PARK + 3 a round */
		msg_warn("%s", text);
		free(text);
		return;
	}
	q->notes[q->nnotes].warn = warn;
	q->notes[q->nnotes++].text = text;
}

/* Log the kept lines (q->mu held, released meanwhile). */
static void
sq_notes_flush(struct store_queue *q)
{
	struct note n[QB_NOTES];
	size_t k = q->nnotes;

	if (k == 0)
		return;
	memcpy(n, q->notes, k * sizeof(n[0]));
	q->nnotes = 0;
	pthread_mutex_unlock(&q->mu);
	for (size_t i = 0; i < k; i++) {
		if (n[i].warn)
			msg_warn("%s", n[i].text);
		else
			msg_info("%s", n[i].text);
		free(n[i].text);
	}
	pthread_mutex_lock(&q->mu);
}

/* ------------------------------------------------------------ the list (q->mu held) */

static void
sq_push_tail(struct store_queue *q, struct qnode *n)
{
	n->next = NULL;
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	q->len++;
}

/* Move up to want outcomes from the head into out[] (struct moves). */
static size_t
sq_take(struct store_queue *q, struct tls_outcome *out, size_t want)
{
	size_t n = 0;

	while (n < want && q->head != NULL) {
		struct qnode *h = q->head;

		q->head = h->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->len--;
		out[n++] = h->o;
		free(h);
	}
	q->inflight = n;
	return n;
}

/* Put o[0..n-1] back at the head, in order (the writer's batch). */
static void
sq_put_back(struct store_queue *q, struct tls_outcome *o, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		struct qnode *h = xmalloc(sizeof(*h));

		h->o = o[i];
		h->next = q->head;
		q->head = h;
		if (q->tail == NULL)
			q->tail = h;
		q->len++;
	}
	q->inflight = 0;
}

/* ------------------------------------------------------------ producers */

static void *sq_writer(void *arg);

struct store_queue *
store_queue_new(const char *spec, const char *relay, size_t max, char **err)
{
	struct store_queue *q = xcalloc(1, sizeof(*q));
	int rc;

	pthread_mutex_init(&q->mu, NULL);
	if ((rc = clock_cond_init(&q->cv)) != 0)
		goto fail;
	q->spec = xstrdup(spec);
	q->shown = sq_shown(spec);
	q->relay = xstrdup_null(relay);
	q->max = max;
	q->backoff_min = QB_BACKOFF_MIN_MS;
	q->backoff_max = QB_BACKOFF_MAX_MS;
	q->backoff_ms = q->backoff_min;
	if ((rc = pthread_create(&q->tid, NULL, sq_writer, q)) == 0)
		return q;
	pthread_cond_destroy(&q->cv);
fail:
	*err = xasprintf("outcome queue: cannot start its writer: %s", strerror(rc));
	pthread_mutex_destroy(&q->mu);
	free(q->spec);
	free(q->shown);
	free(q->relay);
	free(q);
	return NULL;
}

void
store_queue_set_backoff(struct store_queue *q, unsigned min_ms, unsigned max_ms)
{
	pthread_mutex_lock(&q->mu);
	q->backoff_min = q->backoff_ms = min_ms;
	q->backoff_max = max_ms;
	pthread_mutex_unlock(&q->mu);
}

/*
 * The drop line due now, if any (q->mu held): how many were dropped since
 * the last line, 0 when none is due. Marks it logged.
 */
static uint64_t
sq_drop_line_due(struct store_queue *q, int64_t now)
{
	uint64_t n = q->dropped - q->drop_logged;

	if (n == 0 || (q->drop_log_ms != 0 && now - q->drop_log_ms < QB_DROP_LOG_MS))
		return 0;
	q->drop_log_ms = now;
	q->drop_logged = q->dropped;
	return n;
}

static void
sq_drop_line(uint64_t n, size_t held)
{
	if (n > 0)
		msg_warn("outcome queue full (%zu held): %llu outcome%s dropped", held,
		    (unsigned long long)n, n == 1 ? "" : "s");
}

int
store_queue_add(struct store_queue *q, const struct tls_outcome *o)
{
	struct qnode *n;
	uint64_t due;
	size_t held;

	pthread_mutex_lock(&q->mu);
	if (sq_held(q) >= q->max) {
		q->dropped++;
		due = sq_drop_line_due(q, clock_now_ms());
		held = sq_held(q);
		pthread_mutex_unlock(&q->mu);
		sq_drop_line(due, held);
		return -1;
	}
	pthread_mutex_unlock(&q->mu);
	n = xmalloc(sizeof(*n)); /* copied outside the lock: it only allocates */
	outcome_copy(&n->o, o);
	pthread_mutex_lock(&q->mu);
	if (sq_held(q) >= q->max) { /* filled up meanwhile */
		q->dropped++;
		due = sq_drop_line_due(q, clock_now_ms());
		held = sq_held(q);
		pthread_mutex_unlock(&q->mu);
		outcome_clear(&n->o);
		free(n);
		sq_drop_line(due, held);
		return -1;
	}
	sq_push_tail(q, n);
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

void
store_queue_stats(const struct store_queue *q, struct store_queue_stats *st)
{
	struct store_queue *mq = (struct store_queue *)q; /* the mutex only */

	pthread_mutex_lock(&mq->mu);
	st->queued = sq_held(q);
	st->written = q->written;
	st->dropped = q->dropped;
	st->rejected = q->rejected;
	st->connected = q->connected;
	st->max = q->max;
	pthread_mutex_unlock(&mq->mu);
}

/* ------------------------------------------------------------ the writer */

/*
 * Wait (q->mu held) until deadline_ms, or the flush deadline once
 * stopping, whichever is first; work arriving does not end it. A shutdown
 * that begins during the wait ends it at once: a writer in a long backoff
 * tries the store again before the flush deadline, not never.
 */
static void
sq_wait_until(struct store_queue *q, int64_t deadline_ms)
{
	int was_stopping = q->stopping;

	for (;;) {
		int64_t end = deadline_ms;
		struct timespec ts;

		if (q->stopping && !was_stopping)
			return; /* shutdown began: one more try now, not after the backoff */
		if (q->stopping && q->flush_deadline < end)
			end = q->flush_deadline;
		if (clock_now_ms() >= end)
			return;
		ts = clock_deadline_ts(end);
		(void)pthread_cond_timedwait(&q->cv, &q->mu, &ts);
	}
}

/* Back off after a failure (q->mu held): wait, then double the next wait. */
static void
sq_backoff(struct store_queue *q)
{
	int64_t wait;

	sq_notes_flush(q); /* releases q->mu: read stopping after it */
	wait = q->backoff_ms;
	if (q->stopping && wait > QB_STOP_RETRY_MS)
		wait = QB_STOP_RETRY_MS; /* shutting down: retry often until the flush deadline */
	sq_wait_until(q, clock_now_ms() + wait);
	q->backoff_ms = q->backoff_ms * 2 > q->backoff_max ? q->backoff_max : q->backoff_ms * 2;
}

/*
 * The store failed (q->mu held): close it. loud: it is down (logged when
 * it was up: once per change, not per retry); else a reconnect to tell
 * whether the store or an outcome failed (not logged: a refusal is logged
 * when the outcome is rejected, a store that is down when it is found so).
 */
static void
sq_down(struct store_queue *q, const char *what, const char *err, int loud)
{
	if (loud && (q->state == 0 || q->state == 1))
		sq_note(q, 1,
		    "outcome store %s %s: %s; outcomes are held in memory (%zu now, at most "
		    "%zu) and written when it is back",
		    q->shown, what, err ? err : "failed", sq_held(q), q->max);
	if (loud)
		q->state = -1;
	q->connected = 0;
	if (q->store != NULL) {
		pthread_mutex_unlock(&q->mu);
		store_close(q->store);
		pthread_mutex_lock(&q->mu);
		q->store = NULL;
	}
}

/* Open the store (q->mu held, released meanwhile). 0, or -1 after backing off. */
static int
sq_connect(struct store_queue *q)
{
	struct store *s;
	char *err = NULL;

	pthread_mutex_unlock(&q->mu);
	if ((s = store_open(q->spec, &err)) != NULL)
		store_set_relay(s, q->relay);
	pthread_mutex_lock(&q->mu);
	if (s == NULL) {
		sq_down(q, "unreachable", err, 1);
		free(err);
		sq_backoff(q);
		return -1;
	}
	q->store = s;
	/* back when it writes again (sq_written()): it may open and refuse writes */
	q->state = q->state < 0 ? -2 : 1;
	q->connected = q->state == 1;
	q->backoff_ms = q->backoff_min;
	return 0;
}

/*
 * The store just wrote (q->mu held, released meanwhile): try each parked
 * outcome once more on the same connection; one refused now is rejected.
 */
static void
sq_settle_parked(struct store_queue *q)
{
	struct parked p[QB_PARK];
	size_t k = q->nparked, ok = 0;
	int rc[QB_PARK];

	if (k == 0)
		return;
	memcpy(p, q->park, k * sizeof(p[0]));
	pthread_mutex_unlock(&q->mu); /* still held (q->nparked) meanwhile */
	for (size_t i = 0; i < k; i++) {
		char *err = NULL;

		if ((rc[i] = store_add(q->store, &p[i].o, &err)) < 0) {
			free(p[i].why);
			p[i].why = err;
		}
	}
	pthread_mutex_lock(&q->mu);
	for (size_t i = 0; i < k; i++) {
		if (rc[i] == 0)
			ok++;
		else
			sq_note(q, 1, "outcome store %s: a %s outcome refused, not kept: %s",
			    q->shown, outcome_source_name(p[i].o.source), p[i].why);
		outcome_clear(&p[i].o);
		free(p[i].why);
	}
	q->written += ok;
	q->rejected += k - ok;
	q->nparked = 0;
}

/* A write succeeded (q->mu held): count it; settle the parked outcomes. */
static void
sq_written(struct store_queue *q, size_t n)
{
	if (q->state == -2)
		sq_note(q, 0, "outcome store %s reachable again: %zu outcome%s waiting", q->shown,
		    sq_held(q), sq_held(q) == 1 ? "" : "s");
	q->state = 1;
	q->connected = 1;
	q->written += n;
	q->inflight = 0;
	q->head_fails = 0;
	if (q->single_left > 0)
		q->single_left -= n;
	sq_settle_parked(q);
}

/* The parked outcomes back at the tail (q->mu held): the store failed, not they. */
static void
sq_unpark(struct store_queue *q)
{
	for (size_t i = 0; i < q->nparked; i++) {
		struct qnode *n = xmalloc(sizeof(*n));

		n->o = q->park[i].o;
		free(q->park[i].why);
		sq_push_tail(q, n);
	}
	q->nparked = 0;
}

/*
 * One outcome, written one by one, was refused (q->mu held, o[0] put back
 * at the head already): reconnect and try it again; refused a second time,
 * park it; with QB_PARK parked already, blame the store.
 */
static void
sq_refused(struct store_queue *q, char *err)
{
	if (++q->head_fails < 2) {
		sq_down(q, "refused a write", err, 0);
		free(err);
		return;
	}
	q->head_fails = 0;
	if (q->nparked < QB_PARK) {
		struct qnode *h = q->head;

		q->head = h->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->len--;
		q->park[q->nparked].o = h->o;
		q->park[q->nparked++].why = err;
		free(h);
		q->single_left--;
		return;
	}
	sq_unpark(q);
	q->single_left = 0;
	sq_down(q, "refuses every write", err, 1);
	free(err);
	sq_backoff(q);
}

/* One round: take a batch (or one outcome), write it (q->mu held, released meanwhile). */
static void
sq_write_round(struct store_queue *q, struct tls_outcome *batch)
{
	size_t n = sq_take(q, batch, q->single_left > 0 ? 1 : QB_BATCH);
	char *err = NULL;
	int rc;

	if (n == 0)
		return;
	pthread_mutex_unlock(&q->mu);
	rc = store_add_batch(q->store, batch, NULL, n, NULL, &err);
	pthread_mutex_lock(&q->mu);
	if (rc == 0) {
		pthread_mutex_unlock(&q->mu); /* inflight: still counted held */
		for (size_t i = 0; i < n; i++)
			outcome_clear(&batch[i]);
		pthread_mutex_lock(&q->mu);
		sq_written(q, n);
		return;
	}
	sq_put_back(q, batch, n);
	if (q->single_left > 0) {
		sq_refused(q, err);
		return;
	}
	/* the database, or one of them? Reopening, then one by one tells */
	msg_debug("outcome store %s: a batch of %zu failed: %s", q->shown, n, err);
	q->single_left = n;
	sq_down(q, "failed a write", err, 0);
	free(err);
}

static void *
sq_writer(void *arg)
{
	struct store_queue *q = arg;
	struct tls_outcome *batch = xcalloc(QB_BATCH, sizeof(*batch));

	pthread_mutex_lock(&q->mu);
	for (;;) {
		uint64_t due;

		while (!q->stopping && q->len == 0)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stopping && (q->len == 0 || clock_now_ms() >= q->flush_deadline))
			break;
		if (q->store == NULL && sq_connect(q) < 0)
			continue;
		sq_write_round(q, batch);
		sq_notes_flush(q);
		if ((due = sq_drop_line_due(q, clock_now_ms())) != 0) {
			size_t held = sq_held(q);

			pthread_mutex_unlock(&q->mu);
			sq_drop_line(due, held);
			pthread_mutex_lock(&q->mu);
		}
	}
	sq_notes_flush(q);
	pthread_mutex_unlock(&q->mu);
	free(batch);
	return NULL;
}

void
store_queue_free(struct store_queue *q, unsigned flush_ms)
{
	size_t left;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	q->flush_deadline = clock_now_ms() + flush_ms;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->tid, NULL);
	sq_unpark(q);
	left = q->len;
	q->dropped += left;
	while (q->head != NULL) {
		struct qnode *h = q->head;

		q->head = h->next;
		outcome_clear(&h->o);
		free(h);
	}
	if (left > 0)
		msg_warn("outcome store %s: %zu outcome%s not written (%llu dropped in all)",
		    q->shown, left, left == 1 ? "" : "s", (unsigned long long)q->dropped);
	else if (q->dropped > q->drop_logged)
		msg_warn("outcome queue: %llu outcome%s dropped in all",
		    (unsigned long long)q->dropped, q->dropped == 1 ? "" : "s");
	store_close(q->store);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q->spec);
	free(q->shown);
	free(q->relay);
	free(q);
}
