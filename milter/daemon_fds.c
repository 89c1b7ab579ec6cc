/*
 * daemon_fds.c - danepold's file descriptor budget, and the cap on milter
 * connections that enforces it (contract in daemon_fds.h; the budget table is
 * in danepold(8), "File descriptors").
 *
 * libmilter has no way to cap its connections: its listener (sendmail
 * libmilter/listener.c, mi_listener) accept()s whatever arrives and
 * starts a thread per connection. A flood of idle milter connections
 * would then take every descriptor, and the socketmap, the Exim socket
 * and the resolver would fail for want of one.
 *
 * This file defines accept(2) in the danepold executable; the dynamic
 * linker binds libmilter's call to it (a definition in the executable
 * interposes the C library's, as daemon_signals.c does for sigwait). It
 * accepts with accept4(2) and, once daemon_fds_install() armed it,
 * refuses a connection whose descriptor number is at or above the milter
 * budget: Linux hands out the lowest free descriptor, so such a number
 * means every descriptor below the budget is taken, and the ones above
 * are the reserve of the other front doors. The connection is closed at
 * once and accept() fails with ECONNABORTED, which libmilter takes as
 * "nothing to accept" and continues (it aborts only after 16 other
 * errors in a row). No count of live milter connections is needed, so
 * nothing depends on libmilter reporting each close. Out of descriptors
 * (EMFILE, ENFILE), libmilter would poll and accept again at once in a
 * loop: this accept() waits MFD_EMFILE_BACKOFF_MS first. Both cases log
 * one line per MFD_WARN_INTERVAL seconds, with the count so far.
 *
 * danepold's own listeners call accept4(), never accept() (listener.c):
 * they are not subject to the milter budget. Nothing else in the process
 * accepts.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"
#include "daemon_fds.h"
#include "log.h"

#define MFD_FIXED	      48 /* stdio, listening sockets, pipes, audit, store, resolver pipes */
#define MFD_OPERATOR	      40 /* control socket (8 + slack) and metrics (16, libmicrohttpd's own) */
#define MFD_MIN_MILTER	      8	 /* the milter keeps at least this much, however small the limit */
#define MFD_MAX_LIMIT	      (1UL << 20) /* RLIM_INFINITY and the like count as this */
#define MFD_WARN_INTERVAL     60	  /* seconds between warnings of one kind */
#define MFD_EMFILE_BACKOFF_MS 100	  /* out of descriptors: wait before the next accept */

static atomic_ulong mfd_milter_below; /* 0: not armed */
static struct msg_rate mfd_refused = MSG_RATE_INIT;
static struct msg_rate mfd_emfile = MSG_RATE_INIT;

void
daemon_fds_plan(unsigned nlisteners, struct daemon_fds *b)
{
	struct rlimit rl;
	unsigned long reserve;

	b->limit = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		b->limit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > MFD_MAX_LIMIT
		    ? MFD_MAX_LIMIT
		    : (unsigned long)rl.rlim_cur;
	b->dns = b->limit / 2; /* dns/dns.c takes at most this */
	b->listener_max = b->limit / 8 < 8	? 8
	    : b->limit / 8 > LISTENER_MAX_CONNS ? LISTENER_MAX_CONNS
						: (unsigned)(b->limit / 8);
	b->listeners =
	    nlisteners * (unsigned long)(b->listener_max + LISTENER_EVICT_SLACK(b->listener_max));
	b->fixed = MFD_FIXED + MFD_OPERATOR;
	reserve = b->dns + b->listeners + b->fixed;
	b->milter = b->limit > reserve + MFD_MIN_MILTER ? b->limit - reserve : MFD_MIN_MILTER;
}

void
daemon_fds_install(const struct daemon_fds *b)
{
	atomic_store(&mfd_milter_below, b->milter);
}

/* Refuse the connection fd: over the budget. */
static int
mfd_refuse(int fd, unsigned long below)
{
	unsigned long long n;

	close(fd);
	if ((n = msg_rate_due(&mfd_refused, MFD_WARN_INTERVAL)) != 0)
		msg_warn("milter: descriptors 0..%lu are in use: closing new milter connections at "
			 "once to keep the reserve of the other sockets (%llu so far; see \"File "
			 "descriptors\" in danepold(8))",
		    below - 1, n);
	errno = ECONNABORTED;
	return -1;
}

/** accept - accept(2) for libmilter, within the milter budget. */
int
accept(int sock, struct sockaddr *addr, socklen_t *len)
{
	unsigned long below = atomic_load(&mfd_milter_below);
	unsigned long long n;
	int fd = accept4(sock, addr, len, 0);
	int saved;

	if (fd >= 0)
		return below != 0 && (unsigned long)fd >= below ? mfd_refuse(fd, below) : fd;
	if (errno != EMFILE && errno != ENFILE)
		return -1;
	saved = errno;
	if ((n = msg_rate_due(&mfd_emfile, MFD_WARN_INTERVAL)) != 0)
		msg_warn("milter: accept: %s (%llu time(s) so far; see \"File descriptors\" in "
			 "danepold(8))",
		    saved == EMFILE ? "Too many open files" : "Too many open files in system", n);
	poll(NULL, 0, MFD_EMFILE_BACKOFF_MS);
	errno = saved;
	return -1;
}
