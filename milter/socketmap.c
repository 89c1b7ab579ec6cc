/*
 * socketmap.c - the Postfix socketmap protocol on danepold's socketmap
 * socket (socketmap_table(5); replies in proto.h):
 *
 *     smtp_tls_policy_maps = socketmap:unix:danepol/socketmap.sock:tlspolicy
 * (relative to Postfix's queue_directory, the chroot of Debian's smtp(8);
 * socketmap_socket = unix:/var/spool/postfix/danepol/socketmap.sock)
 *
 * Requests and replies are netstrings (lib/netstring.h). Postfix keeps
 * the connection open for further requests (closing it after 10 s idle,
 * dict_sockmap's max idle); so do we, until the client closes it, stays
 * idle socket_idle_timeout (15 s by default: longer than Postfix's 10 s,
 * so danepold never closes a connection Postfix is about to reuse),
 * takes longer than socket_request_timeout for one request from its
 * first byte, is closed to make room at the connection cap while idle
 * (listener.h; Postfix retries a lookup once on a connection closed by
 * the server), or danepold stops. A request
 * longer than PROTO_SOCKMAP_MAX octets is answered "PERM request too
 * long" and the connection closed; a malformed netstring closes it
 * without a reply (the stream cannot be resynchronised).
 *
 * Each request takes the current runtime snapshot (so a reload applies
 * to the next request) and writes one "socketmap" audit line. Requests
 * already read are answered before danepold reads or waits again, and
 * their audit lines, then their replies, leave together, one write each
 * (a client that pipelines; Postfix's dict_sockmap sends one request and
 * waits for its reply). A reply never leaves before its audit line.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "daemon_audit.h"
#include "daemon_metrics.h"
#include "daemon_probe.h"
#include "listener.h"
#include "log.h"
#include "mem.h"
#include "netstring.h"
#include "proto.h"
#include "snapshot.h"
#include "socketmap.h"
#include "stats.h"

#define SM_READ_MAX 16384 /* bytes one read may add to the input */
#define SM_OUT_MAX  65536 /* replies collected before they are sent anyway */

/* Decide for key and return the reply; *o gets the outcome (o->d NULL
 * when no decision was made). */
static char *
sm_decide(struct policy_runtime *rt, const char *key, struct policy_outcome *o)
{
	memset(o, 0, sizeof(*o));
	if (proto_sockmap_skip(key))
		return xstrdup("NOTFOUND ");
	policy_run_decide(rt, key, o);
	daemon_probe_apply(rt->conf, o);
	return proto_sockmap_reply(o->d, rt->status, proto_soft(rt->conf, o->d),
	    rt->conf->socketmap_tlsrpt);
}

/* socketmap_query(), the audit line kept in b (NULL: written at once) */
static char *
sm_query(struct daemon_audit_batch *b, const char *data, size_t n, unsigned long id)
{
	struct snapshot *snap = snapshot_acquire();
	struct policy_runtime *rt = snap ? snap->rt : NULL;
	struct policy_outcome o;
	char *name = NULL, *key = NULL, *reply;
	/* no event to build without an audit log (audit_log = none) */
	json_t *ev = daemon_audit() ? daemon_audit_event_new("socketmap") : NULL;

	memset(&o, 0, sizeof(o));
	if (proto_sockmap_split(data, n, &name, &key) < 0)
		reply = xstrdup("PERM malformed request: expected \"NAME KEY\"");
	else if (rt == NULL)
		reply = xstrdup("TEMP danepold is not ready");
	else
		reply = sm_decide(rt, key, &o);
	msg_debug("socketmap %lu: %.255s -> %.255s", id, key ? key : "(malformed)", reply);
	if (rt && o.d && rt->conf->log_decisions) {
		struct daemon_mail_line l = { .what = "decision",
			.door = "socketmap",
			.dest = key,
			.o = &o,
			.reply = reply };

		daemon_audit_mail_line(&l);
	}
	if (ev != NULL) {
		json_object_set_new(ev, "map", audit_string(name));
		json_object_set_new(ev, "key", audit_string(key));
		json_object_set_new(ev, "reply", audit_string(reply));
		daemon_audit_event_finish_to(b, ev, rt, o.d ? &o : NULL);
	}
	policy_decision_unref(o.d);
	snapshot_release(snap);
	free(name);
	free(key);
	return reply;
}

char *
socketmap_query(const char *data, size_t n, unsigned long id)
{
	return sm_query(NULL, data, n, id);
}

/* Drop the first n bytes of b. */
static void
sm_consume(struct buf *b, size_t n)
{
	if (n == 0)
		return;
	memmove(b->s, b->s + n, b->len - n + 1);
	b->len -= n;
}

/* Read more input. 0 to go on, -1 when the connection is done. */
static int
sm_fill(struct listener_conn *c, struct buf *in)
{
	long r = listener_read(c, in, SM_READ_MAX);

	if (r > 0)
		return 0;
	if (r == LISTENER_EOF && in->len > 0)
		msg_warn("socketmap %lu: connection closed within a request", c->id);
	return -1;
}

/* What one connection has answered and not yet sent. */
struct sm_pending {
	struct buf out;			 /* the replies, netstrings */
	struct daemon_audit_batch audit; /* their audit lines */
};

/* Write the audit lines, then send the replies, if any: every line is in
 * the log before its reply leaves. 0, or -1: the connection is unusable. */
static int
sm_flush(struct listener_conn *c, struct sm_pending *p)
{
	int rc = 0;

	daemon_audit_batch_write(&p->audit);
	if (p->out.len)
		rc = listener_write(c, p->out.s, p->out.len);
	buf_reset(&p->out);
	return rc;
}

/* Answer the request data[0..n): its reply and audit line kept in p. */
static void
sm_answer(struct listener_conn *c, struct sm_pending *p, const char *data, size_t n)
{
	char *reply = sm_query(&p->audit, data, n, c->id);

	netstring_encode(&p->out, reply, strlen(reply));
	free(reply);
}

/*
 * The requests of one connection. Every complete request in the input
 * buffer is answered before the next read (a pipelining client gets its
 * replies in one write(2)); replies go out before danepold waits for more
 * input, before it closes, and whenever SM_OUT_MAX bytes are waiting.
 * in[0..pos) is answered and dropped before each read, so the listener
 * sees an empty buffer (idle) exactly when no request is in progress.
 */
void
socketmap_serve(struct listener_conn *c, void *arg)
{
	struct sm_pending p;
	struct buf in;
	const char *data;
	size_t dlen, used, pos = 0;
	int done = 0;

	(void)arg;
	stats_door(DAEMON_METRICS_SOCKETMAP);
	buf_init(&in);
	buf_init(&p.out);
	daemon_audit_batch_init(&p.audit);
	while (!done) {
		switch (netstring_decode(in.s + pos, in.len - pos, PROTO_SOCKMAP_MAX, &data, &dlen,
		    &used)) {
		case NETSTRING_OK:
			sm_answer(c, &p, data, dlen);
			pos += used;
			listener_request_done(c);
			if (p.out.len >= SM_OUT_MAX || p.audit.lines.len >= SM_OUT_MAX)
				done = sm_flush(c, &p) < 0;
			break;
		case NETSTRING_MORE:
			sm_consume(&in, pos);
			pos = 0;
			done = sm_flush(c, &p) < 0 || sm_fill(c, &in) < 0;
			break;
		case NETSTRING_TOOLONG:
			msg_warn("socketmap %lu: request longer than %d octets: closing", c->id,
			    PROTO_SOCKMAP_MAX);
			netstring_encode(&p.out, "PERM request too long", 21);
			sm_flush(c, &p);
			done = 1;
			break;
		case NETSTRING_BAD:
		default:
			msg_warn("socketmap %lu: malformed netstring: closing", c->id);
			sm_flush(c, &p);
			done = 1;
			break;
		}
	}
	daemon_audit_batch_free(&p.audit);
	buf_free(&in);
	buf_free(&p.out);
}
