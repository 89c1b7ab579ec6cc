/*
 * log.h - the one logging API of danepol.
 *
 * Every module logs through msg_*(); nothing else writes diagnostics.
 * Lines go to stderr (journald picks them up) or, after msg_open_syslog(),
 * to syslog. Each call writes exactly one line, atomically with respect to
 * other threads. The verbosity test lives here, never at call sites:
 * msg_debug() is dropped unless msg_verbose > 0.
 *
 * Text from outside (DNS names, addresses, peer data) must be truncated by
 * the caller in the format (e.g. "%.255s"); msg_* never interprets it.
 */
#ifndef DANEPOL_LOG_H
#define DANEPOL_LOG_H

#include <stdarg.h>
#include <stdatomic.h>

extern int msg_verbose; /* larger = more noise; set once at start-up */

/** Set the program name used as line prefix (string must outlive use). */
void msg_init(const char *progname);
/** Send further lines to syslog(3) with the given facility. */
void msg_open_syslog(int facility);
/** Capture hook for tests: when set, every line is also passed here. */
void msg_set_capture(void (*fn)(int prio, const char *line));

void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/**
 * A mail-log line about one message or decision, at info level but
 * without the "info: " label, so it reads "danepold[PID]: QUEUEID: ..."
 * in syslog like Postfix's and OpenDKIM's lines (the caller starts it with
 * the queue id, or "NOQUEUE"). Same bounds and control-character rule.
 */
void msg_mail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/**
 * Log and exit with status 1: only for unrecoverable problems. From the
 * main thread exit(1) (atexit handlers run); from any other thread
 * _exit(1) after the line is written (no atexit handlers while other
 * threads still run).
 */
void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/** Log and abort(): only for broken internal invariants, never for input. */
void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * A rate-limited warning: msg_rate_due() counts one event and says whether
 * a line is due now (the first event, then at most one per interval
 * seconds). The caller logs that line with the count it returns, so a
 * flood costs one line per interval and loses no count. Thread-safe;
 * zero-initialise (MSG_RATE_INIT or a static/calloc'd struct).
 */
struct msg_rate {
	atomic_ullong events; /* events counted so far */
	atomic_llong last;    /* time of the last line, 0: none yet */
};
#define MSG_RATE_INIT \
	{ \
		0, 0 \
	}

/** Count one event; the number of events so far when a line is due, else 0. */
unsigned long long msg_rate_due(struct msg_rate *r, int interval);

#endif
