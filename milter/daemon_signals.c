/*
 * daemon_signals.c - keep SIGHUP away from libmilter's signal thread.
 *
 * libmilter's smfi_main() starts a thread that sigwait()s for SIGHUP,
 * SIGTERM and SIGINT and stops the milter on any of them (sendmail
 * libmilter/signal.c, mi_signal_thread). danepold wants SIGHUP as
 * "reload". Running smfi_main() in a thread of its own is not enough: a
 * thread blocked in sigwait() counts as accepting the signal, so the
 * kernel may hand a process-directed SIGHUP to libmilter's thread (for
 * example while the main thread already has another signal pending), and
 * the milter stops.
 *
 * This file defines sigwait(3) in the danepold executable. The dynamic
 * linker binds libmilter's call to it (a definition in the executable
 * interposes the C library's), and it waits for the same set minus the
 * signals danepold handles itself. Those stay blocked in libmilter's
 * thread, so the kernel can deliver them only to danepold's main thread,
 * which never blocks them (danepold.c). SIGTERM and SIGINT are left to
 * libmilter: either way they mean "stop".
 *
 * Nothing else in danepold calls sigwait(); behaviour for any other
 * caller is that of sigwait(3) for the reduced set.
 *
 * Nothing in danepold refers to this sigwait(), so a static library would
 * never pull it in: it is linked into danepold directly (danepold_SOURCES
 * in Makefile.am), not through milter/libdaemon.a.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>

/** sigwait - sigwait(3) for set without SIGHUP, SIGUSR1, SIGUSR2. */
int
sigwait(const sigset_t *set, int *sig)
{
	sigset_t mine = *set;
	int r;

	sigdelset(&mine, SIGHUP);
	sigdelset(&mine, SIGUSR1);
	sigdelset(&mine, SIGUSR2);
	do
		r = sigtimedwait(&mine, NULL, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	*sig = r;
	return 0;
}
