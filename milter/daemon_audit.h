/*
 * daemon_audit.h - danepold's audit log as its front doors share it
 * (daemon_audit.c): the one audit log, session ids, and the event lines
 * that carry a decision (the line formats are in store/audit.h and
 * doc/audit.schema.json).
 */
#ifndef DANEPOL_MILTER_DAEMON_AUDIT_H
#define DANEPOL_MILTER_DAEMON_AUDIT_H

#include <jansson.h>

#include "audit.h"
#include "buf.h"
#include "policy_run.h"

/** The audit log used by the front doors (NULL: no audit log). Set once
 *  before they start; the pointer stays valid until exit. */
void daemon_audit_set(struct audit_log *a);
struct audit_log *daemon_audit(void);

/** A fresh session id: 16 hex digits (start time, counter) into out[17].
 *  Thread-safe. */
void daemon_audit_session_id(char out[17]);

/** A new audit event object {"event": event, "time": now} (caller owns it). */
json_t *daemon_audit_event_new(const char *event);

/**
 * Write ev to the audit log with "decision" appended last: o->d's JSON
 * (policy_json_decision_append(), rendered once per decision), or the
 * JSON text none when o or o->d is NULL or rendering failed. Nothing is
 * rendered when there is no audit log (audit_log = none). Drops the
 * caller's reference to ev. Thread-safe.
 */
void daemon_audit_decision(json_t *ev, const struct policy_runtime *rt,
    const struct policy_outcome *o, const char *none);

/**
 * Add "cache_hit" and "elapsed_ms" of o to ev, then daemon_audit_decision()
 * with null for a missing decision.
 */
void daemon_audit_event_finish(json_t *ev, const struct policy_runtime *rt,
    const struct policy_outcome *o);

/*
 * Lines kept back to be written together (audit_write_lines(), one
 * write(2)): a front door answering several requests at once writes
 * their lines with daemon_audit_batch_write() before it sends their
 * replies, so every line is in the log before its reply leaves. One
 * owner thread; daemon_audit_batch_free() writes what is left.
 */
struct daemon_audit_batch {
	struct buf lines;
	unsigned long count;
};

void daemon_audit_batch_init(struct daemon_audit_batch *b);
/** Write the lines kept (if any) and empty b. */
void daemon_audit_batch_write(struct daemon_audit_batch *b);
void daemon_audit_batch_free(struct daemon_audit_batch *b);

/** daemon_audit_event_finish() with the line kept in b (NULL: written at once). */
void daemon_audit_event_finish_to(struct daemon_audit_batch *b, json_t *ev,
    const struct policy_runtime *rt, const struct policy_outcome *o);

/*
 * One mail-log line about a decision (msg_mail(), danepold(8) "LOGGING"):
 *   QUEUEID: WHAT: door=DOOR [session=S] [to=<R>] domain=D verdict=V
 *   level=L reason=R [action=A] [code=450 dsn=4.7.5] cached=yes|no ms=N [reply="..."]
 * QUEUEID is Postfix's queue id, "NOQUEUE" (like Postfix) for a milter
 * decision made before Postfix has one; the socketmap and Exim doors,
 * which have no session, start with WHAT. Every field from outside is
 * bounded (255 bytes; the reply 400, its '"' and '\\' shown as '\''),
 * and msg_*() replaces control characters. NULL fields are left out.
 */
struct daemon_mail_line {
	const char *what;		/* "defer" (the milter's deferral line), "decision" */
	const char *door;		/* "milter", "socketmap", "exim" */
	const char *queue_id;		/* milter: Postfix's {i}, or NULL: NOQUEUE */
	const char *session;		/* milter: the session id, else NULL */
	const char *rcpt;		/* milter and Exim rcpt: the recipient, or NULL */
	const char *dest;		/* the destination decided */
	const struct policy_outcome *o; /* the decision, or NULL */
	const char *action;		/* "continue", "tempfail", ..., or NULL */
	const char *code;		/* a deferral's SMTP reply code ("450"), or NULL */
	const char *dsn;		/* ... and its enhanced status code ("4.7.5") */
	const char *reply;		/* the reply sent, or NULL */
};

/** Log l as one line (see above). Any thread. */
void daemon_audit_mail_line(const struct daemon_mail_line *l);

#endif
