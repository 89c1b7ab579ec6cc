/*
 * listener.c - danepold's stream listener: bind, accept thread, one
 * detached thread per connection, bounded, with a clean stop (contract
 * in listener.h).
 *
 * Stop protocol: listener_stop() writes one byte into the stop pipe and
 * never drains it, so its read end stays readable: the accept thread and
 * every connection waiting in listener_read() see it in their poll(2)
 * and return. The accept thread is joined; the connection threads are
 * detached and counted (active, under lock): the last one to finish
 * signals the condition variable listener_stop() waits on. A handler
 * busy in a decision finishes it first (bounded by decision_timeout).
 *
 * Unix sockets: a stale file (no process accepts: connect(2) is refused)
 * is removed before bind(2); anything else at the path is left alone and
 * reported. The stale check, the removal and bind(2) run with the ids the
 * socket will have (user:socket_group) and a umask of ~socket_mode
 * (daemon_proc_sock_enter(), daemon_proc.h), so the file is born with its
 * owner, group and mode and nothing as root touches the path (danepol
 * issue 11). At stop it is removed if it is still the one we made (same
 * inode).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon_proc.h"
#include "clock.h"
#include "listener.h"
#include "log.h"
#include "mem.h"
#include "sockspec.h"

#define LST_BACKLOG		 128
#define LST_WARN_INTERVAL	 10  /* seconds between warnings of one kind */
#define LST_EMFILE_WARN_INTERVAL 60  /* seconds between "accept: Too many open files" */
#define LST_EMFILE_BACKOFF_MS	 100 /* out of descriptors: wait before accepting again */
#define LST_ROOM_WAIT_MS	 200 /* at the cap: wait for evicted connections to leave */

struct listener {
	char *spec;
	char *what;
	char *path;  /* unix socket path, or NULL */
	ino_t ino;   /* its inode, to remove only our own file */
	int fd;	     /* listening socket */
	int stop[2]; /* stop pipe */
	pthread_t tid;
	int started;
	atomic_int stopping; /* set before the stop pipe is written */
	listener_fn fn;
	void *arg;
	struct listener_limits lim;
	struct msg_rate refused;       /* at the cap with nobody idle */
	struct msg_rate evicted;       /* idle connections closed for new ones */
	struct msg_rate deadline;      /* requests past socket_request_timeout */
	struct msg_rate accept_failed; /* accept(2) out of descriptors/memory */
	pthread_mutex_t lock;	       /* guards the members below and lst_conn's */
	pthread_cond_t idle; /* signalled when active drops to 0 or an evicted one leaves */
	unsigned active;     /* connection threads, evicted ones included */
	unsigned evicting;   /* ... of which evicted, still leaving */
	unsigned long next_id;
	struct lst_conn *conns; /* every connection, newest first */
};

/* A connection: the handler's view first (listener_read casts back). */
struct lst_conn {
	struct listener_conn c;
	struct listener *l;
	struct lst_conn *prev, *next; /* in l->conns */
	long long req_start;	      /* ms, first byte of the request; 0: none (own thread) */
	int full;		      /* the last read filled its chunk: more is likely waiting
				       * (own thread) */
	/* under l->lock: */
	int idle;	      /* in poll(2) awaiting a request's first byte */
	int evicted;	      /* shut down to make room */
	long long idle_since; /* ms, when it became idle */
};

/* ------------------------------------------------------------ binding */

/* Remove a stale socket file at path. 0 when the path is free now. */
static int
lst_unix_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		msg_error("socket %s: %m", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		msg_error("socket %s: the path exists and is not a socket: not removing it", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		msg_error("socket: %m");
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0) {
		msg_error("socket %s: in use by another process", path);
		return -1;
	}
	if (errno == EACCES) {
		msg_error("socket %s: exists, and uid %ld may not connect to it to see whether "
			  "it is still in use: remove it if no process serves it",
		    path, (long)geteuid());
		return -1;
	}
	if (errno != ECONNREFUSED && errno != ENOENT) {
		msg_error("socket %s: cannot probe: %m", path);
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		msg_error("socket %s: cannot remove the stale file: %m", path);
		return -1;
	}
	msg_info("socket %s: removed a stale socket file", path);
	return 0;
}

static int
lst_bind_unix(struct listener *l, const char *path, const struct daemon_sockid *id)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		msg_error("socket %.200s: path too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lst_unix_stale(path, &sun) < 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		msg_error("socket: %m");
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, LST_BACKLOG) < 0) {
		daemon_proc_sock_error(id, errno);
		close(fd);
		return -1;
	}
	if (daemon_proc_socket_perms(id) < 0) {
		close(fd);
		return -1;
	}
	l->path = xstrdup(path);
	l->ino = lstat(path, &st) == 0 ? st.st_ino : 0;
	return fd;
}

/* Bind path with the ids and mode the socket will have (daemon_proc.h). */
static int
lst_open_unix(struct listener *l, const char *path, uid_t uid, const char *group, unsigned mode)
{
	struct daemon_sockid id;
	int fd = -1;

	if (daemon_proc_sockid_init(&id, l->spec, uid, group, mode) < 0 ||
	    daemon_proc_sock_enter(&id) < 0)
		return -1;
	fd = lst_bind_unix(l, path, &id);
	if (daemon_proc_sock_leave(&id) < 0 && fd >= 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* An inet:/inet6: spec split by sockspec_inet(); no host = any address. Frees port and host. */
static int
lst_bind_inet(struct listener *l, int family, char *port, char *host)
{
	struct addrinfo hints, *res = NULL;
	int fd = -1, one = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		msg_error("socket %s: %s", l->spec, gai_strerror(rc));
		goto out;
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		msg_error("socket %s: %m", l->spec);
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, LST_BACKLOG) < 0) {
		msg_error("cannot listen on %s: %m", l->spec);
		close(fd);
		fd = -1;
	}
out:
	if (res)
		freeaddrinfo(res);
	free(port);
	free(host);
	return fd;
}

static void
lst_free(struct listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	for (int i = 0; i < 2; i++)
		if (l->stop[i] >= 0)
			close(l->stop[i]);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->idle);
	free(l->spec);
	free(l->what);
	free(l->path);
	free(l);
}

struct listener *
listener_open(const char *spec, const char *what, uid_t uid, const char *group, unsigned mode)
{
	struct listener *l = xcalloc(1, sizeof(*l));
	char *port, *host;
	int family;

	l->spec = xstrdup(spec);
	l->what = xstrdup(what);
	l->fd = l->stop[0] = l->stop[1] = -1;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->idle, NULL);
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0)
		l->fd = lst_open_unix(l, strchr(spec, ':') + 1, uid, group, mode);
	else if (sockspec_inet(spec, &family, &port, &host) == 0)
		l->fd = lst_bind_inet(l, family, port, host);
	else
		msg_error("%s socket %.200s: unknown socket type", what, spec);
	if (l->fd < 0)
		goto fail;
	if (pipe2(l->stop, O_CLOEXEC) < 0) {
		msg_error("pipe: %m");
		goto fail;
	}
	return l;
fail:
	lst_free(l);
	return NULL;
}

/* ---------------------------------------------------------- threads */

static void
lst_unlink(struct listener *l, struct lst_conn *lc)
{
	if (lc->prev)
		lc->prev->next = lc->next;
	else
		l->conns = lc->next;
	if (lc->next)
		lc->next->prev = lc->prev;
}

/* Leave the table (under the lock, so the accept thread never shuts down
 * a descriptor number that is reused), then close. */
static void
lst_conn_end(struct listener *l, struct lst_conn *lc)
{
	pthread_mutex_lock(&l->lock);
	lst_unlink(l, lc);
	if (lc->evicted)
		l->evicting--;
	if (--l->active == 0 || lc->evicted)
		pthread_cond_broadcast(&l->idle);
	pthread_mutex_unlock(&l->lock);
	close(lc->c.fd);
	free(lc);
}

static void *
lst_conn_main(void *arg)
{
	struct lst_conn *lc = arg;
	struct listener *l = lc->l;

	l->fn(&lc->c, l->arg);
	lst_conn_end(l, lc);
	return NULL;
}

/* Over the limit with nobody idle: close at once, warn at most every
 * LST_WARN_INTERVAL seconds with the count so far. */
static void
lst_refuse(struct listener *l, int fd)
{
	unsigned long long n;

	close(fd);
	if ((n = msg_rate_due(&l->refused, LST_WARN_INTERVAL)) != 0)
		msg_warn("%s: %u connections busy in a request: closing new connections at once "
			 "(%llu so far)",
		    l->spec, l->lim.max_conns, n);
}

/*
 * The oldest idle connection (waiting for the first byte of a request,
 * nothing unread in the socket), or NULL. Under the lock.
 */
static struct lst_conn *
lst_oldest_idle(struct listener *l)
{
	struct lst_conn *lc, *best = NULL;
	int unread;

	for (lc = l->conns; lc; lc = lc->next) {
		if (!lc->idle || lc->evicted || (best && best->idle_since <= lc->idle_since))
			continue;
		if (ioctl(lc->c.fd, FIONREAD, &unread) == 0 && unread > 0)
			continue; /* a request is arriving */
		best = lc;
	}
	return best;
}

/*
 * At the cap: make room by closing the oldest idle connection. Its
 * thread wakes from poll(2) (shutdown(2) makes the socket readable) and
 * leaves; until then it still counts, so at most max_conns +
 * LISTENER_EVICT_SLACK(max_conns) threads exist. 0 when there is room now. Under the lock.
 */
static int
lst_evict(struct listener *l)
{
	struct lst_conn *victim;
	unsigned long long n;

	if (l->active - l->evicting < l->lim.max_conns)
		return 0;
	if (l->active >= l->lim.max_conns + LISTENER_EVICT_SLACK(l->lim.max_conns) ||
	    (victim = lst_oldest_idle(l)) == NULL)
		return -1;
	victim->evicted = 1;
	l->evicting++;
	shutdown(victim->c.fd, SHUT_RDWR);
	if ((n = msg_rate_due(&l->evicted, LST_WARN_INTERVAL)) != 0)
		msg_warn("%s: %u connections open: closing the longest idle one for a new one "
			 "(%llu so far)",
		    l->spec, l->lim.max_conns, n);
	return 0;
}

/*
 * lst_evict, and when only connections evicted earlier and still leaving
 * stand in the way (a flood of new idle ones), wait for them, at most
 * LST_ROOM_WAIT_MS: their threads leave within moments of the shutdown,
 * and refusing at once would reset a client that sent a whole query.
 * 0 when there is room now, -1 otherwise. Under the lock (released while
 * waiting).
 */
static int
lst_make_room(struct listener *l)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += LST_ROOM_WAIT_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	while (lst_evict(l) < 0) {
		if (l->evicting == 0 ||
		    pthread_cond_timedwait(&l->idle, &l->lock, &until) == ETIMEDOUT)
			return lst_evict(l);
	}
	return 0;
}

static void
lst_dispatch(struct listener *l, int fd)
{
	struct lst_conn *lc;
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	pthread_mutex_lock(&l->lock);
	if (lst_make_room(l) < 0) {
		pthread_mutex_unlock(&l->lock);
		lst_refuse(l, fd);
		return;
	}
	l->active++;
	lc = xcalloc(1, sizeof(*lc));
	lc->c.id = ++l->next_id;
	lc->c.fd = fd;
	lc->c.stop_fd = l->stop[0];
	lc->c.what = l->what;
	lc->l = l;
	lc->next = l->conns;
	if (l->conns)
		l->conns->prev = lc;
	l->conns = lc;
	pthread_mutex_unlock(&l->lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&tid, &attr, lst_conn_main, lc);
	pthread_attr_destroy(&attr);
	if (err != 0) {
		msg_warn("%s: cannot start a connection thread: %s", l->spec, strerror(err));
		lst_conn_end(l, lc);
	}
}

/* Wait for the stop pipe at most ms; 1 when stopping. */
static int
lst_stopping(const struct listener *l, int ms)
{
	struct pollfd p = { .fd = l->stop[0], .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

/* accept(2) failed: out of descriptors or memory backs off (one warning
 * per LST_EMFILE_WARN_INTERVAL with the count); 1 when stopping. */
static int
lst_accept_failed(struct listener *l)
{
	unsigned long long n;

	if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM)
		return 0;
	if ((n = msg_rate_due(&l->accept_failed, LST_EMFILE_WARN_INTERVAL)) != 0)
		msg_warn("%s: accept: %m (%llu time(s) so far; see \"File descriptors\" in "
			 "danepold(8))",
		    l->spec, n);
	return lst_stopping(l, LST_EMFILE_BACKOFF_MS);
}

static void *
lst_accept_main(void *arg)
{
	struct listener *l = arg;
	int fd;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = l->fd, .events = POLLIN },
			{ .fd = l->stop[0], .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			msg_error("%s: poll: %m", l->spec);
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & (POLLERR | POLLNVAL)) {
			msg_error("%s: the listening socket failed", l->spec);
			break;
		}
		/* accept4(), not accept(): daemon_fds.c interposes accept() for libmilter */
		if ((fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
			lst_dispatch(l, fd);
		else if (lst_accept_failed(l))
			break;
	}
	return NULL;
}

int
listener_start(struct listener *l, listener_fn fn, void *arg, const struct listener_limits *lim)
{
	int err;

	l->fn = fn;
	l->arg = arg;
	l->lim = *lim;
	if (l->lim.max_conns == 0)
		l->lim.max_conns = 1;
	if ((err = pthread_create(&l->tid, NULL, lst_accept_main, l)) != 0) {
		msg_error("%s: cannot start the accept thread: %s", l->spec, strerror(err));
		return -1;
	}
	l->started = 1;
	return 0;
}

void
listener_stop(struct listener *l)
{
	struct stat st;
	char b = 1;

	if (l == NULL)
		return;
	atomic_store(&l->stopping, 1);
	if (l->started) {
		if (write(l->stop[1], &b, 1) != 1)
			msg_error("%s: cannot signal the stop: %m", l->spec);
		pthread_join(l->tid, NULL);
	}
	close(l->fd);
	l->fd = -1;
	pthread_mutex_lock(&l->lock);
	while (l->active > 0)
		pthread_cond_wait(&l->idle, &l->lock);
	pthread_mutex_unlock(&l->lock);
	if (l->path && lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == l->ino &&
	    unlink(l->path) < 0)
		msg_debug("socket %s: not removed: %m", l->path);
	lst_free(l);
}

int
listener_fd(const struct listener *l)
{
	return l->fd;
}

/* ------------------------------------------------------------- I/O */

/* Mark c idle (evictable) or not; with idle 0, 1 when it was evicted. */
static int
lst_set_idle(struct lst_conn *lc, int idle)
{
	struct listener *l = lc->l;
	int evicted;

	pthread_mutex_lock(&l->lock);
	lc->idle = idle;
	if (idle)
		lc->idle_since = clock_now_ms();
	evicted = lc->evicted;
	pthread_mutex_unlock(&l->lock);
	return evicted;
}

/* How long this read may wait: the idle timeout before a request, what is
 * left of the request deadline within one. <= 0: the deadline passed. */
static long long
lst_wait_ms(struct lst_conn *lc, int idle)
{
	if (idle)
		return lc->l->lim.idle_ms;
	if (lc->req_start == 0)
		lc->req_start = clock_now_ms(); /* a pipelined request */
	return lc->req_start + lc->l->lim.request_ms - clock_now_ms();
}

/* The read ended without data: say why (rate-limited for deadlines). */
static long
lst_timed_out(struct lst_conn *lc, int idle)
{
	struct listener *l = lc->l;
	unsigned long long n;

	if (idle) {
		msg_debug("%s %lu: idle for %u ms: closing", lc->c.what, lc->c.id, l->lim.idle_ms);
		return LISTENER_TIMEOUT;
	}
	if ((n = msg_rate_due(&l->deadline, LST_WARN_INTERVAL)) != 0)
		msg_warn("%s %lu: request not complete within %u ms of its first byte: closing "
			 "(%llu such connection(s) so far)",
		    lc->c.what, lc->c.id, l->lim.request_ms, n);
	return LISTENER_DEADLINE;
}

/* Wait until c is readable, at most ms: 1, or a LISTENER_* result. */
static long
lst_wait_readable(struct lst_conn *lc, int idle, long long ms)
{
	struct pollfd p[2] = {
		{ .fd = lc->c.fd, .events = POLLIN },
		{ .fd = lc->c.stop_fd, .events = POLLIN },
	};
	int r;

	if (idle)
		lst_set_idle(lc, 1);
	do
		r = poll(p, 2, (int)ms);
	while (r < 0 && errno == EINTR);
	if (idle && lst_set_idle(lc, 0)) {
		msg_debug("%s %lu: closed for a new connection", lc->c.what, lc->c.id);
		return LISTENER_EVICTED;
	}
	if (r < 0)
		return LISTENER_ERROR;
	if (r == 0)
		return lst_timed_out(lc, idle);
	if (p[1].revents)
		return LISTENER_STOP;
	return 1;
}

/* read(2) up to n bytes, without waiting when nowait; EINTR retried. */
static ssize_t
lst_recv(int fd, char *p, size_t n, int nowait)
{
	ssize_t r;

	do
		r = recv(fd, p, n, nowait ? MSG_DONTWAIT : 0);
	while (r < 0 && errno == EINTR);
	return r;
}

/*
 * Reading first and polling only when nothing is there saves a poll(2)
 * when bytes are likely waiting: the last read filled its chunk (a
 * pipelining client). A request/response client (Postfix) sends nothing
 * before its reply, so there poll(2) comes first, as the wait it is.
 * Once the listener stops, every read polls (and sees the stop pipe), so
 * a client that never pauses cannot keep its connection past the stop.
 */
long
listener_read(struct listener_conn *c, struct buf *b, size_t max)
{
	struct lst_conn *lc = (struct lst_conn *)c;
	int idle = b->len == 0;
	char tmp[LISTENER_READ_MAX];
	long long ms;
	ssize_t n = -1;
	long w;

	if (idle)
		lc->req_start = 0;
	if ((ms = lst_wait_ms(lc, idle)) <= 0)
		return lst_timed_out(lc, 0);
	if (max == 0)
		max = 1;
	if (max > sizeof(tmp))
		max = sizeof(tmp);
	if (lc->full && !atomic_load(&lc->l->stopping))
		n = lst_recv(c->fd, tmp, max, 1);
	if (n < 0 && (!lc->full || errno == EAGAIN || errno == EWOULDBLOCK)) {
		if ((w = lst_wait_readable(lc, idle, ms)) != 1)
			return w;
		n = lst_recv(c->fd, tmp, max, 0);
	}
	if (n < 0)
		return LISTENER_ERROR;
	lc->full = (size_t)n == max;
	if (n == 0)
		return LISTENER_EOF;
	if (idle)
		lc->req_start = clock_now_ms(); /* the deadline runs from the first byte */
	buf_append(b, tmp, (size_t)n);
	return (long)n;
}

void
listener_request_done(struct listener_conn *c)
{
	((struct lst_conn *)c)->req_start = 0;
}

int
listener_write(struct listener_conn *c, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	/* send first: a socket buffer with room (nearly always) takes the reply
	 * at once; poll(2) only for a peer that does not read */
	while (n > 0) {
		struct pollfd pf = { .fd = c->fd, .events = POLLOUT };

		w = send(c->fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (poll(&pf, 1, LISTENER_WRITE_TIMEOUT) <= 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}
