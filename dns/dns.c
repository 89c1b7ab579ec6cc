/*
 * dns.c - DNSSEC-validating resolver over one libunbound context
 * (contract in dns.h).
 *
 * Threads and ownership:
 *   - One dispatcher thread per resolver polls ub_fd() and calls
 *     ub_process(); libunbound runs dns_callback() on that thread.
 *   - Every lookup is a struct dns_query, the callback argument. It is
 *     freed by exactly one party: dns_callback() when libunbound delivers
 *     it, or the canceller when ub_cancel() returns UB_NOERROR (libunbound
 *     then guarantees the callback never runs). A query whose batch went
 *     away is "orphaned" (q->batch == NULL) and its answer is dropped.
 *   - res->lock guards batch lists and queues; callers block on the
 *     batch's condition variable (CLOCK_MONOTONIC) until an answer or
 *     their deadline. ub_cancel() is never called with res->lock held.
 *
 * Not here: what the answers mean for DANE (policy/), caching of decisions.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <unbound.h>

#include "buf.h"
#include "clock.h"
#include "dns.h"
#include "dns_setup.h"
#include "dnsname.h"
#include "log.h"
#include "mem.h"
#include "rrsig.h"
#include "stats.h"

struct dns_query {
	struct dns_resolver *res;
	struct dns_batch *batch;       /* NULL once orphaned */
	struct dns_query *prev, *next; /* in batch->inflight */
	int async_id;
	unsigned tag;
	uint16_t type;
	int64_t start_ms;
	char *name;
};

struct dns_done {
	unsigned tag;
	struct dns_answer *ans;
	struct dns_done *next;
};

struct dns_batch {
	struct dns_resolver *res;
	pthread_cond_t cond;
	struct dns_query *inflight; /* doubly-linked list */
	size_t ninflight;
	struct dns_done *head, *tail; /* answers not yet taken */
	size_t ndone;
};

struct dns_resolver {
	struct ub_ctx *ctx;
	pthread_mutex_t lock;
	pthread_t thread;
	int wake[2]; /* self-pipe to stop the dispatcher */
	int running;
};

/* ------------------------------------------------------------ answers */

static void
dns_answer_copy_data(struct dns_answer *a, const struct ub_result *r)
{
	size_t n = 0;

	while (r->data && r->data[n])
		n++;
	a->rr = xcalloc(n ? n : 1, sizeof(*a->rr));
	for (size_t i = 0; i < n; i++) {
		size_t len = r->len && r->len[i] > 0 ? (size_t)r->len[i] : 0;

		a->rr[a->count].data = xmemdup(r->data[i], len);
		a->rr[a->count].len = len;
		a->count++;
	}
}

static void
dns_answer_set_canon(struct dns_answer *a, const char *canon)
{
	char norm[DNSNAME_MAX];
	const char *why;

	if (canon == NULL || dnsname_equal(canon, a->qname))
		return;
	/* libunbound's canonname is a presentation name it built itself. */
	if (dnsname_normalize(canon, 1, norm, &why) == 0)
		a->canonname = xstrdup(norm);
	else
		a->canonname = xstrdup(canon);
}

/* Classify one libunbound result; see the table in dns.h. */
static struct dns_answer *
dns_classify(const char *qname, uint16_t qtype, int err, struct ub_result *r)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));

	a->qname = xstrdup(qname);
	a->qtype = qtype;
	a->status = DNS_FAIL;
	a->sec = DNS_SEC_INDETERMINATE;
	if (err != 0 || r == NULL) {
		a->why = xasprintf("resolver error: %s", ub_strerror(err));
		return a;
	}
	a->rcode = r->rcode;
	if (r->bogus) {
		/* Bogus answers still carry data: it is never used. */
		a->sec = DNS_SEC_BOGUS;
		a->why = xstrdup(r->why_bogus ? r->why_bogus : "DNSSEC validation failed");
		return a;
	}
	if (r->rcode != 0 && r->rcode != 3) {
		a->why = xasprintf("lookup failed (rcode %d%s)", r->rcode,
		    r->rcode == 2	? ", SERVFAIL"
			: r->rcode == 5 ? ", REFUSED"
					: "");
		return a;
	}
	a->sec = r->secure ? DNS_SEC_SECURE : DNS_SEC_INSECURE;
	a->ttl = r->ttl > 0 ? (uint32_t)r->ttl : 0;
	/* libunbound asks with DO: a secure reply carries its RRSIGs. */
	if (r->secure && r->answer_packet && r->answer_len > 0)
		a->sig_expire = rrsig_min_expire(r->answer_packet, (size_t)r->answer_len,
		    (int64_t)time(NULL));
	dns_answer_set_canon(a, r->canonname);
	if (r->nxdomain || r->rcode == 3)
		a->status = DNS_NXDOMAIN;
	else if (r->havedata && r->data && r->data[0]) {
		a->status = DNS_DATA;
		dns_answer_copy_data(a, r);
	} else
		a->status = DNS_NODATA;
	return a;
}

struct dns_answer *
dns_answer_new_fail(const char *qname, uint16_t qtype, enum dns_status st, const char *why)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));

	a->qname = xstrdup(qname);
	a->qtype = qtype;
	a->status = st;
	a->sec = DNS_SEC_INDETERMINATE;
	a->why = xstrdup(why);
	return a;
}

void
dns_answer_free(struct dns_answer *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->count; i++)
		free(a->rr[i].data);
	free(a->rr);
	free(a->qname);
	free(a->why);
	free(a->canonname);
	free(a);
}

struct dns_answer *
dns_answer_dup(const struct dns_answer *a)
{
	struct dns_answer *c = xmemdup(a, sizeof(*a));

	c->qname = xstrdup_null(a->qname);
	c->why = xstrdup_null(a->why);
	c->canonname = xstrdup_null(a->canonname);
	c->rr = xcalloc(a->count ? a->count : 1, sizeof(*c->rr));
	for (size_t i = 0; i < a->count; i++) {
		c->rr[i].data = xmemdup(a->rr[i].data, a->rr[i].len);
		c->rr[i].len = a->rr[i].len;
	}
	return c;
}

/* ------------------------------------------------------------ queues */

/* Call with res->lock held. */
static void
dns_batch_push(struct dns_batch *b, unsigned tag, struct dns_answer *ans)
{
	struct dns_done *d = xcalloc(1, sizeof(*d));

	d->tag = tag;
	d->ans = ans;
	if (b->tail)
		b->tail->next = d;
	else
		b->head = d;
	b->tail = d;
	b->ndone++;
	pthread_cond_signal(&b->cond);
}

/* Call with res->lock held. */
static void
dns_batch_unlink(struct dns_batch *b, struct dns_query *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		b->inflight = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
	b->ninflight--;
}

static void
dns_query_free(struct dns_query *q)
{
	if (q == NULL)
		return;
	free(q->name);
	free(q);
}

/* Runs on the dispatcher thread, from ub_process(). */
static void
dns_callback(void *arg, int err, struct ub_result *result)
{
	struct dns_query *q = arg;
	struct dns_answer *ans = dns_classify(q->name, q->type, err, result);
	struct dns_resolver *res = q->res;

	ans->elapsed_ms = (unsigned)(clock_now_ms() - q->start_ms);
	stats_dns_latency(ans->elapsed_ms);
	if (ans->status == DNS_TIMEOUT)
		stats_add(STATS_DNS_TIMEOUTS, 1);
	ub_resolve_free(result);
	pthread_mutex_lock(&res->lock);
	if (q->batch) {
		dns_batch_unlink(q->batch, q);
		dns_batch_push(q->batch, q->tag, ans);
		ans = NULL;
	}
	pthread_mutex_unlock(&res->lock);
	dns_answer_free(ans);
	dns_query_free(q);
}

/* ------------------------------------------------------------ dispatcher */

static void *
dns_dispatch(void *arg)
{
	struct dns_resolver *res = arg;
	struct pollfd pfd[2];

	pfd[0].fd = ub_fd(res->ctx);
	pfd[0].events = POLLIN;
	pfd[1].fd = res->wake[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			msg_error("resolver dispatcher: poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents && ub_process(res->ctx) != 0)
			msg_warn("resolver dispatcher: ub_process failed");
	}
	return NULL;
}

/* ------------------------------------------------------------ set-up */

static int
dns_set(struct ub_ctx *ctx, const char *opt, unsigned val, struct buf *err)
{
	char v[32];
	int r;

	snprintf(v, sizeof(v), "%u", val);
	if ((r = ub_ctx_set_option(ctx, opt, v)) != 0) {
		buf_printf(err, "resolver option %s %s: %s", opt, v, ub_strerror(r));
		return -1;
	}
	return 0;
}

static int
dns_configure_anchors(struct ub_ctx *ctx, const struct dns_options *o, struct buf *err)
{
	int have = 0, r;

	if (o->trust_anchor && *o->trust_anchor) {
		if ((r = ub_ctx_add_ta(ctx, o->trust_anchor)) != 0) {
			buf_printf(err, "trust anchor \"%.200s\": %s", o->trust_anchor,
			    ub_strerror(r));
			return -1;
		}
		have = 1;
	}
	if (o->trust_anchor_file && *o->trust_anchor_file && !have) {
		if (access(o->trust_anchor_file, R_OK) != 0) {
			buf_printf(err, "trust anchor file %s: %s", o->trust_anchor_file,
			    strerror(errno));
			return -1;
		}
		if ((r = ub_ctx_add_ta_file(ctx, o->trust_anchor_file)) != 0) {
			buf_printf(err, "trust anchor file %s: %s", o->trust_anchor_file,
			    ub_strerror(r));
			return -1;
		}
		have = 1;
	}
	if (!have && !o->no_trust_anchor) {
		buf_puts(err, "no DNSSEC trust anchor configured: every answer would be insecure");
		return -1;
	}
	return 0;
}

/*
 * libunbound's library defaults allow only 16 queries on the wire at once
 * (outgoing-range 16): a cold decision for a domain with 8 MX hosts
 * (17+ lookups) or a burst of distinct cold domains then waits whole
 * round trips for a free slot. Allow up to 4096, one socket each, within
 * half of the file descriptor limit (the rest stays for connections),
 * shared by the fd_share resolvers of the process.
 * Set before the unbound config file, so that an explicit value there wins.
 */
static int
dns_configure_width(struct ub_ctx *ctx, unsigned share, struct buf *err)
{
	struct rlimit rl;
	unsigned range = 4096;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		rlim_t budget =
		    rl.rlim_cur / 2 > 64 ? (rl.rlim_cur / 2 - 64) / (share ? share : 1) : 0;

		if (budget < range)
			range = budget > 16 ? (unsigned)budget : 16;
	}
	if (dns_set(ctx, "outgoing-range:", range, err) < 0)
		return -1;
	return dns_set(ctx, "num-queries-per-thread:", range > 1024 ? range : 1024, err);
}

static int
dns_configure(struct ub_ctx *ctx, const struct dns_options *o, struct buf *err)
{
	int r;

	if (dns_configure_width(ctx, o->fd_share, err) < 0)
		return -1;
	if (o->unbound_config && (r = dns_setup_config(ctx, o->unbound_config)) != 0) {
		buf_printf(err, "resolver config %s: %s", o->unbound_config, ub_strerror(r));
		return -1;
	}
	if (o->max_rtt_ms && dns_set(ctx, "infra-cache-max-rtt:", o->max_rtt_ms, err) < 0)
		return -1;
	if (o->retries && dns_set(ctx, "outbound-msg-retry:", o->retries, err) < 0)
		return -1;
	if (o->override_date &&
	    (r = ub_ctx_set_option(ctx, "val-override-date:", o->override_date)) != 0) {
		buf_printf(err, "val-override-date %s: %s", o->override_date, ub_strerror(r));
		return -1;
	}
	if (o->forward && *o->forward && (r = ub_ctx_set_fwd(ctx, o->forward)) != 0) {
		buf_printf(err, "forwarder %s: %s", o->forward, ub_strerror(r));
		return -1;
	}
	if (dns_configure_anchors(ctx, o, err) < 0)
		return -1;
	if ((r = ub_ctx_async(ctx, 1)) != 0) {
		buf_printf(err, "resolver async mode: %s", ub_strerror(r));
		return -1;
	}
	return 0;
}

/*
 * libunbound reads its config files lazily, at the first lookup. Make
 * that happen now (a lookup of localhost, answered from unbound's
 * built-in local zone without any traffic) so that a broken config is a
 * start-up error, not a failure of the first mail.
 */
static int
dns_finalize(struct ub_ctx *ctx, struct buf *err)
{
	struct ub_result *r = NULL;
	int rc = ub_resolve(ctx, "localhost.", DNS_T_A, 1, &r);

	ub_resolve_free(r);
	if (rc != 0) {
		/* libunbound parses trust anchors and config only now */
		buf_printf(err,
		    "resolver start-up: %s (check the trust anchor and the "
		    "resolver configuration)",
		    ub_strerror(rc));
		return -1;
	}
	return 0;
}

static void
dns_warm_callback(void *arg, int err, struct ub_result *r)
{
	(void)arg;
	(void)err;
	ub_resolve_free(r);
}

/*
 * libunbound starts its background worker (thread, event base, pipes) at
 * the first asynchronous query: ask one (localhost, answered locally) now,
 * so that a resolver has all its threads and descriptors from the start
 * instead of growing them under the first load.
 */
static int
dns_start_worker(struct ub_ctx *ctx, struct buf *err)
{
	int id, r;

	if ((r = ub_resolve_async(ctx, "localhost.", DNS_T_A, 1, NULL, dns_warm_callback, &id)) !=
	    0) {
		buf_printf(err, "resolver start-up: %s", ub_strerror(r));
		return -1;
	}
	return 0;
}

struct dns_resolver *
dns_resolver_new(const struct dns_options *opt, char **errp)
{
	struct dns_resolver *res = xcalloc(1, sizeof(*res));
	struct buf err;
	FILE *lf;

	buf_init(&err);
	res->wake[0] = res->wake[1] = -1;
	pthread_mutex_init(&res->lock, NULL);
	if ((res->ctx = ub_ctx_create()) == NULL) {
		buf_puts(&err, "cannot create libunbound context");
		goto fail;
	}
	/* libunbound's own messages (anchor parse errors, ...) to our log */
	if ((lf = dns_setup_log_stream()) != NULL)
		ub_ctx_debugout(res->ctx, lf);
	if (dns_configure(res->ctx, opt, &err) < 0 || dns_finalize(res->ctx, &err) < 0)
		goto fail;
	if (pipe2(res->wake, O_CLOEXEC) < 0) {
		buf_printf(&err, "pipe: %s", strerror(errno));
		goto fail;
	}
	if (pthread_create(&res->thread, NULL, dns_dispatch, res) != 0) {
		buf_puts(&err, "cannot start the resolver dispatcher thread");
		goto fail;
	}
	res->running = 1;
	if (dns_start_worker(res->ctx, &err) < 0)
		goto fail;
	buf_free(&err);
	return res;
fail:
	if (errp)
		*errp = buf_steal(&err);
	buf_free(&err);
	dns_resolver_free(res);
	return NULL;
}

void
dns_resolver_free(struct dns_resolver *res)
{
	if (res == NULL)
		return;
	if (res->running) {
		if (write(res->wake[1], "x", 1) < 0)
			msg_warn("resolver shutdown: %s", strerror(errno));
		pthread_join(res->thread, NULL);
	}
	/* Queries orphaned by freed batches and still in libunbound are
	 * deleted with the context; their callbacks never run. */
	if (res->ctx)
		ub_ctx_delete(res->ctx);
	if (res->wake[0] >= 0)
		close(res->wake[0]);
	if (res->wake[1] >= 0)
		close(res->wake[1]);
	pthread_mutex_destroy(&res->lock);
	free(res);
}

/* ------------------------------------------------------------ batches */

struct dns_batch *
dns_batch_new(struct dns_resolver *res)
{
	struct dns_batch *b = xcalloc(1, sizeof(*b));

	b->res = res;
	clock_cond_init(&b->cond);
	return b;
}

int
dns_batch_add(struct dns_batch *b, const char *name, uint16_t type, unsigned tag)
{
	struct dns_resolver *res = b->res;
	struct dns_query *q = xcalloc(1, sizeof(*q));
	int r;

	q->res = res;
	q->batch = b;
	q->tag = tag;
	q->type = type;
	q->name = xstrdup(*name ? name : ".");
	q->start_ms = clock_now_ms();
	stats_add(STATS_DNS_QUERIES, 1);
	pthread_mutex_lock(&res->lock);
	q->next = b->inflight;
	if (b->inflight)
		b->inflight->prev = q;
	b->inflight = q;
	b->ninflight++;
	/* Under the lock, so the callback cannot see q before it is linked. */
	r = ub_resolve_async(res->ctx, q->name, type, 1, q, dns_callback, &q->async_id);
	if (r != 0) {
		char why[128];

		snprintf(why, sizeof(why), "resolver refused the lookup: %s", ub_strerror(r));
		dns_batch_unlink(b, q);
		dns_batch_push(b, tag, dns_answer_new_fail(q->name, type, DNS_FAIL, why));
	}
	pthread_mutex_unlock(&res->lock);
	if (r != 0) {
		dns_query_free(q);
		return -1;
	}
	return 0;
}

size_t
dns_batch_pending(const struct dns_batch *b)
{
	size_t n;

	pthread_mutex_lock(&b->res->lock);
	n = b->ninflight + b->ndone;
	pthread_mutex_unlock(&b->res->lock);
	return n;
}

/*
 * Cancel every lookup in flight. With make_timeouts, each comes back as a
 * DNS_TIMEOUT answer on the queue; otherwise it is dropped. Takes and
 * releases res->lock itself (ub_cancel runs without it).
 */
static void
dns_batch_cancel_all(struct dns_batch *b, int make_timeouts)
{
	struct dns_resolver *res = b->res;
	struct dns_query *q, *list;

	pthread_mutex_lock(&res->lock);
	list = b->inflight;
	for (q = list; q; q = q->next) {
		q->batch = NULL; /* orphan: a racing callback frees it */
		if (make_timeouts) {
			stats_add(STATS_DNS_TIMEOUTS, 1);
			dns_batch_push(b, q->tag,
			    dns_answer_new_fail(q->name, q->type, DNS_TIMEOUT,
				"no answer before the decision deadline"));
		}
	}
	b->inflight = NULL;
	b->ninflight = 0;
	/* Copy what ub_cancel needs: after unlock a callback may free q. */
	size_t n = 0;
	for (q = list; q; q = q->next)
		n++;
	struct {
		int id;
		struct dns_query *q;
	} *ids = xcalloc(n ? n : 1, sizeof(*ids));
	n = 0;
	for (q = list; q; q = q->next) {
		ids[n].id = q->async_id;
		ids[n].q = q;
		n++;
	}
	pthread_mutex_unlock(&res->lock);
	for (size_t i = 0; i < n; i++) {
		/* UB_NOERROR: the callback will never run, so q is ours to free.
		 * Otherwise the callback is running or about to, and frees q. */
		if (ub_cancel(res->ctx, ids[i].id) == 0)
			dns_query_free(ids[i].q);
	}
	free(ids);
}

int
dns_batch_next(struct dns_batch *b, int64_t deadline_ms, unsigned *tag, struct dns_answer **ans)
{
	struct dns_resolver *res = b->res;
	struct dns_done *d;
	struct timespec ts;

	pthread_mutex_lock(&res->lock);
	while (b->head == NULL && b->ninflight > 0) {
		if (clock_now_ms() >= deadline_ms) {
			pthread_mutex_unlock(&res->lock);
			dns_batch_cancel_all(b, 1);
			pthread_mutex_lock(&res->lock);
			continue;
		}
		ts = clock_deadline_ts(deadline_ms);
		pthread_cond_timedwait(&b->cond, &res->lock, &ts);
	}
	if ((d = b->head) == NULL) {
		pthread_mutex_unlock(&res->lock);
		return 0;
	}
	b->head = d->next;
	if (b->head == NULL)
		b->tail = NULL;
	b->ndone--;
	pthread_mutex_unlock(&res->lock);
	*tag = d->tag;
	*ans = d->ans;
	free(d);
	return 1;
}

void
dns_batch_free(struct dns_batch *b)
{
	struct dns_done *d, *next;

	if (b == NULL)
		return;
	dns_batch_cancel_all(b, 0);
	for (d = b->head; d; d = next) {
		next = d->next;
		dns_answer_free(d->ans);
		free(d);
	}
	pthread_cond_destroy(&b->cond);
	free(b);
}

/* ------------------------------------------------------------ names */

const char *
dns_sec_name(enum dns_sec s)
{
	switch (s) {
	case DNS_SEC_SECURE:
		return "secure";
	case DNS_SEC_INSECURE:
		return "insecure";
	case DNS_SEC_BOGUS:
		return "bogus";
	case DNS_SEC_INDETERMINATE:
		return "indeterminate";
	}
	return "unknown";
}

int
dns_answer_addr(const struct dns_answer *a, size_t j, char *text, size_t size)
{
	int af = a->qtype == DNS_T_A ? AF_INET : AF_INET6;
	size_t want = af == AF_INET ? 4 : 16;

	if ((a->qtype != DNS_T_A && a->qtype != DNS_T_AAAA) || j >= a->count ||
	    a->rr[j].len != want || inet_ntop(af, a->rr[j].data, text, (socklen_t)size) == NULL)
		return -1;
	return 0;
}

const char *
dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_DATA:
		return "data";
	case DNS_NODATA:
		return "nodata";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_FAIL:
		return "fail";
	case DNS_TIMEOUT:
		return "timeout";
	}
	return "unknown";
}

const char *
dns_type_name(uint16_t type, char *buf)
{
	switch (type) {
	case DNS_T_A:
		return "A";
	case DNS_T_CNAME:
		return "CNAME";
	case DNS_T_MX:
		return "MX";
	case DNS_T_TXT:
		return "TXT";
	case DNS_T_AAAA:
		return "AAAA";
	case DNS_T_TLSA:
		return "TLSA";
	case DNS_T_SMIMEA:
		return "SMIMEA";
	}
	snprintf(buf, 16, "TYPE%u", (unsigned)type);
	return buf;
}
