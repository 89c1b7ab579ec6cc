/*
 * exim.c - the Exim line protocol on danepold's Exim socket (requests and
 * replies in proto.h; doc/exim.md has the Exim configuration):
 *
 *     ${readsocket{/run/danepol/exim.sock}{rcpt $local_part@$domain\n}{3s}{}{SOCKFAIL}}
 *
 * One reply line per request line, for as many lines as the client sends;
 * the connection ends when the client closes or half-closes it (Exim's
 * ${readsocket} shuts down its sending side after the request, by
 * default), stays idle socket_idle_timeout, takes longer than
 * socket_request_timeout for one line from its first byte, is closed to
 * make room at the connection cap while idle (listener.h), or danepold
 * stops. ${readsocket} opens one connection per expansion, with its own
 * timeout (3 s above), and sends the whole line at once. A last line
 * without "\n" before the end of input is still answered. A line longer
 * than PROTO_EXIM_LINE_MAX octets is answered "verdict=error
 * reason=too-long" and the connection closed. A trailing "\r" is ignored.
 *
 * rcpt/domain/host requests take the current runtime snapshot each (a
 * reload applies to the next request) and write an "exim-query" audit
 * line; event lines write an "exim" audit line with their fields. A host
 * request ("host DOMAIN HOSTNAME", from the transport's tcp:connect
 * event) is answered from DOMAIN's decision, as a domain request would
 * make it (the cache's, normally): deny when the MTA-STS enforce policy
 * it applied names no pattern matching HOSTNAME (policy_sts_host()).
 *
 * TLS outcomes of Exim's deliveries are queued for the outcome store
 * (daemon_store.h: copied, never waiting for the database), one per event
 * line that carries them
 * (msg:delivery, dane:fail; outcome_exim_event() in outcome.h says how,
 * with the result types of the table shared with the probe and the
 * Postfix reader, tlsrpt_class.h); one without DANE to a domain whose
 * MTA-STS policy danepold kept counts under that sts policy
 * (sts_cache_outcome(), read through daemon_store_reader(): with a
 * PostgreSQL outcome_db that is down, an event line may wait for one
 * connection attempt every 30 s; decisions never do). Exim sends msg:delivery per
 * recipient, so a session with several recipients counts several times;
 * other events (tls:cert, defers: transient) add nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "daemon_audit.h"
#include "daemon_metrics.h"
#include "daemon_probe.h"
#include "daemon_store.h"
#include "exim.h"
#include "kvline.h"
#include "listener.h"
#include "log.h"
#include "mem.h"
#include "outcome.h"
#include "proto.h"
#include "rcpt.h"
#include "snapshot.h"
#include "stats.h"
#include "sts_cache.h"

/* Printable-ASCII copy of the domain part of an unparsable address. */
static char *
ex_bad_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	char *d = xstrndup(at ? at + 1 : addr, 255);

	for (char *p = d; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			*p = '?';
	return d;
}

/* The destination for a request, and its decision into *o. */
static char *
ex_decide(struct policy_runtime *rt, enum proto_exim_kind kind, const char *arg,
    struct policy_outcome *o)
{
	struct rcpt p;
	char *dest;

	memset(o, 0, sizeof(*o));
	if (kind == PROTO_EXIM_DOMAIN || kind == PROTO_EXIM_HOST) {
		policy_run_decide(rt, arg, o);
		daemon_probe_apply(rt->conf, o);
		return xstrdup(arg);
	}
	switch (rcpt_parse(arg, &p)) {
	case RCPT_DOMAIN:
	case RCPT_LITERAL:
		policy_run_decide(rt, p.domain, o);
		daemon_probe_apply(rt->conf, o);
		return xstrdup(p.domain);
	case RCPT_LOCAL:
		o->d = policy_decision_simple("", POLICY_TRY, TLS_LEVEL_NONE, POLICY_R_LOCAL_POLICY,
		    "local delivery: no SMTP next hop, DANE does not apply");
		return xstrdup("");
	case RCPT_INVALID:
	default:
		dest = ex_bad_domain(arg);
		o->d = policy_decision_simple(dest, POLICY_DEFER, rt->default_level,
		    POLICY_R_INVALID_DOMAIN, p.why ? p.why : "invalid recipient address");
		return dest;
	}
}

/*
 * A rcpt, domain or host request (arg: the address or domain; host: the
 * MX host name of a host request, else NULL): the reply, and its
 * exim-query audit line.
 */
static char *
ex_query(unsigned long id, const char *line, enum proto_exim_kind kind, const char *arg,
    const char *host)
{
	struct snapshot *snap = snapshot_acquire();
	struct policy_outcome o;
	char *dest = NULL, *reply;
	json_t *ev = daemon_audit_event_new("exim-query");

	memset(&o, 0, sizeof(o));
	if (snap == NULL) {
		reply = proto_exim_error("unavailable", NULL);
	} else {
		dest = ex_decide(snap->rt, kind, arg, &o);
		reply = host ? proto_exim_host_reply(o.d, dest, host)
			     : proto_exim_reply(o.d, snap->rt->status, dest,
				   proto_soft(snap->rt->conf, o.d));
	}
	msg_debug("exim %lu: %.255s -> %.400s", id, line, reply);
	if (snap && o.d && snap->rt->conf->log_decisions) {
		struct daemon_mail_line l = { .what = "decision",
			.door = "exim",
			.rcpt = kind == PROTO_EXIM_RCPT ? arg : NULL,
			.dest = dest,
			.o = &o,
			.reply = reply };

		daemon_audit_mail_line(&l);
	}
	json_object_set_new(ev, "request", audit_string(line));
	json_object_set_new(ev, "destination", audit_string(dest));
	json_object_set_new(ev, "reply", audit_string(reply));
	daemon_audit_event_finish(ev, snap ? snap->rt : NULL, o.d ? &o : NULL);
	policy_decision_unref(o.d);
	snapshot_release(snap);
	free(dest);
	return reply;
}

/* An error reply, audited as an exim-query without a decision. */
static char *
ex_error(const char *line, const char *reason, const char *detail)
{
	char *reply = proto_exim_error(reason, detail);
	json_t *ev = daemon_audit_event_new("exim-query");

	json_object_set_new(ev, "request", audit_string(line));
	json_object_set_new(ev, "destination", json_null());
	json_object_set_new(ev, "reply", audit_string(reply));
	daemon_audit_event_finish(ev, NULL, NULL);
	return reply;
}

/* A host request "DOMAIN HOSTNAME" (arg): split, then ex_query(). */
static char *
ex_host(unsigned long id, const char *line, const char *arg)
{
	char *domain = NULL, *host = NULL, *reply;
	const char *why = NULL;

	if (proto_exim_host(arg, &domain, &host, &why) < 0)
		return ex_error(line, "bad-request", why);
	reply = ex_query(id, line, PROTO_EXIM_HOST, domain, host);
	free(domain);
	free(host);
	return reply;
}

/* Queue the outcome of an event line, when it carries one, for the store. */
static void
ex_event_store(const char *name, const struct kvline *f)
{
	struct store *s;
	struct tls_outcome o;

	if (outcome_exim_event(name, f, (int64_t)time(NULL), &o) < 0)
		return;
	/* no DANE: an MTA-STS policy kept? */
	if (o.policy_type == OUTCOME_POLICY_NONE && (s = daemon_store_reader()) != NULL)
		(void)sts_cache_outcome(s, &o);
	daemon_store_add(&o);
	outcome_clear(&o);
}

/* An event line: the "exim" audit line, its outcome; reply "ok". */
static char *
ex_event(const char *line, const char *arg)
{
	struct kvline f;
	const char *why = NULL;
	char *name = NULL, ts[40];
	json_t *ev, *fields;

	if (proto_exim_event(arg, &name, &f, &why) < 0)
		return ex_error(line, "bad-request", why);
	fields = json_object();
	for (size_t i = 0; i < f.n; i++)
		json_object_set_new(fields, f.f[i].key, audit_string(f.f[i].value));
	ex_event_store(name, &f); /* first: queued (the store writes it behind) */
	audit_timestamp(ts, sizeof(ts));
	ev = json_pack("{s:s, s:o, s:s, s:o}", "event", "exim", "name", audit_string(name), "time",
	    ts, "fields", fields);
	audit_write(daemon_audit(), ev);
	json_decref(ev);
	kvline_free(&f);
	free(name);
	return xstrdup("ok");
}

/* Answer one request line (NUL-terminated, line end removed). */
static char *
ex_line(unsigned long id, char *line)
{
	const char *arg = NULL;
	char *copy = xstrdup(line), *reply;
	enum proto_exim_kind kind = proto_exim_parse(line, &arg);

	switch (kind) {
	case PROTO_EXIM_RCPT:
	case PROTO_EXIM_DOMAIN:
		reply = ex_query(id, copy, kind, arg, NULL);
		break;
	case PROTO_EXIM_HOST:
		reply = ex_host(id, copy, arg);
		break;
	case PROTO_EXIM_EVENT:
		reply = ex_event(copy, arg);
		break;
	case PROTO_EXIM_BAD:
	default:
		msg_debug("exim %lu: bad request: %s", id, arg);
		reply = ex_error(copy, "bad-request", arg);
		break;
	}
	free(copy);
	return reply;
}

char *
exim_request(const char *p, size_t n, unsigned long id)
{
	char *line, *reply;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	line = xstrndup(p, n);
	if (strlen(line) != n)
		reply = ex_error("(line with a NUL byte)", "bad-request", "NUL byte");
	else
		reply = ex_line(id, line);
	free(line);
	return reply;
}

/* Answer the line in[0..n) (without "\n") and write the reply. 0 to go on. */
static int
ex_answer(struct listener_conn *c, const char *p, size_t n)
{
	char *reply = exim_request(p, n, c->id), *line;
	int rc;

	line = xasprintf("%s\n", reply);
	rc = listener_write(c, line, strlen(line));
	free(line);
	free(reply);
	return rc;
}

/* The too-long reply; the connection is closed after it. */
static void
ex_too_long(struct listener_conn *c)
{
	char *reply = ex_error("(over-long line)", "too-long", NULL);
	char *line = xasprintf("%s\n", reply);

	msg_warn("exim %lu: request line longer than %d octets: closing", c->id,
	    PROTO_EXIM_LINE_MAX);
	listener_write(c, line, strlen(line));
	free(line);
	free(reply);
}

void
exim_serve(struct listener_conn *c, void *arg)
{
	struct buf in;
	const char *nl;
	size_t n;
	long r;

	(void)arg;
	stats_door(DAEMON_METRICS_EXIM);
	buf_init(&in);
	for (;;) {
		if ((nl = memchr(in.s, '\n', in.len)) != NULL) {
			n = (size_t)(nl - in.s);
			if (n > PROTO_EXIM_LINE_MAX) {
				ex_too_long(c);
				break;
			}
			if (ex_answer(c, in.s, n) < 0)
				break;
			memmove(in.s, nl + 1, in.len - n); /* the NUL comes along */
			in.len -= n + 1;
			listener_request_done(c);
			continue;
		}
		if (in.len > PROTO_EXIM_LINE_MAX) {
			ex_too_long(c);
			break;
		}
		r = listener_read(c, &in, 4096);
		if (r == LISTENER_EOF && in.len > 0)
			ex_answer(c, in.s, in.len);
		if (r <= 0)
			break;
	}
	buf_free(&in);
}
