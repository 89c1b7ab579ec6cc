/*
 * io.c - write-all and its deadline variant (contract in io.h).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "io.h"

/*
 * The loop of io_write_all() (timed 0: write(2), blocking) and
 * io_write_until() (timed 1: wait for POLLOUT by deadline_ms before each
 * write, EAGAIN waits again, a socket gets send(MSG_NOSIGNAL)).
 */
static int
write_loop(int fd, const char *s, size_t len, int timed, int64_t deadline_ms)
{
	int sock = timed;

	while (len > 0) {
		ssize_t w;

		if (timed && io_wait(fd, POLLOUT, deadline_ms) <= 0)
			return -1;
		w = sock ? send(fd, s, len, MSG_NOSIGNAL) : write(fd, s, len);
		if (w < 0 && sock && errno == ENOTSOCK) {
			sock = 0;
			continue;
		}
		if (w < 0 &&
		    (errno == EINTR || (timed && (errno == EAGAIN || errno == EWOULDBLOCK))))
			continue;
		if (w <= 0)
			return -1;
		s += w;
		len -= (size_t)w;
	}
	return 0;
}

ssize_t
io_write_once(int fd, const void *buf, size_t len)
{
	ssize_t w;

	do
		w = write(fd, buf, len);
	while (w < 0 && errno == EINTR);
	return w;
}

int
io_write_all(int fd, const void *buf, size_t len)
{
	return write_loop(fd, buf, len, 0, 0);
}

int
io_wait(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		int64_t left = deadline_ms - clock_now_ms();
		struct pollfd pfd = { fd, events, 0 };
		int rc;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return 0;
		}
		rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

int
io_write_until(int fd, const void *buf, size_t len, int64_t deadline_ms)
{
	return write_loop(fd, buf, len, 1, deadline_ms);
}
