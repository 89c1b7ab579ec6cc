/*
 * audit.h - the JSON audit log: one JSON object per line (JSON Lines).
 *
 * Writer: audit_open() opens a file with O_APPEND (or takes stdout for
 * "-"); audit_write() serialises an object and appends it, newline
 * included, with ONE write(2), so lines from any number of threads and
 * processes appending to the same file never interleave. A failed write
 * never blocks or fails mail: it is counted (audit_failures()) and logged,
 * at most once per AUDIT_WARN_INTERVAL seconds. audit_reopen() (SIGUSR1,
 * logrotate) swaps the descriptor under a lock; writers in flight finish
 * on the old one. sync: AUDIT_SYNC_NONE and AUDIT_SYNC_FLUSH both hand
 * each line to the kernel at once (no user-space buffer: nothing is lost
 * when the process dies); AUDIT_SYNC_FSYNC adds fdatasync(2) per line.
 *
 * Events (doc/audit.schema.json): audit_rcpt_event() and
 * audit_message_event() build the "rcpt" and "message" objects from the
 * transaction facts in struct audit_txn. Strings from outside that are
 * not valid UTF-8 are stored with each non-ASCII byte replaced by '?'.
 *
 * Ownership: an audit_log belongs to its opener (audit_close()); JSON
 * objects are jansson references as documented per function.
 */
#ifndef DANEPOL_AUDIT_H
#define DANEPOL_AUDIT_H

#include <jansson.h>

#define AUDIT_WARN_INTERVAL 60 /* seconds between two write-failure warnings */

enum audit_sync { AUDIT_SYNC_NONE = 0, AUDIT_SYNC_FLUSH = 1, AUDIT_SYNC_FSYNC = 2 };

struct audit_log;

/**
 * Open path for appending ("-": standard output, never closed by us).
 * Returns the log, or NULL with *err (caller frees) when it cannot be
 * opened. The file is created with mode 0640.
 */
struct audit_log *audit_open(const char *path, enum audit_sync sync, char **err);

/**
 * Reopen the same path (after logrotate moved the file). Returns 0, or -1
 * after logging; the old descriptor then stays in use. Thread-safe.
 */
int audit_reopen(struct audit_log *a);

/**
 * Append obj as one line. Thread-safe. Returns 0, or -1 when the line was
 * not (completely) written; the failure is counted and logged (rate-
 * limited). obj stays the caller's. NULL a: no-op returning 0.
 */
int audit_write(struct audit_log *a, const json_t *obj);

/**
 * audit_write() of obj with one more member appended last: "key": the
 * JSON text raw[0..rawlen), which the caller has already rendered (a
 * decision, policy_json_decision_append()) and must be one valid JSON
 * value; key must need no escaping and not be a member of obj. So a
 * large, already serialised value is not built again for every line.
 * Same results as audit_write(); obj and raw stay the caller's.
 */
int audit_write_with(struct audit_log *a, const json_t *obj, const char *key, const char *raw,
    size_t rawlen);

/**
 * The line audit_write_with() would write, appended to lines (for
 * audit_write_lines()). Returns 0, or -1 when obj cannot be serialised
 * (counted and logged as a lost line; nothing appended). NULL a: no-op
 * returning 0. Thread-safe.
 */
struct buf;
int audit_line_with(struct audit_log *a, struct buf *lines, const json_t *obj, const char *key,
    const char *raw, size_t rawlen);

/**
 * Append count whole lines, lines[0..n) (each ending in '\n', as
 * audit_line_with() makes them), with ONE write(2) (and one fdatasync(2)
 * under AUDIT_SYNC_FSYNC): a front door that answers several requests at
 * once writes their lines together, still never interleaved with other
 * writers. A short write keeps the whole lines it took and cuts the one
 * it split; every line not written is counted and logged. Returns 0, or
 * -1 when not every line was written. NULL a or count 0: no-op returning
 * 0. Thread-safe.
 */
int audit_write_lines(struct audit_log *a, const char *lines, size_t n, unsigned long count);

/** Lines written / failed so far. */
unsigned long audit_written(const struct audit_log *a);
unsigned long audit_failures(const struct audit_log *a);

/** Close and free (NULL: no-op). No writer may still use a. */
void audit_close(struct audit_log *a);

/* ------------------------------------------------------------- events */

/* The facts of one SMTP transaction that every event line carries. */
struct audit_txn {
	const char *session;	 /* hex connection id, never NULL */
	const char *queue_id;	 /* NULL or "" -> null */
	const char *client_name; /* NULL -> null */
	const char *client_addr; /* NULL -> null */
	const char *sender;	 /* NULL -> null */
	const char *auth_user;	 /* NULL or "" -> null */
};

/** A JSON string for s (NULL -> json null; bad UTF-8 -> '?' bytes). New reference. */
json_t *audit_string(const char *s);

/** Current time as "2026-11-23T18:00:00.123Z" into out (at least 32 bytes). */
void audit_timestamp(char *out, unsigned long outlen);

/**
 * The "rcpt" event. decision (a policy_json_decision() object) is stolen
 * (also on failure) and set last; NULL leaves "decision" out, for the
 * caller to append with audit_write_with(). reply may be NULL. Returns a
 * new reference.
 */
json_t *audit_rcpt_event(const struct audit_txn *t, const char *recipient, const char *destination,
    const char *action, const char *reply, json_t *decision, int cache_hit, unsigned elapsed_ms);

/*
 * The message event's "recipients" list, bounded: at most
 * AUDIT_MSG_RCPTS_MAX entries whose JSON takes at most AUDIT_MSG_RCPT_BYTES
 * bytes (brackets and commas included): the first recipients of the
 * transaction. The ones after the first that would cross either bound are
 * only counted ("recipients_omitted"); each still has its own "rcpt" line.
 * Fixed, not configurable: the message line is a summary, the rcpt lines
 * are the record, and a bigger list only costs memory and line length.
 * 1000 is Postfix's default smtpd_recipient_limit; 128 KiB holds 1000
 * entries of ordinary addresses (about 100 bytes each) in full.
 * One per transaction, used by one thread at a time; zero-initialised or
 * audit_rcpts_init(); audit_message_event() takes the list, or
 * audit_rcpts_free() releases it.
 */
#define AUDIT_MSG_RCPTS_MAX  1000
#define AUDIT_MSG_RCPT_BYTES 131072

struct audit_rcpts {
	json_t *list;	       /* array of entries, NULL = [] */
	size_t bytes;	       /* JSON size of the entries and commas */
	unsigned long omitted; /* entries left out */
};

void audit_rcpts_init(struct audit_rcpts *r);

/** Add one recipient's entry, or count it as omitted when over a bound. */
void audit_rcpts_add(struct audit_rcpts *r, const char *recipient, const char *destination,
    const char *verdict, const char *action);

void audit_rcpts_free(struct audit_rcpts *r);

/**
 * The "message" event; end is "eom", "abort" or "close". The list in r
 * (NULL: []) is taken and r is left empty (audit_rcpts_init()); its
 * omitted count becomes "recipients_omitted". Returns a new reference.
 */
json_t *audit_message_event(const struct audit_txn *t, const char *end, struct audit_rcpts *r,
    int accepted, int deferred);

/**
 * The "smime" event of an inbound message checked for its S/MIME signer:
 * smime (smime_report_json()'s object) is stolen; action is "continue"
 * or "tempfail"; header the Authentication-Results value added (NULL ->
 * null); removed the forged fields of our authserv-id taken out. Returns a
 * new reference.
 */
json_t *audit_smime_event(const struct audit_txn *t, json_t *smime, const char *action,
    const char *header, unsigned removed);

#endif
