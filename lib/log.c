/*
 * log.c - implementation of the msg_* logging API (see log.h).
 *
 * Thread safety: each line is formatted into a per-call buffer, then
 * written with one write(2)/syslog(3) call, so lines from libmilter's
 * connection threads never interleave. No static scratch buffers.
 *
 * msg_fatal() from the main thread (thread id == process id, Linux)
 * exit(1)s; from any other thread it _exit(1)s once its line is written
 * (write(2) or syslog(3) with LOG_NDELAY: nothing is left buffered), so
 * that atexit handlers and destructors do not tear down state that the
 * other, still running threads use.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int msg_verbose;

static const char *msg_progname = "danepol";
static int msg_use_syslog;
static void (*msg_capture)(int, const char *);

void
msg_init(const char *progname)
{
	const char *slash = strrchr(progname, '/');

	msg_progname = slash ? slash + 1 : progname;
}

void
msg_open_syslog(int facility)
{
	openlog(msg_progname, LOG_PID | LOG_NDELAY, facility);
	msg_use_syslog = 1;
}

void
msg_set_capture(void (*fn)(int prio, const char *line))
{
	msg_capture = fn;
}

/* One line of priority prio; bare: without the level label (msg_mail()). */
static void
msg_vlog(int prio, int bare, const char *fmt, va_list ap)
{
	static const char *const label[] = {
		[LOG_DEBUG] = "debug",
		[LOG_INFO] = "info",
		[LOG_WARNING] = "warning",
		[LOG_ERR] = "error",
		[LOG_CRIT] = "fatal",
		[LOG_ALERT] = "panic",
	};
	char text[2048];
	char line[2200];
	int saved = errno;
	int n;

	vsnprintf(text, sizeof(text), fmt, ap);
	/* Never let a stray control character split or forge a line. */
	for (char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (msg_capture)
		msg_capture(prio, text);
	if (msg_use_syslog && bare) {
		syslog(prio, "%s", text);
	} else if (msg_use_syslog) {
		syslog(prio, "%s: %s", label[prio], text);
	} else {
		n = snprintf(line, sizeof(line), "%s: %s%s%s\n", msg_progname,
		    bare ? "" : label[prio], bare ? "" : ": ", text);
		if (n > (int)sizeof(line) - 1)
			n = (int)sizeof(line) - 1, line[n - 1] = '\n';
		if (write(STDERR_FILENO, line, (size_t)n) < 0) {
			/* nowhere left to report it */
		}
	}
	errno = saved;
}

#define MSG_FN(name, prio, bare, guard) \
	void name(const char *fmt, ...) \
	{ \
		va_list ap; \
		if (!(guard)) \
			return; \
		va_start(ap, fmt); \
		msg_vlog(prio, bare, fmt, ap); \
		va_end(ap); \
	}

MSG_FN(msg_debug, LOG_DEBUG, 0, msg_verbose > 0)
MSG_FN(msg_info, LOG_INFO, 0, 1)
MSG_FN(msg_warn, LOG_WARNING, 0, 1)
MSG_FN(msg_error, LOG_ERR, 0, 1)
MSG_FN(msg_mail, LOG_INFO, 1, 1)

void
msg_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	if (syscall(SYS_gettid) != getpid())
		_exit(1); /* the line is written; no atexit handlers under running threads */
	exit(1);
}

void
msg_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlog(LOG_ALERT, 0, fmt, ap);
	va_end(ap);
	abort();
}

unsigned long long
msg_rate_due(struct msg_rate *r, int interval)
{
	unsigned long long n = atomic_fetch_add(&r->events, 1) + 1;
	long long now = (long long)time(NULL);
	long long last = atomic_load(&r->last);

	if (last != 0 && now - last < interval)
		return 0;
	if (!atomic_compare_exchange_strong(&r->last, &last, now))
		return 0; /* another thread logs this one */
	return n;
}
