/*
 * policy_status.h - THE table from reason code to SMTP reply, enhanced
 * status code, reply text and RFC 8460 result type.
 *
 * There is one built-in default table (documented row for row in
 * doc/status-codes.md; a unit test keeps the two in step). Operators
 * override rows from danepol.conf ("status.<reason> = 450 4.7.5 text").
 * A table is immutable once built; it is part of the config snapshot.
 *
 * Rules enforced on overrides (RFC 3463/5321): reply is 3 digits whose
 * class matches the reason's verdict (4xx for defer, 5xx for reject, none
 * for require/try); the enhanced code is class.subject.detail with class
 * equal to the reply's first digit and no leading zeros; text is printable
 * ASCII, at most 200 characters.
 */
#ifndef DANEPOL_POLICY_STATUS_H
#define DANEPOL_POLICY_STATUS_H

#include "policy.h"

struct policy_status {
	const char *reply;    /* "450", or NULL for require/try reasons */
	const char *enhanced; /* "4.7.5", or NULL */
	const char *text;     /* human reply text (no code), never NULL */
	const char *tlsrpt;   /* RFC 8460 result type, or NULL */
};

struct policy_status_table;

/** A table holding the built-in defaults. Free with policy_status_table_free(). */
struct policy_status_table *policy_status_table_new(void);
void policy_status_table_free(struct policy_status_table *t);

/**
 * Override one row from config text "REPLY ENHANCED TEXT..." for the
 * reason named reason_name. Returns 0, or -1 with *why (static text)
 * naming the problem (unknown reason, class mismatch, ...).
 */
int policy_status_set(struct policy_status_table *t, const char *reason_name, const char *value,
    const char **why);

/** Row for r (pointer valid for the table's lifetime). NULL t = defaults. */
const struct policy_status *policy_status_get(const struct policy_status_table *t,
    enum policy_reason r);

/**
 * Compose the full SMTP reply text for a decision: "<text> (<domain>: <why>)"
 * trimmed to what fits in one SMTP reply line, with '%' doubled for
 * smfi_setreply(). Caller frees.
 */
char *policy_status_reply_text(const struct policy_status *st, const char *domain, const char *why);

#endif
