/*
 * control.c - the control socket's one-request protocol (contract in
 * control.h; the request grammar in proto.h, the reply in
 * doc/query.schema.json).
 *
 * A connection carries one request: bytes up to the first "\n" (or the
 * end of input), at most PROTO_CONTROL_LINE_MAX octets plus a "\r";
 * longer is answered {"error":"request line too long"}. The listener
 * bounds the waits (socket_idle_timeout before the first byte,
 * socket_request_timeout for the line) and the connections at once.
 * The socket has the owner, group and mode of the other sockets
 * (socket_group, socket_mode): whoever may connect may ask.
 *
 * A query's "age_s" is the age of the decision the daemon holds: whole
 * seconds since the engine made it (0 for one made by this query,
 * "cached": false).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "audit.h"
#include "buf.h"
#include "clock.h"
#include "control.h"
#include "daemon_metrics.h"
#include "daemon_probe.h"
#include "listener.h"
#include "log.h"
#include "mem.h"
#include "policy_json.h"
#include "proto.h"
#include "snapshot.h"
#include "stats.h"

#define CTL_DRAIN_MAX 65536 /* octets read and dropped after the reply */

static char *
ctl_dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s ? s : xstrdup("{\"error\":\"out of memory\"}");
}

static char *
ctl_error(const char *why)
{
	return ctl_dump(json_pack("{s:s}", "error", why));
}

static char *
ctl_query(const char *domain)
{
	struct snapshot *snap = snapshot_acquire();
	struct policy_outcome o;
	struct stats_snapshot s;
	json_t *r, *dec;
	int64_t age_ms = 0;

	if (snap == NULL)
		return ctl_error("danepold is not ready");
	policy_run_decide(snap->rt, domain, &o);
	if (o.cache_hit && o.d->made_ms > 0)
		age_ms = clock_now_ms() - o.d->made_ms;
	daemon_probe_apply(snap->rt->conf, &o);
	dec = policy_json_decision(o.d, snap->rt->status, &o);
	stats_read(&s);
	r = json_object();
	json_object_set_new(r, "request", json_string("query"));
	json_object_set_new(r, "domain", audit_string(domain)); /* any octets */
	json_object_set_new(r, "cached", json_boolean(o.cache_hit));
	json_object_set_new(r, "age_s", json_integer((json_int_t)(age_ms / 1000)));
	json_object_set_new(r, "generation", json_integer((json_int_t)s.generation));
	json_object_set_new(r, "decision", dec ? dec : json_null());
	policy_decision_unref(o.d);
	snapshot_release(snap);
	return ctl_dump(r);
}

char *
control_request(const char *data, size_t n)
{
	const char *why = NULL;
	char *arg = NULL, *reply;
	json_t *o;

	switch (proto_control_parse(data, n, &arg, &why)) {
	case PROTO_CONTROL_QUERY:
		reply = ctl_query(arg);
		break;
	case PROTO_CONTROL_STATS:
		o = daemon_metrics_json();
		json_object_set_new(o, "request", json_string("stats"));
		reply = ctl_dump(o);
		break;
	case PROTO_CONTROL_BAD:
	default:
		reply = ctl_error(why ? why : "bad request");
		break;
	}
	free(arg);
	return reply;
}

/*
 * After the reply: half-close, and read what the client still sends
 * (the rest of an over-long line) until it closes, at most CTL_DRAIN_MAX
 * octets and within the request deadline, so that closing with unread
 * input does not reset the connection and destroy the reply in flight.
 */
static void
ctl_drain(struct listener_conn *c, struct buf *b)
{
	size_t total = 0;
	long r;

	shutdown(c->fd, SHUT_WR);
	buf_reset(b);
	buf_puts(b, "x"); /* non-empty: the wait is bounded by the request deadline */
	while (total < CTL_DRAIN_MAX && (r = listener_read(c, b, 4096)) > 0) {
		total += (size_t)r;
		buf_reset(b);
		buf_puts(b, "x");
	}
}

void
control_serve(struct listener_conn *c, void *arg)
{
	struct buf in;
	char *nl, *reply;
	long r = 1;

	(void)arg;
	stats_door(DAEMON_METRICS_CONTROL);
	buf_init(&in);
	/* One line: up to "\n", EOF, or one octet more than a request may have. */
	while ((nl = in.s ? memchr(in.s, '\n', in.len) : NULL) == NULL &&
	    in.len <= PROTO_CONTROL_LINE_MAX + 1 &&
	    (r = listener_read(c, &in, PROTO_CONTROL_LINE_MAX + 2 - in.len)) > 0)
		continue;
	if (nl == NULL && r != LISTENER_EOF && in.len <= PROTO_CONTROL_LINE_MAX + 1)
		goto out; /* timeout, stop, error: nothing to answer */
	if (nl == NULL && in.len == 0)
		goto out; /* connected and closed */
	reply = control_request(in.s, nl ? (size_t)(nl - in.s) : in.len);
	msg_debug("control %lu: %zu octets -> %.120s", c->id, in.len, reply);
	buf_reset(&in);
	buf_puts(&in, reply);
	buf_puts(&in, "\n");
	free(reply);
	if (listener_write(c, in.s, in.len) == 0)
		ctl_drain(c, &in);
out:
	buf_free(&in);
}
