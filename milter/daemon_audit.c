/*
 * daemon_audit.c - danepold's audit log as its front doors share it
 * (contract in daemon_audit.h). The log pointer is set once before any
 * front door starts and read without a lock after; session ids come from
 * an atomic counter and a per-process epoch set once.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "daemon_audit.h"
#include "log.h"
#include "policy.h"
#include "policy_json.h"

static struct audit_log *state_audit;
static atomic_ulong session_counter;
static unsigned long session_epoch;
static pthread_once_t session_once = PTHREAD_ONCE_INIT;

void
daemon_audit_set(struct audit_log *a)
{
	state_audit = a;
}

struct audit_log *
daemon_audit(void)
{
	return state_audit;
}

static void
session_init(void)
{
	session_epoch = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
}

void
daemon_audit_session_id(char out[17])
{
	unsigned long n = atomic_fetch_add(&session_counter, 1);

	pthread_once(&session_once, session_init);
	snprintf(out, 17, "%08lx%08lx", session_epoch & 0xffffffffUL, n & 0xffffffffUL);
}

json_t *
daemon_audit_event_new(const char *event)
{
	char ts[40];
	json_t *o = json_object();

	audit_timestamp(ts, sizeof(ts));
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "time", json_string(ts));
	return o;
}

/* The line of ev with "decision" appended, into b's lines (b NULL: written at once). */
static void
audit_decision_to(struct daemon_audit_batch *b, json_t *ev, const struct policy_runtime *rt,
    const struct policy_outcome *o, const char *none)
{
	struct audit_log *a = daemon_audit();
	struct buf dj;

	if (a != NULL) {
		buf_init(&dj);
		if (o == NULL || o->d == NULL ||
		    policy_json_decision_append(&dj, o->d, rt ? rt->status : NULL, o) < 0)
			buf_puts(&dj, none);
		if (b == NULL)
			audit_write_with(a, ev, "decision", dj.s, dj.len);
		else if (audit_line_with(a, &b->lines, ev, "decision", dj.s, dj.len) == 0)
			b->count++;
		buf_free(&dj);
	}
	json_decref(ev);
}

void
daemon_audit_decision(json_t *ev, const struct policy_runtime *rt, const struct policy_outcome *o,
    const char *none)
{
	audit_decision_to(NULL, ev, rt, o, none);
}

void
daemon_audit_batch_init(struct daemon_audit_batch *b)
{
	buf_init(&b->lines);
	b->count = 0;
}

void
daemon_audit_batch_write(struct daemon_audit_batch *b)
{
	audit_write_lines(daemon_audit(), b->lines.s, b->lines.len, b->count);
	buf_reset(&b->lines);
	b->count = 0;
}

void
daemon_audit_batch_free(struct daemon_audit_batch *b)
{
	daemon_audit_batch_write(b);
	buf_free(&b->lines);
}

void
daemon_audit_event_finish_to(struct daemon_audit_batch *b, json_t *ev,
    const struct policy_runtime *rt, const struct policy_outcome *o)
{
	json_object_set_new(ev, "cache_hit", json_boolean(o && o->cache_hit));
	json_object_set_new(ev, "elapsed_ms", json_integer(o ? (json_int_t)o->elapsed_ms : 0));
	audit_decision_to(b, ev, rt, o, "null");
}

void
daemon_audit_event_finish(json_t *ev, const struct policy_runtime *rt,
    const struct policy_outcome *o)
{
	daemon_audit_event_finish_to(NULL, ev, rt, o);
}

/* ' key="text"', text at most max bytes, '"' and '\\' as '\''. */
static void
mail_quoted(struct buf *b, const char *key, const char *text, size_t max)
{
	buf_printf(b, " %s=\"", key);
	for (size_t i = 0; text[i] && i < max; i++)
		buf_putc(b, text[i] == '"' || text[i] == '\\' ? '\'' : text[i]);
	buf_putc(b, '"');
}

void
daemon_audit_mail_line(const struct daemon_mail_line *l)
{
	const struct policy_decision *d = l->o && l->o->d ? l->o->d : NULL;
	struct buf b;

	buf_init(&b);
	if (l->queue_id || l->session)
		buf_printf(&b, "%.64s: ", l->queue_id ? l->queue_id : "NOQUEUE");
	buf_printf(&b, "%s: door=%s", l->what, l->door);
	if (l->session)
		buf_printf(&b, " session=%s", l->session);
	if (l->rcpt)
		buf_printf(&b, " to=<%.255s>", l->rcpt);
	buf_printf(&b, " domain=%.255s", l->dest && *l->dest ? l->dest : "-");
	if (d) {
		buf_printf(&b, " verdict=%s level=%s reason=%s", policy_verdict_name(d->verdict),
		    tls_level_name(d->level), policy_reason_name(d->reason));
	}
	if (l->action)
		buf_printf(&b, " action=%s", l->action);
	if (l->code)
		buf_printf(&b, " code=%.7s", l->code);
	if (l->dsn)
		buf_printf(&b, " dsn=%.23s", l->dsn);
	if (l->o)
		buf_printf(&b, " cached=%s ms=%u", l->o->cache_hit ? "yes" : "no",
		    l->o->elapsed_ms);
	if (l->reply)
		mail_quoted(&b, "reply", l->reply, 400);
	msg_mail("%s", b.s);
	buf_free(&b);
}
