/*
 * test_listener.c - danepold's stream listener (milter/listener.c) and
 * descriptor budget (milter/daemon_fds.c), with no network: the listener
 * is bound to a unix socket in a private temporary directory, and a test
 * handler records what listener_read() returned for each connection.
 *
 * Listener: a request/reply round trip; the idle timeout; the request
 * deadline running from a request's first byte; at the cap, the longest
 * idle connection closed for a new one (LISTENER_EVICTED), and a new one
 * closed at once when every connection is inside a request;
 * listener_stop() waking idle readers (LISTENER_STOP), waiting for every
 * handler and removing its socket file; a stale socket file replaced, a
 * live one refused. Budget: daemon_fds_plan() for a few RLIMIT_NOFILE
 * values, and the accept() cap refusing a connection at or above it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "daemon_fds.h"
#include "listener.h"

#define T_MAX	16

static char dir[] = "/tmp/danepol-lst.XXXXXX";
static char path[256], spec[300];

/* What the handler saw, per connection (by id), under mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long result[T_MAX + 1];		/* last listener_read() result; 1: echoed */
static int reading[T_MAX + 1];		/* about to wait in listener_read() */
static int done[T_MAX + 1];
static int ndone;

static void
setup(void)
{
	strcpy(dir, "/tmp/danepol-lst.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	memset(result, 0, sizeof(result));
	memset(reading, 0, sizeof(reading));
	memset(done, 0, sizeof(done));
	ndone = 0;
}

static void
teardown(void)
{
	unlink(path);
	rmdir(dir);
}

TestSuite(listener, .init = setup, .fini = teardown, .timeout = 60);

/*
 * The handler: reads until a "\n", answers the line back, and goes on;
 * records the result that ended the connection.
 */
static void
handler(struct listener_conn *c, void *arg)
{
	struct buf in;
	long r;
	char *nl;

	(void)arg;
	buf_init(&in);
	for (;;) {
		if ((nl = memchr(in.s, '\n', in.len)) != NULL) {
			size_t n = (size_t)(nl - in.s) + 1;

			listener_write(c, in.s, n);
			memmove(in.s, in.s + n, in.len - n + 1);
			in.len -= n;
			listener_request_done(c);
			continue;
		}
		pthread_mutex_lock(&mu);
		if (c->id <= T_MAX)
			reading[c->id]++;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		if ((r = listener_read(c, &in, 4096)) <= 0)
			break;
	}
	pthread_mutex_lock(&mu);
	if (c->id <= T_MAX) {
		result[c->id] = r;
		done[c->id] = 1;
	}
	ndone++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	buf_free(&in);
}

static struct listener *
start(unsigned max, unsigned idle_ms, unsigned request_ms)
{
	struct listener_limits lim = { max, idle_ms, request_ms };
	struct listener *l = listener_open(spec, "test", (uid_t)-1, NULL, 0600);

	cr_assert_not_null(l, "listener_open %s", spec);
	cr_assert_eq(listener_start(l, handler, NULL, &lim), 0);
	return l;
}

static int
dial(void)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "connect: %s",
	    strerror(errno));
	return fd;
}

/* Wait (at most 5 s) until connection id waits in listener_read() the n-th time. */
static void
await_reading(unsigned long id, int n)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&mu);
	while (reading[id] < n)
		if (pthread_cond_timedwait(&cv, &mu, &until) != 0)
			break;
	pthread_mutex_unlock(&mu);
	cr_assert_geq(reading[id], n, "connection %lu never read", id);
	poll(NULL, 0, 50);		/* from the handler's mark into poll(2) */
}

/* Wait (at most 5 s) until connection id's handler returned; its result. */
static long
await_done(unsigned long id)
{
	struct timespec until;
	long r;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&mu);
	while (!done[id])
		if (pthread_cond_timedwait(&cv, &mu, &until) != 0)
			break;
	cr_assert(done[id], "connection %lu did not end", id);
	r = result[id];
	pthread_mutex_unlock(&mu);
	return r;
}

/* Whether fd reaches end of file within ms (the server closed it). */
static int
closed_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b[64];

	while (poll(&p, 1, ms) > 0) {
		ssize_t n = read(fd, b, sizeof(b));

		if (n <= 0)
			return 1;
	}
	return 0;
}

Test(listener, round_trip_and_socket_file)
{
	struct listener *l = start(4, 5000, 5000);
	struct stat st;
	char b[16];
	int fd;

	cr_assert_eq(lstat(path, &st), 0);
	cr_expect(S_ISSOCK(st.st_mode));
	cr_expect_eq(st.st_mode & 0777, 0600);
	fd = dial();
	cr_assert_eq(write(fd, "ping\nnext\n", 10), 10);
	for (size_t got = 0; got < 10; ) {
		ssize_t n = read(fd, b + got, 10 - got);

		cr_assert_gt(n, 0);
		got += (size_t)n;
	}
	cr_expect_eq(memcmp(b, "ping\nnext\n", 10), 0, "both pipelined lines answered");
	close(fd);
	cr_expect_eq(await_done(1), LISTENER_EOF);
	listener_stop(l);
	cr_expect_neq(lstat(path, &st), 0, "the socket file is removed at stop");
}

Test(listener, idle_timeout)
{
	struct listener *l = start(4, 100, 5000);
	int fd = dial();

	cr_expect_eq(await_done(1), LISTENER_TIMEOUT);
	cr_expect(closed_within(fd, 1000));
	close(fd);
	listener_stop(l);
}

Test(listener, request_deadline_from_first_byte)
{
	struct listener *l = start(4, 5000, 150);
	struct timespec t0, t1;
	int fd = dial();
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(write(fd, "par", 3), 3);	/* no line end: the request stays open */
	poll(NULL, 0, 60);
	cr_assert_eq(write(fd, "t", 1), 1);	/* more bytes do not extend it */
	cr_expect_eq(await_done(1), LISTENER_DEADLINE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_expect_lt(ms, 1000, "deadline took %ld ms", ms);
	close(fd);
	listener_stop(l);
}

Test(listener, cap_evicts_longest_idle)
{
	struct listener *l = start(2, 10000, 10000);
	int a = dial(), b, c, d;
	char buf[8];

	await_reading(1, 1);
	b = dial();
	await_reading(2, 1);
	c = dial();				/* at the cap: 1 is the longest idle */
	cr_expect_eq(await_done(1), LISTENER_EVICTED);
	cr_expect(closed_within(a, 1000));
	await_reading(3, 1);
	cr_assert_eq(write(c, "x\n", 2), 2);	/* the new one is served */
	cr_assert_eq(read(c, buf, 2), 2);
	await_reading(3, 2);
	d = dial();				/* now 2 is the longest idle */
	cr_expect_eq(await_done(2), LISTENER_EVICTED);
	pthread_mutex_lock(&mu);
	cr_expect_eq(done[3], 0, "3 stays");
	pthread_mutex_unlock(&mu);
	close(a);
	close(b);
	close(c);
	close(d);
	listener_stop(l);
}

Test(listener, cap_with_everyone_busy_refuses)
{
	struct listener *l = start(2, 10000, 10000);
	int a = dial(), b, c;

	await_reading(1, 1);
	cr_assert_eq(write(a, "half", 4), 4);	/* inside a request: not idle */
	await_reading(1, 2);
	b = dial();
	await_reading(2, 1);
	cr_assert_eq(write(b, "half", 4), 4);
	await_reading(2, 2);
	c = dial();
	cr_expect(closed_within(c, 2000), "the new connection is closed at once");
	pthread_mutex_lock(&mu);
	cr_expect_eq(done[1] + done[2], 0, "busy connections are not evicted");
	pthread_mutex_unlock(&mu);
	close(c);
	listener_stop(l);
	close(a);
	close(b);
}

Test(listener, stop_wakes_and_waits)
{
	struct listener *l = start(8, 60000, 60000);
	int fd[3];

	for (int i = 0; i < 3; i++) {
		fd[i] = dial();
		await_reading((unsigned long)i + 1, 1);
	}
	listener_stop(l);			/* returns only when every handler returned */
	pthread_mutex_lock(&mu);
	cr_expect_eq(ndone, 3);
	for (int i = 1; i <= 3; i++)
		cr_expect_eq(result[i], LISTENER_STOP, "connection %d: %ld", i, result[i]);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
}

Test(listener, stale_and_live_socket_files)
{
	struct listener *l = start(2, 1000, 1000), *again;
	int fd;

	again = listener_open(spec, "test", (uid_t)-1, NULL, 0600);
	cr_expect_null(again, "a live socket is not taken over");
	listener_stop(l);
	/* a stale socket file: bound, never served */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, path);
		cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	}
	close(fd);
	again = listener_open(spec, "test", (uid_t)-1, NULL, 0600);
	cr_expect_not_null(again, "a stale socket file is replaced");
	listener_stop(again);
	/* not a socket: left alone */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	cr_expect_null(listener_open(spec, "test", (uid_t)-1, NULL, 0600));
	cr_expect_eq(access(path, F_OK), 0, "a regular file is not removed");
}

/* ------------------------------------------------------ descriptor budget */

static struct rlimit saved;

static void
fds_setup(void)
{
	getrlimit(RLIMIT_NOFILE, &saved);
}

static void
fds_teardown(void)
{
	setrlimit(RLIMIT_NOFILE, &saved);
}

TestSuite(fds, .init = fds_setup, .fini = fds_teardown);

static void
plan_at(rlim_t soft, unsigned nlisteners, struct daemon_fds *b)
{
	struct rlimit rl = { soft, saved.rlim_max };

	if (soft > saved.rlim_max)
		cr_skip_test("hard RLIMIT_NOFILE %lu below %lu", (unsigned long)saved.rlim_max,
		    (unsigned long)soft);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	daemon_fds_plan(nlisteners, b);
}

Test(fds, plan_1024_two_listeners)
{
	struct daemon_fds b;

	plan_at(1024, 2, &b);
	cr_expect_eq(b.limit, 1024);
	cr_expect_eq(b.dns, 512, "the resolver up to half");
	cr_expect_eq(b.listener_max, 128);
	cr_expect_eq(b.listeners, 2 * (128 + LISTENER_EVICT_SLACK(128)));
	cr_expect_eq(b.milter, 1024 - b.dns - b.listeners - b.fixed);
	cr_expect_eq(b.dns + b.listeners + b.fixed + b.milter, b.limit, "everything shared out");
}

Test(fds, plan_large_caps_listeners)
{
	struct daemon_fds b;

	plan_at(16384, 1, &b);
	cr_expect_eq(b.listener_max, LISTENER_MAX_CONNS);
	cr_expect_eq(b.milter, 16384 - 8192 - (LISTENER_MAX_CONNS
	    + LISTENER_EVICT_SLACK(LISTENER_MAX_CONNS)) - b.fixed);
}

Test(fds, plan_tiny_keeps_a_milter_minimum)
{
	struct daemon_fds b;

	plan_at(64, 2, &b);
	cr_expect_eq(b.listener_max, 8, "at least 8 per listener");
	cr_expect_gt(b.milter, 0);
	cr_expect_leq(b.milter, 64);
}

Test(fds, accept_cap)
{
	struct daemon_fds b = { 0 };
	struct sockaddr_un sun;
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0), c1, c2, fd;

	strcpy(dir, "/tmp/danepol-lst.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", dir);
	snprintf(path, sizeof(path), "%s", sun.sun_path);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(lfd, 4), 0);
	c1 = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(connect(c1, (struct sockaddr *)&sun, sizeof(sun)), 0);
	fd = accept(lfd, NULL, NULL);		/* not armed: any descriptor */
	cr_expect_geq(fd, 0);
	close(fd);
	close(c1);
	b.milter = (unsigned long)lfd + 1;	/* the next descriptor is over the budget */
	daemon_fds_install(&b);
	c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(connect(c2, (struct sockaddr *)&sun, sizeof(sun)), 0);
	errno = 0;
	cr_expect_eq(accept(lfd, NULL, NULL), -1);
	cr_expect_eq(errno, ECONNABORTED, "libmilter goes on after ECONNABORTED");
	cr_expect(closed_within(c2, 1000), "the refused connection is closed");
	b.milter = 0;
	daemon_fds_install(&b);			/* disarmed again */
	close(c2);
	close(lfd);
	unlink(path);
	rmdir(dir);
}
