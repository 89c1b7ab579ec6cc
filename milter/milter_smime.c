/*
 * milter_smime.c - the milter's inbound S/MIME signer check (contract in
 * milter_smime.h).
 *
 * The message is kept as the check reads it: each header field as
 * "Name: value" with CRLF line ends (libmilter's folded values carry bare
 * LFs: made CRLF), the empty line, the body chunks as Postfix sends them
 * (CRLF already). Past smime_max_message the keeper stops (the body is
 * skipped) and the check says neutral, not checked; memory per message is
 * bounded by that key.
 *
 * Authentication-Results fields that arrive with the message and carry our
 * authserv-id are forgeries (RFC 8601 section 5): their 1-based positions
 * among the fields of that name are kept (at most MS_FORGED_MAX; a message
 * with more gets the rest removed too, the positions are counted from the
 * end) and they are deleted at end of message, last first, before ours is
 * inserted at the top.
 *
 * Threads: a keeper is one libmilter thread's; the OCSP cache is shared
 * and locked inside smime_ocsp.c.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "conf_value.h"
#include "daemon_audit.h"
#include "dnsname.h"
#include "log.h"
#include "mem.h"
#include "milter_smfi.h"
#include "milter_smime.h"
#include "smime.h"
#include "smime_ocsp.h"

#define MS_AR_NAME    "Authentication-Results"
#define MS_FORGED_MAX 64 /* forged fields of our authserv-id removed from one message */

struct milter_smime {
	struct buf msg;		   /* what the check reads */
	size_t seen;		   /* bytes of the message seen, kept or not */
	struct smime_limits lim;   /* from the configuration */
	int over;		   /* stopped keeping: over lim.max_message */
	const char *authserv_id;   /* ours: the snapshot's, or ms_host() (not owned) */
	unsigned nar;		   /* Authentication-Results fields seen */
	unsigned forged[MS_FORGED_MAX]; /* positions (1-based) of ours among them */
	unsigned nforged;
};

static pthread_once_t ms_host_once = PTHREAD_ONCE_INIT;
static char *ms_host_name; /* the default authserv-id, made once, kept to exit */
static pthread_mutex_t ms_mu = PTHREAD_MUTEX_INITIALIZER;
static struct smime_ocsp_cache *ms_ocsp; /* process-wide, guarded by ms_mu until made */

static void
ms_host_make(void)
{
	ms_host_name = dnsname_host();
}

/* The host name, the default authserv-id: looked up once, not per message. */
static const char *
ms_host(void)
{
	(void)pthread_once(&ms_host_once, ms_host_make);
	return ms_host_name;
}

static struct smime_ocsp_cache *
ms_cache(void)
{
	struct smime_ocsp_cache *c;

	pthread_mutex_lock(&ms_mu);
	if (ms_ocsp == NULL)
		ms_ocsp = smime_ocsp_cache_new(0);
	c = ms_ocsp;
	pthread_mutex_unlock(&ms_mu);
	return c;
}

void
milter_smime_shutdown(void)
{
	pthread_mutex_lock(&ms_mu);
	smime_ocsp_cache_free(ms_ocsp);
	ms_ocsp = NULL;
	pthread_mutex_unlock(&ms_mu);
}

int
milter_smime_configured(const struct conf *c)
{
	return c != NULL && c->smime_listeners != NULL;
}

int
milter_smime_listener(const struct conf *c, const char *daemon_name)
{
	return milter_smime_configured(c) && daemon_name != NULL && *daemon_name &&
	    conf_value_words_has(c->smime_listeners, daemon_name);
}

struct milter_smime *
milter_smime_new(const struct conf *c)
{
	struct milter_smime *s = xcalloc(1, sizeof(*s));

	buf_init(&s->msg);
	smime_limits_from_conf(&s->lim, c);
	s->authserv_id = c->smime_authserv_id ? c->smime_authserv_id : ms_host();
	return s;
}

void
milter_smime_free(struct milter_smime *s)
{
	if (s == NULL)
		return;
	buf_free(&s->msg);
	free(s);
}

/* Keep n bytes of p, or count them only once over the bound. */
static void
ms_keep(struct milter_smime *s, const void *p, size_t n)
{
	s->seen += n;
	if (s->over || s->seen > s->lim.max_message) {
		if (!s->over)
			buf_free(&s->msg); /* the check will not read it */
		s->over = 1;
		return;
	}
	buf_append(&s->msg, p, n);
}

void
milter_smime_header(struct milter_smime *s, const char *name, const char *value)
{
	struct buf line;

	if (s == NULL || name == NULL)
		return;
	value = value ? value : "";
	if (strcasecmp(name, MS_AR_NAME) == 0) {
		s->nar++;
		if (smime_ar_is_ours(value, s->authserv_id)) {
			if (s->nforged == MS_FORGED_MAX) /* keep the last ones */
				memmove(s->forged, s->forged + 1, (MS_FORGED_MAX - 1) * sizeof(unsigned));
			else
				s->nforged++;
			s->forged[s->nforged - 1] = s->nar;
		}
	}
	buf_init(&line);
	buf_printf(&line, "%s: ", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			buf_putc(&line, '\r');
		buf_putc(&line, *p);
	}
	buf_puts(&line, "\r\n");
	ms_keep(s, line.s, line.len);
	buf_free(&line);
}

void
milter_smime_eoh(struct milter_smime *s)
{
	if (s != NULL)
		ms_keep(s, "\r\n", 2);
}

int
milter_smime_body(struct milter_smime *s, const unsigned char *p, size_t n)
{
	if (s == NULL)
		return 0;
	ms_keep(s, p, n);
	return !s->over;
}

/* Remove the forged fields, last first, so that the positions stay right. */
static unsigned
ms_remove_forged(struct milter_smime *s, SMFICTX *ctx)
{
	unsigned removed = 0;

	for (unsigned i = s->nforged; i-- > 0;)
		if (milter_smfi_chgheader(ctx, MS_AR_NAME, (int)s->forged[i], NULL) == MI_SUCCESS)
			removed++;
	return removed;
}

/* The mail-log line: "QUEUEID: smime: result=... from=<...> ... reason=..." */
static void
ms_log(const struct audit_txn *t, const struct smime_report *rep, const char *action)
{
	msg_info("%s: smime: result=%s from=<%.254s> signer=<%.254s> action=%s ms=%u reason=%.300s",
	    t->queue_id && *t->queue_id ? t->queue_id : "NOQUEUE", smime_result_name(rep->result),
	    rep->from ? rep->from : "", rep->signer ? rep->signer : "", action, rep->elapsed_ms,
	    rep->reason ? rep->reason : "");
}

sfsistat
milter_smime_eom(struct milter_smime *s, SMFICTX *ctx, const struct policy_runtime *rt,
    const struct audit_txn *t)
{
	struct smime_report rep;
	sfsistat st = SMFIS_CONTINUE;
	const char *action = "continue";
	char *value = NULL;
	unsigned removed;
	json_t *ev;

	smime_check(policy_run_resolver_for(rt, s->authserv_id), ms_cache(),
	    s->over ? NULL : s->msg.s, s->over ? s->seen : s->msg.len, &s->lim, &rep);
	if (rep.result == SMIME_TEMPERROR && rt->conf->smime_on_temperror_tempfail) {
		if (milter_smfi_setreply(ctx, "451", "4.7.5",
			"S/MIME signer check failed temporarily, try again later") != MI_SUCCESS)
			msg_warn("smfi_setreply(451 4.7.5) failed: the MTA uses its default reply");
		st = SMFIS_TEMPFAIL;
		action = "tempfail";
		removed = 0;
	} else {
		removed = ms_remove_forged(s, ctx);
		value = smime_ar_value(s->authserv_id, &rep);
		if (milter_smfi_insheader(ctx, 0, MS_AR_NAME, value) != MI_SUCCESS)
			msg_warn("smfi_insheader(%s) failed: no S/MIME result on this message",
			    MS_AR_NAME);
	}
	ev = audit_smime_event(t, smime_report_json(&rep), action, value, removed);
	audit_write(daemon_audit(), ev);
	json_decref(ev);
	ms_log(t, &rep, action);
	free(value);
	smime_report_clear(&rep);
	return st;
}
