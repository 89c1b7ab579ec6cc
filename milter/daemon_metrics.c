/*
 * daemon_metrics.c - the label tables, the two renderings of the
 * counters (Prometheus text, JSON) and the metrics listener (contract in
 * daemon_metrics.h; the families in doc/metrics.md).
 *
 * Labels come only from the fixed tables here and in policy/ (verdict and
 * reason names), never from outside data. Decision series are written for
 * the (verdict, reason) pairs counted at least once; every other family
 * is written whole, zeros included.
 *
 * The listener: listener_open() binds (so the metrics socket has the
 * same socket syntax, stale-file handling, owner, group and mode as the
 * other sockets), libmicrohttpd accepts on that descriptor in its own
 * polling thread (MHD_OPTION_LISTEN_SOCKET): GET or HEAD /metrics is
 * answered, any other path 404, any other method 405; at most
 * DM_MAX_CONNS connections at once, each closed after DM_TIMEOUT_S idle
 * seconds. At stop, MHD_quiesce_daemon() hands the descriptor back before
 * MHD_stop_daemon(), so the listener closes it and removes its file.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "daemon_metrics.h"
#include "daemon_selfcheck.h"
#include "daemon_store.h"
#include "listener.h"
#include "log.h"
#include "mem.h"
#include "policy.h"
#include "policy_cache.h"
#include "probe.h"
#include "snapshot.h"
#include "stats.h"
#include "sts_fetch.h"

#define DM_MAX_CONNS 16 /* HTTP connections at once */
#define DM_TIMEOUT_S 10 /* idle seconds before libmicrohttpd closes one */

static const char *const dm_doors[DAEMON_METRICS_NDOORS] = { "milter", "socketmap", "exim",
	"control" };

/* Probe result labels: success, transient (no TLS outcome: connect or
 * banner failed), and the RFC 8460 section 4.3 result types. */
static const char *const dm_results[] = { "success", "transient", "starttls-not-supported",
	"certificate-host-mismatch", "certificate-expired", "certificate-not-trusted",
	"validation-failure", "tlsa-invalid", "dnssec-invalid", "dane-required",
	"sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid" };
#define DM_NRESULTS (sizeof(dm_results) / sizeof(dm_results[0]))
_Static_assert(DM_NRESULTS <= STATS_RESULT_MAX, "more probe result labels than counters");
_Static_assert(STS_FETCH_INVALID < STATS_STS_MAX, "more fetch statuses than counters");
_Static_assert(DAEMON_METRICS_NDOORS <= STATS_DOOR_MAX, "more doors than counters");
_Static_assert(POLICY_R_COUNT <= STATS_REASON_MAX, "more reasons than counters");
_Static_assert(POLICY_REJECT < STATS_VERDICT_MAX, "more verdicts than counters");

static const char *const dm_families[] = { "danepol_decisions_total", "danepol_cache_entries",
	"danepol_cache_hits_total", "danepol_cache_misses_total", "danepol_dns_queries_total",
	"danepol_dns_timeouts_total", "danepol_dns_query_duration_seconds",
	"danepol_connections_total", "danepol_probe_results_total", "danepol_sts_fetches_total",
	"danepol_audit_write_errors_total", "danepol_reloads_total", "danepol_config_generation",
	"danepol_outcome_queue_held", "danepol_outcome_queue_max", "danepol_outcomes_written_total",
	"danepol_outcomes_dropped_total", "danepol_outcomes_rejected_total", "danepol_outcome_db_up",
	"danepol_selfcheck_state", "danepol_selfcheck_last_run_timestamp_seconds", NULL };

const char *const *
daemon_metrics_families(void)
{
	return dm_families;
}

void
daemon_metrics_probe(const struct probe_result *r)
{
	for (size_t i = 0; r && i < r->naddrs; i++) {
		const struct probe_addr *a = &r->addrs[i];
		const char *t = a->success ? "success"
		    : a->transient	   ? "transient"
		    : a->result_type	   ? a->result_type
					   : "validation-failure";
		unsigned k;

		for (k = 0; k < DM_NRESULTS; k++)
			if (strcmp(dm_results[k], t) == 0)
				break;
		stats_probe_result(k < DM_NRESULTS ? k : 6 /* validation-failure */);
	}
}

/* Everything one rendering shows, read once. */
struct dm_read {
	struct stats_snapshot s;
	uint64_t cache_entries;
	struct store_queue_stats q; /* zeros without an outcome queue */
};

static void
dm_read(struct dm_read *r)
{
	struct snapshot *snap = snapshot_acquire();

	stats_read(&r->s);
	(void)daemon_store_stats(&r->q);
	r->cache_entries = snap ? policy_cache_size(snap->rt->cache) : 0;
	snapshot_release(snap);
}

/* ------------------------------------------------------------ text */

static void
dm_head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
dm_one(struct buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
	dm_head(b, name, type, help);
	buf_printf(b, "%s %" PRIu64 "\n", name, v);
}

/* The outcome queue's families (daemon_store.h). */
static void
dm_queue_text(struct buf *b, const struct store_queue_stats *q)
{
	dm_one(b, "danepol_outcome_queue_held", "gauge",
	    "TLS outcomes held in memory, waiting for the outcome store.", q->queued);
	dm_one(b, "danepol_outcome_queue_max", "gauge",
	    "The bound of the outcome queue (outcome_queue_max; 0: no outcomes kept).", q->max);
	dm_one(b, "danepol_outcomes_written_total", "counter",
	    "TLS outcomes written to the outcome store.", q->written);
	dm_one(b, "danepol_outcomes_dropped_total", "counter",
	    "TLS outcomes dropped: the queue was full, or still held at stop.", q->dropped);
	dm_one(b, "danepol_outcomes_rejected_total", "counter",
	    "TLS outcomes the outcome store refused as invalid.", q->rejected);
	dm_one(b, "danepol_outcome_db_up", "gauge",
	    "1: the outcome store is connected and its last write worked.",
	    (uint64_t)q->connected);
}

void
daemon_metrics_text(struct buf *b)
{
	struct dm_read r;
	uint64_t cum = 0;

	dm_read(&r);
	dm_head(b, "danepol_decisions_total", "counter",
	    "Decisions handed out by the engine or its cache, by verdict and reason.");
	for (unsigned v = 0; v <= POLICY_REJECT; v++)
		for (unsigned k = 0; k < POLICY_R_COUNT; k++)
			if (r.s.decisions[v][k])
				buf_printf(b,
				    "danepol_decisions_total{verdict=\"%s\",reason=\"%s\"} %" PRIu64
				    "\n",
				    policy_verdict_name((enum policy_verdict)v),
				    policy_reason_name((enum policy_reason)k), r.s.decisions[v][k]);
	dm_one(b, "danepol_cache_entries", "gauge",
	    "Entries in the decision cache, lookups in flight included.", r.cache_entries);
	dm_one(b, "danepol_cache_hits_total", "counter", "Decisions taken from the cache.",
	    r.s.counter[STATS_CACHE_HITS]);
	dm_one(b, "danepol_cache_misses_total", "counter",
	    "Decisions the engine made because the cache had none (or an expired one).",
	    r.s.counter[STATS_CACHE_MISSES]);
	dm_one(b, "danepol_dns_queries_total", "counter", "DNS lookups sent to the resolver.",
	    r.s.counter[STATS_DNS_QUERIES]);
	dm_one(b, "danepol_dns_timeouts_total", "counter",
	    "DNS lookups without an answer before their decision's deadline.",
	    r.s.counter[STATS_DNS_TIMEOUTS]);
	dm_head(b, "danepol_dns_query_duration_seconds", "histogram",
	    "Time from sending a DNS lookup to its answer.");
	for (unsigned i = 0; i < STATS_LATENCY_BUCKETS; i++) {
		cum += r.s.latency[i];
		buf_printf(b,
		    "danepol_dns_query_duration_seconds_bucket{le=\"%u.%03u\"} %" PRIu64 "\n",
		    stats_latency_bounds_ms[i] / 1000, stats_latency_bounds_ms[i] % 1000, cum);
	}
	cum += r.s.latency[STATS_LATENCY_BUCKETS];
	buf_printf(b, "danepol_dns_query_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
	buf_printf(b, "danepol_dns_query_duration_seconds_sum %" PRIu64 ".%03u\n",
	    r.s.latency_sum_ms / 1000, (unsigned)(r.s.latency_sum_ms % 1000));
	buf_printf(b, "danepol_dns_query_duration_seconds_count %" PRIu64 "\n", r.s.latency_count);
	dm_head(b, "danepol_connections_total", "counter", "Connections accepted, by front door.");
	for (unsigned i = 0; i < DAEMON_METRICS_NDOORS; i++)
		buf_printf(b, "danepol_connections_total{door=\"%s\"} %" PRIu64 "\n", dm_doors[i],
		    r.s.doors[i]);
	dm_head(b, "danepol_probe_results_total", "counter",
	    "Addresses probed in the background, by RFC 8460 result type.");
	for (unsigned i = 0; i < DM_NRESULTS; i++)
		buf_printf(b, "danepol_probe_results_total{result=\"%s\"} %" PRIu64 "\n",
		    dm_results[i], r.s.probe_results[i]);
	dm_head(b, "danepol_sts_fetches_total", "counter",
	    "MTA-STS policy fetches, by result (ok or the RFC 8460 result type of the failure).");
	for (unsigned i = 0; i <= STS_FETCH_INVALID; i++)
		buf_printf(b, "danepol_sts_fetches_total{result=\"%s\"} %" PRIu64 "\n",
		    sts_fetch_status_name((enum sts_fetch_status)i), r.s.sts_fetches[i]);
	dm_one(b, "danepol_audit_write_errors_total", "counter", "Audit lines not written.",
	    r.s.counter[STATS_AUDIT_WRITE_ERRORS]);
	dm_head(b, "danepol_reloads_total", "counter",
	    "Configuration reloads, by result (failed: the running configuration stays).");
	buf_printf(b, "danepol_reloads_total{result=\"ok\"} %" PRIu64 "\n",
	    r.s.counter[STATS_RELOADS_OK]);
	buf_printf(b, "danepol_reloads_total{result=\"failed\"} %" PRIu64 "\n",
	    r.s.counter[STATS_RELOADS_FAILED]);
	dm_one(b, "danepol_config_generation", "gauge",
	    "Configurations installed since start (1: the one read at start).", r.s.generation);
	dm_queue_text(b, &r.q);
	daemon_selfcheck_metrics(b);
}

/* ------------------------------------------------------------ JSON */

static json_t *
dm_u(uint64_t v)
{
	return json_integer((json_int_t)v);
}

json_t *
daemon_metrics_json(void)
{
	struct dm_read r;
	json_t *o = json_object(), *dec = json_array(), *lat = json_array(), *doors = json_object(),
	       *res = json_object(), *sts = json_object();
	uint64_t cum = 0;

	dm_read(&r);
	for (unsigned v = 0; v <= POLICY_REJECT; v++)
		for (unsigned k = 0; k < POLICY_R_COUNT; k++)
			if (r.s.decisions[v][k])
				json_array_append_new(dec,
				    json_pack("{s:s, s:s, s:o}", "verdict",
					policy_verdict_name((enum policy_verdict)v), "reason",
					policy_reason_name((enum policy_reason)k), "count",
					dm_u(r.s.decisions[v][k])));
	for (unsigned i = 0; i <= STATS_LATENCY_BUCKETS; i++) {
		cum += r.s.latency[i];
		json_array_append_new(lat,
		    json_pack("{s:o, s:o}", "le_ms",
			i < STATS_LATENCY_BUCKETS ? json_integer(stats_latency_bounds_ms[i])
						  : json_null(),
			"count", dm_u(cum)));
	}
	for (unsigned i = 0; i < DAEMON_METRICS_NDOORS; i++)
		json_object_set_new(doors, dm_doors[i], dm_u(r.s.doors[i]));
	for (unsigned i = 0; i < DM_NRESULTS; i++)
		json_object_set_new(res, dm_results[i], dm_u(r.s.probe_results[i]));
	json_object_set_new(o, "decisions", dec);
	json_object_set_new(o, "cache",
	    json_pack("{s:o, s:o, s:o}", "entries", dm_u(r.cache_entries), "hits",
		dm_u(r.s.counter[STATS_CACHE_HITS]), "misses",
		dm_u(r.s.counter[STATS_CACHE_MISSES])));
	json_object_set_new(o, "dns",
	    json_pack("{s:o, s:o, s:{s:o, s:o, s:o}}", "queries",
		dm_u(r.s.counter[STATS_DNS_QUERIES]), "timeouts",
		dm_u(r.s.counter[STATS_DNS_TIMEOUTS]), "latency", "buckets", lat, "sum_ms",
		dm_u(r.s.latency_sum_ms), "count", dm_u(r.s.latency_count)));
	json_object_set_new(o, "connections", doors);
	json_object_set_new(o, "probe_results", res);
	for (unsigned i = 0; i <= STS_FETCH_INVALID; i++)
		json_object_set_new(sts, sts_fetch_status_name((enum sts_fetch_status)i),
		    dm_u(r.s.sts_fetches[i]));
	json_object_set_new(o, "sts_fetches", sts);
	json_object_set_new(o, "audit_write_errors", dm_u(r.s.counter[STATS_AUDIT_WRITE_ERRORS]));
	json_object_set_new(o, "reloads",
	    json_pack("{s:o, s:o}", "ok", dm_u(r.s.counter[STATS_RELOADS_OK]), "failed",
		dm_u(r.s.counter[STATS_RELOADS_FAILED])));
	json_object_set_new(o, "config_generation", dm_u(r.s.generation));
	json_object_set_new(o, "outcome_queue",
	    json_pack("{s:o, s:o, s:o, s:o, s:o, s:b}", "held", dm_u(r.q.queued), "max",
		dm_u(r.q.max), "written", dm_u(r.q.written), "dropped", dm_u(r.q.dropped),
		"rejected", dm_u(r.q.rejected), "db_up", r.q.connected));
	return o;
}

/* ------------------------------------------------------------ HTTP */

struct daemon_metrics {
	struct listener *l;   /* the bound socket (never started) */
	struct MHD_Daemon *d; /* NULL until started */
};

static enum MHD_Result
dm_reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body, size_t n)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* libmicrohttpd's request handler (its polling thread). */
static enum MHD_Result
dm_handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct buf b;
	size_t n;

	(void)cls;
	(void)version;
	(void)upload;
	(void)state;
	*upload_size = 0; /* a body is ignored */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return dm_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
		    xstrdup("method not allowed\n"), 19);
	if (strcmp(url, "/metrics") != 0)
		return dm_reply(conn, MHD_HTTP_NOT_FOUND, "text/plain",
		    xstrdup("not found: try /metrics\n"), 24);
	buf_init(&b);
	daemon_metrics_text(&b);
	n = b.len;
	return dm_reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
	    buf_steal(&b), n);
}

struct daemon_metrics *
daemon_metrics_open(const char *spec, uid_t uid, const char *group, unsigned mode)
{
	struct daemon_metrics *m;
	struct listener *l;

	if ((l = listener_open(spec, "metrics", uid, group, mode)) == NULL)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->l = l;
	return m;
}

int
daemon_metrics_start(struct daemon_metrics *m)
{
	m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC, 0,
	    NULL, NULL, dm_handle, NULL, MHD_OPTION_LISTEN_SOCKET, listener_fd(m->l),
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)DM_MAX_CONNS, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)DM_TIMEOUT_S, MHD_OPTION_END);
	if (m->d == NULL) {
		msg_error("metrics socket: libmicrohttpd did not start");
		return -1;
	}
	return 0;
}

void
daemon_metrics_stop(struct daemon_metrics *m)
{
	if (m == NULL)
		return;
	if (m->d) {
		MHD_quiesce_daemon(m->d); /* the descriptor stays the listener's */
		MHD_stop_daemon(m->d);
	}
	listener_stop(m->l);
	free(m);
}
