/*
 * milter.c - danepold's libmilter callbacks (contract in milter.h).
 *
 * Callbacks stay thin: unpack what libmilter hands over (through
 * milter_smfi.h, never libmilter itself), ask the engine
 * (policy_run_decide), set the reply, write the audit line. State:
 *   struct cb_conn  one per milter connection (smfi_setpriv), made at
 *                   connect (or lazily by the first callback that needs
 *                   it), freed in close - which may be the only callback
 *   struct cb_msg   one per MAIL transaction, made at MAIL (or lazily at
 *                   RCPT), ended at EOM, abort, the next MAIL, or close;
 *                   ending it writes the "message" audit line, so a
 *                   transaction whose recipients were all deferred (no
 *                   DATA, no EOM) is still logged
 * A transaction holds one runtime snapshot from start to end.
 *
 * Non-SMTP mail (Postfix non_smtpd_milters: sendmail(1), pickup, qmqpd)
 * must never be tempfailed at RCPT. Postfix's cleanup(8) emulates the
 * SMTP events but defines only a few macros: {daemon_name} always,
 * {rcpt_host}/{rcpt_mailer} never ("smtpd_milters only", MILTER_README).
 * smtpd always sends {rcpt_mailer} when asked (we ask with
 * smfi_setsymlist). So: {daemon_name} seen at connect (a Postfix) and no
 * {rcpt_mailer} at RCPT = non-SMTP = audit only. An MTA that sends
 * neither (miltertest) is treated as SMTP.
 *
 * Which recipients are judged (cb_rcpt_decide): only those Postfix will
 * hand to an SMTP transport named in milter_smtp_transports (default
 * "smtp"); any other {rcpt_mailer} (local, virtual, lmtp, relay for the
 * operator's relay_domains, pipe services, error, discard) is the
 * operator's own mail and is accepted, so a bogus own zone never defers
 * inbound mail. An allow list, because a list of local transports could
 * not name the operator's pipe services. Judged recipients are decided on
 * {rcpt_host}, the next hop Postfix's own DANE will use (use_rcpt_host,
 * default yes); without {rcpt_mailer} on the recipient's domain.
 *
 * Negotiation: we skip headers, end of headers, body and unknown
 * commands (unless the S/MIME check is configured: smime_listeners, see
 * milter_smime.h; then we take the content, and header changes, and skip
 * the bodies of listeners not checked), but never DATA (SMFIP_NODATA over TCP costs 40 ms per message
 * in Postfix: Nagle vs. delayed ACK on the unanswered macro packet) and
 * we ask for no SMFIP_NR_* for the same reason (an unanswered packet
 * followed by the next one is exactly that pattern).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "buf.h"
#include "conf_value.h"
#include "daemon_audit.h"
#include "daemon_metrics.h"
#include "daemon_probe.h"
#include "log.h"
#include "mem.h"
#include "milter.h"
#include "milter_smfi.h"
#include "milter_smime.h"
#include "policy_json.h"
#include "rcpt.h"
#include "snapshot.h"
#include "stats.h"

/* Bounds on what the MTA hands over for the audit lines (see audit.h). */
#define CB_QUEUE_ID_MAX	 64 /* Postfix long queue ids: about 20 */
#define CB_AUTH_MAX	 255
#define CB_TRANSPORT_MAX 255 /* {rcpt_mailer}: a master.cf service name */

struct cb_msg {
	struct snapshot *snap;	  /* reference held for the transaction */
	char *sender;		  /* without angle brackets, or NULL */
	char *auth_user;	  /* {auth_authen}, or NULL */
	char *queue_id;		  /* latest "i" seen, or NULL */
	struct audit_rcpts rcpts; /* the message line's bounded list */
	int accepted, deferred;
	struct milter_smime *smime; /* the S/MIME check's keeper, or NULL: not checked */
};

struct cb_conn {
	char session[17];
	char *client_name;  /* NULL when unknown */
	char *client_addr;  /* NULL for unix/unknown */
	int postfix;	    /* {daemon_name} came with connect */
	int content;	    /* negotiated: header fields and bodies come (S/MIME check on) */
	int can_skip;	    /* negotiated: SMFIS_SKIP ends a body early */
	int smime;	    /* this listener's mail is checked (smime_listeners) */
	struct cb_msg *msg; /* the open transaction, or NULL */
};

/* What one RCPT turned into (filled by cb_rcpt_decide/cb_rcpt_act). */
struct cb_rcpt {
	const char *recipient; /* argv[0] without angle brackets */
	char *dest;	       /* destination handed to the engine */
	struct policy_outcome out;
	const char *transport; /* {rcpt_mailer}, or NULL (libmilter's) */
	const char *action;    /* "continue" "tempfail" "audit-only" */
	char *reply;	       /* full reply sent, or NULL */
	sfsistat status;
};

/* ------------------------------------------------------------ helpers */

/* Copy of s without one pair of surrounding angle brackets (caller frees). */
static char *
cb_unbracket(const char *s)
{
	size_t n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		return xstrndup(s + 1, n - 2);
	return xstrdup(s);
}

/* Copy of a macro's value, "(too long)" past max bytes, NULL when unset. */
static char *
cb_macro(SMFICTX *ctx, const char *name, size_t max)
{
	const char *v = milter_smfi_getsymval(ctx, name);

	if (v == NULL || *v == 0)
		return NULL;
	return xstrdup(strlen(v) > max ? "(too long)" : v);
}

static void
cb_queue_id(SMFICTX *ctx, struct cb_msg *m)
{
	char *q = cb_macro(ctx, "i", CB_QUEUE_ID_MAX);

	if (q != NULL) {
		free(m->queue_id);
		m->queue_id = q;
	}
}

static char *
cb_sockaddr_text(const struct sockaddr *sa)
{
	char text[INET6_ADDRSTRLEN];

	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, text,
		sizeof(text)))
		return xstrdup(text);
	if (sa->sa_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, text,
		sizeof(text)))
		return xstrdup(text);
	return NULL;
}

static struct cb_conn *
cb_conn_get(SMFICTX *ctx)
{
	struct cb_conn *c = milter_smfi_getpriv(ctx);

	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		daemon_audit_session_id(c->session);
		milter_smfi_setpriv(ctx, c);
	}
	return c;
}

static void
cb_txn(const struct cb_conn *c, const struct cb_msg *m, struct audit_txn *t)
{
	t->session = c->session;
	t->client_name = c->client_name;
	t->client_addr = c->client_addr;
	t->queue_id = m ? m->queue_id : NULL;
	t->sender = m ? m->sender : NULL;
	t->auth_user = m ? m->auth_user : NULL;
}

/* End the open transaction (if any): message audit line, free, release. */
static void
cb_msg_end(struct cb_conn *c, const char *end)
{
	struct cb_msg *m = c->msg;
	struct audit_txn t;
	json_t *ev;

	if (m == NULL)
		return;
	cb_txn(c, m, &t);
	ev = audit_message_event(&t, end, &m->rcpts, m->accepted, m->deferred);
	audit_write(daemon_audit(), ev);
	json_decref(ev);
	snapshot_release(m->snap);
	milter_smime_free(m->smime);
	free(m->sender);
	free(m->auth_user);
	free(m->queue_id);
	free(m);
	c->msg = NULL;
}

static struct cb_msg *
cb_msg_begin(SMFICTX *ctx, struct cb_conn *c, const char *sender)
{
	struct cb_msg *m;

	if (c->msg != NULL) /* MAIL without RSET: the old one ends */
		cb_msg_end(c, "abort");
	m = c->msg = xcalloc(1, sizeof(*m));
	m->snap = snapshot_acquire();
	m->sender = cb_unbracket(sender && strlen(sender) > RCPT_MAX_LEN ? "(too long)" : sender);
	m->auth_user = cb_macro(ctx, "{auth_authen}", CB_AUTH_MAX);
	audit_rcpts_init(&m->rcpts);
	cb_queue_id(ctx, m);
	if (c->smime && m->snap && milter_smime_configured(m->snap->rt->conf))
		m->smime = milter_smime_new(m->snap->rt->conf);
	return m;
}

/* ------------------------------------------------------- RCPT handling */

/* Whether this RCPT is non-SMTP mail (see the file head). */
static int
cb_non_smtp(SMFICTX *ctx, const struct cb_conn *c)
{
	return c->postfix && milter_smfi_getsymval(ctx, "{rcpt_mailer}") == NULL;
}

/* Copy of the domain part of an unparsable recipient, printable ASCII only. */
static char *
cb_bad_domain(const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	char *d = xstrndup(at ? at + 1 : rcpt, 255);
	size_t n = strlen(d);

	if (n > 0 && d[n - 1] == '>')
		d[n - 1] = 0;
	for (char *p = d; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			*p = '?';
	return d;
}

/*
 * A recipient that is not judged: accepted (verdict try, level none,
 * reason local-policy) with why in the audit line.
 */
static void
cb_rcpt_skip(struct cb_rcpt *r, const char *why)
{
	r->out.d =
	    policy_decision_simple(r->dest, POLICY_TRY, TLS_LEVEL_NONE, POLICY_R_LOCAL_POLICY, why);
}

/*
 * The destination for the engine from Postfix's {rcpt_host}: the next hop
 * as the smtp(8) client reads it ("domain", "domain:port", "[host]",
 * "[host]:port", "[addr]"; policy_run.c splits these), with an "inet:"
 * prefix (the lmtp(8) syntax smtp(8) also takes) removed. NULL for a
 * unix-domain socket ("unix:/path"): no DNS, no DANE.
 */
static char *
cb_next_hop(const char *host)
{
	if (strncmp(host, "unix:", 5) == 0)
		return NULL;
	if (strncmp(host, "inet:", 5) == 0)
		host += 5;
	return xstrndup(host, RCPT_MAX_LEN);
}

/*
 * Decide for one recipient into r->out (policy.h: refs = 1, caller unrefs).
 *   - {rcpt_mailer} set and not in milter_smtp_transports: the recipient
 *     is not delivered by SMTP to the world (local, virtual, lmtp, pipe
 *     services, relay to the operator's own relay_domains, error,
 *     discard): accepted, never judged - the operator's own domains.
 *   - an SMTP transport and use_rcpt_host: the next hop ({rcpt_host}).
 *   - otherwise (no {rcpt_mailer}: another MTA, or use_rcpt_host = no):
 *     the recipient's domain.
 */
static void
cb_rcpt_decide(SMFICTX *ctx, struct policy_runtime *rt, const char *arg, struct cb_rcpt *r)
{
	const char *host = milter_smfi_getsymval(ctx, "{rcpt_host}");
	const char *mailer = milter_smfi_getsymval(ctx, "{rcpt_mailer}");
	struct rcpt p;

	memset(&r->out, 0, sizeof(r->out));
	r->transport = mailer && *mailer ? mailer : NULL;
	rcpt_parse(arg, &p);
	if (r->transport && !conf_value_words_has(rt->conf->milter_smtp_transports, mailer)) {
		char *why = xasprintf("transport %.64s is not in milter_smtp_transports: "
				      "no SMTP delivery to judge at RCPT",
		    mailer);

		r->dest = xstrndup(host && *host			  ? host
			: p.kind == RCPT_DOMAIN || p.kind == RCPT_LITERAL ? p.domain
									  : "",
		    RCPT_MAX_LEN);
		cb_rcpt_skip(r, why);
		free(why);
		return;
	}
	if (r->transport && rt->conf->use_rcpt_host && host && *host) {
		if ((r->dest = cb_next_hop(host)) == NULL) {
			r->dest = xstrndup(host, RCPT_MAX_LEN);
			cb_rcpt_skip(r,
			    "next hop is a unix-domain socket: no DNS, DANE does not apply");
			return;
		}
	} else if (p.kind == RCPT_DOMAIN || p.kind == RCPT_LITERAL) {
		r->dest = xstrdup(p.domain);
	} else if (p.kind == RCPT_LOCAL) {
		r->dest = xstrdup("");
		cb_rcpt_skip(r, "local delivery: no SMTP next hop, DANE does not apply");
		return;
	} else {
		/*
		 * Not an address: decide invalid-domain here. The fragment kept
		 * for the audit log is never handed to the engine, which would
		 * read e.g. "secure.example:25" as a next hop with a port.
		 */
		r->dest = cb_bad_domain(arg);
		r->out.d = policy_decision_simple(r->dest, POLICY_DEFER, rt->default_level,
		    POLICY_R_INVALID_DOMAIN, p.why ? p.why : "invalid recipient address");
		return;
	}
	policy_run_decide(rt, r->dest, &r->out);
	daemon_probe_apply(rt->conf, &r->out);
}

/* The reply as the client sees it: "450 4.7.5 text" with "%%" undone. */
static char *
cb_reply_line(const char *code, const char *xcode, const char *text)
{
	struct buf b;
	char *line;

	buf_init(&b);
	buf_printf(&b, "%s %s ", code, xcode ? xcode : "");
	for (const char *p = text; *p; p++) {
		buf_putc(&b, *p);
		if (p[0] == '%' && p[1] == '%')
			p++;
	}
	line = buf_steal(&b);
	buf_free(&b);
	return line;
}

/* Set the defer reply for the decision; returns the reply line or NULL. */
static char *
cb_rcpt_reply(SMFICTX *ctx, struct policy_runtime *rt, const struct policy_decision *d)
{
	const struct policy_status *st = policy_status_get(rt->status, d->reason);
	const char *code = st && st->reply ? st->reply : "451";
	const char *xcode = st && st->enhanced ? st->enhanced : "4.3.0";
	char *text = policy_status_reply_text(st, d->domain, d->why);
	char *line = NULL;

	if (milter_smfi_setreply(ctx, code, xcode, text) == MI_SUCCESS)
		line = cb_reply_line(code, xcode, text);
	else
		msg_warn("smfi_setreply(%s %s) failed: the MTA uses its default reply", code,
		    xcode);
	free(text);
	return line;
}

/* Choose the action and the libmilter status for the decision. */
static void
cb_rcpt_act(SMFICTX *ctx, struct policy_runtime *rt, int audit_only, struct cb_rcpt *r)
{
	const struct policy_decision *d = r->out.d;

	r->status = SMFIS_CONTINUE;
	r->action = "continue";
	if (audit_only) {
		r->action = "audit-only";
		return;
	}
	if (d->verdict != POLICY_DEFER)
		return; /* require/try; null MX: the MTA bounces it */
	if (d->reason == POLICY_R_INTERNAL_ERROR && !rt->conf->on_error_tempfail) {
		msg_warn("engine failure for %.255s, on_error = accept: %.255s", r->dest, d->why);
		return;
	}
	r->reply = cb_rcpt_reply(ctx, rt, d);
	r->status = SMFIS_TEMPFAIL;
	r->action = "tempfail";
}

static void
cb_rcpt_audit(struct cb_conn *c, struct cb_msg *m, struct policy_runtime *rt, struct cb_rcpt *r)
{
	struct audit_txn t;
	json_t *ev;

	cb_txn(c, m, &t);
	ev = audit_rcpt_event(&t, r->recipient, r->dest, r->action, r->reply, NULL,
	    r->out.cache_hit, r->out.elapsed_ms);
	json_object_set_new(ev, "transport",
	    audit_string(r->transport == NULL		      ? NULL
		    : strlen(r->transport) > CB_TRANSPORT_MAX ? "(too long)"
							      : r->transport));
	daemon_audit_decision(ev, rt, &r->out, "{}");
	audit_rcpts_add(&m->rcpts, r->recipient, r->dest, policy_verdict_name(r->out.d->verdict),
	    r->action);
	if (r->status == SMFIS_TEMPFAIL)
		m->deferred++;
	else
		m->accepted++;
}

/*
 * The mail-log line of one recipient (daemon_audit_mail_line()): always
 * for a deferral ("defer", with Postfix's queue id or NOQUEUE and the
 * status code), for any other decision with log_decisions = yes.
 */
static void
cb_rcpt_log(const struct cb_conn *c, const struct cb_msg *m, const struct policy_runtime *rt,
    const struct cb_rcpt *r)
{
	struct daemon_mail_line l;
	char code[8] = "", dsn[24] = "";

	if (r->status != SMFIS_TEMPFAIL && !rt->conf->log_decisions)
		return;
	memset(&l, 0, sizeof(l));
	l.door = "milter";
	l.queue_id = m->queue_id;
	l.session = c->session;
	l.rcpt = r->recipient;
	l.dest = r->dest;
	l.o = &r->out;
	l.action = r->action;
	l.what = "decision";
	if (r->status == SMFIS_TEMPFAIL) {
		l.what = "defer";
		l.reply = r->reply ? r->reply : "(the MTA's default reply)";
		/* "450 4.7.5 text": the codes are the first two words */
		if (r->reply && sscanf(r->reply, "%7[0-9] %23[0-9.]", code, dsn) == 2) {
			l.code = code;
			l.dsn = dsn;
		}
	}
	daemon_audit_mail_line(&l);
}

/* ---------------------------------------------------------- callbacks */

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
    unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long skip = SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN;
	struct cb_conn *c = cb_conn_get(ctx);
	struct snapshot *snap = snapshot_acquire();

	/* the S/MIME check wants the content; otherwise none of it is sent */
	c->content = snap && milter_smime_configured(snap->rt->conf) &&
	    (f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) == (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	snapshot_release(snap);
	if (c->content)
		skip = SMFIP_NOUNKNOWN;
	c->can_skip = c->content && (f1 & SMFIP_SKIP);
	*pf0 = f0 & (c->content ? SMFIF_SETSYMLIST | SMFIF_ADDHDRS | SMFIF_CHGHDRS : SMFIF_SETSYMLIST);
	*pf1 = (f1 & skip) | (c->can_skip ? SMFIP_SKIP : 0);
	*pf2 = 0;
	*pf3 = 0;
	if (*pf0 & SMFIF_SETSYMLIST) {
		milter_smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name}");
		milter_smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
		milter_smfi_setsymlist(ctx, SMFIM_ENVRCPT, "i {rcpt_host} {rcpt_mailer}");
		milter_smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct cb_conn *c = cb_conn_get(ctx);

	stats_door(DAEMON_METRICS_MILTER);
	free(c->client_name);
	free(c->client_addr);
	c->client_name = hostname && *hostname ? xstrndup(hostname, 255) : NULL;
	c->client_addr = cb_sockaddr_text(hostaddr);
	c->postfix = milter_smfi_getsymval(ctx, "{daemon_name}") != NULL;
	if (c->content) {
		struct snapshot *snap = snapshot_acquire();

		c->smime = snap &&
		    milter_smime_listener(snap->rt->conf, milter_smfi_getsymval(ctx, "{daemon_name}"));
		snapshot_release(snap);
	}
	msg_debug("session %s: connect from %.255s[%s]", c->session,
	    c->client_name ? c->client_name : "unknown",
	    c->client_addr ? c->client_addr : "unknown");
	return SMFIS_CONTINUE;
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct cb_conn *c = cb_conn_get(ctx);

	cb_msg_begin(ctx, c, argv && argv[0] ? argv[0] : NULL);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct cb_conn *c = cb_conn_get(ctx);
	struct cb_msg *m = c->msg ? c->msg : cb_msg_begin(ctx, c, NULL);
	const char *arg = argv && argv[0] ? argv[0] : "";
	struct policy_runtime *rt;
	struct cb_rcpt r;
	char *recipient;
	int audit_only;

	if (m->snap == NULL) { /* cannot happen once started */
		msg_error("no runtime: accepting %.255s unchecked", arg);
		return SMFIS_CONTINUE;
	}
	rt = m->snap->rt;
	cb_queue_id(ctx, m);
	memset(&r, 0, sizeof(r));
	recipient = cb_unbracket(strlen(arg) > RCPT_MAX_LEN ? "(too long)" : arg);
	r.recipient = recipient;
	audit_only = rt->conf->audit_only || cb_non_smtp(ctx, c);
	cb_rcpt_decide(ctx, rt, arg, &r);
	cb_rcpt_act(ctx, rt, audit_only, &r);
	cb_rcpt_audit(c, m, rt, &r);
	cb_rcpt_log(c, m, rt, &r);
	policy_decision_unref(r.out.d);
	free(r.dest);
	free(r.reply);
	free(recipient);
	return r.status;
}

/* The open transaction's S/MIME keeper, or NULL (not checked). */
static struct milter_smime *
cb_smime(SMFICTX *ctx)
{
	struct cb_conn *c = milter_smfi_getpriv(ctx);

	return c && c->msg ? c->msg->smime : NULL;
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	milter_smime_header(cb_smime(ctx), name, value);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	milter_smime_eoh(cb_smime(ctx));
	return SMFIS_CONTINUE;
}

/* Not checked, or past smime_max_message: the rest of the body is not wanted. */
static sfsistat
cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct cb_conn *c = milter_smfi_getpriv(ctx);

	if (milter_smime_body(cb_smime(ctx), chunk, len) || c == NULL || !c->can_skip)
		return SMFIS_CONTINUE;
	return SMFIS_SKIP;
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct cb_conn *c = milter_smfi_getpriv(ctx);
	sfsistat st = SMFIS_CONTINUE;

	if (c && c->msg) {
		cb_queue_id(ctx, c->msg);
		if (c->msg->smime && c->msg->snap) {
			struct audit_txn t;

			cb_txn(c, c->msg, &t);
			st = milter_smime_eom(c->msg->smime, ctx, c->msg->snap->rt, &t);
		}
		cb_msg_end(c, "eom");
	}
	return st;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct cb_conn *c = milter_smfi_getpriv(ctx);

	if (c)
		cb_msg_end(c, "abort");
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct cb_conn *c = milter_smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	cb_msg_end(c, "close");
	milter_smfi_setpriv(ctx, NULL);
	free(c->client_name);
	free(c->client_addr);
	free(c);
	return SMFIS_CONTINUE;
}

static struct smfiDesc cb_desc = {
	.xxfi_name = "danepold",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_NONE,
	.xxfi_connect = cb_connect,
	.xxfi_helo = NULL,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = NULL,
	.xxfi_negotiate = cb_negotiate,
};

struct smfiDesc *
milter_desc(void)
{
	return &cb_desc;
}
