/*
 * io.h - writing a whole buffer to a descriptor: EINTR and partial
 * writes handled in one place. io_write_once() for writers that must not
 * retry a short write (the audit log's one-write lines); io_write_all()
 * for blocking descriptors; io_write_until() for nonblocking sockets and
 * pipes with a deadline on the clock_now_ms() clock (lib/clock.h).
 *
 * Contract: no state, nothing allocated; any thread, one writer per
 * descriptor at a time. A socket is written with MSG_NOSIGNAL, so a peer
 * that has gone gives EPIPE, not SIGPIPE; a pipe's writer blocks SIGPIPE
 * itself.
 */
#ifndef DANEPOL_IO_H
#define DANEPOL_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/**
 * One write(2) of buf[0..len), retried only on EINTR (nothing written).
 * Returns what write(2) returned: the byte count, which may be short, or
 * -1 with errno.
 */
ssize_t io_write_once(int fd, const void *buf, size_t len);

/** All of buf[0..len) to fd, across EINTR and short writes. 0, or -1 with errno. */
int io_write_all(int fd, const void *buf, size_t len);

/**
 * Wait until fd has one of events (poll(2) flags) or deadline_ms
 * (clock_now_ms() clock) passes; EINTR waits on. 1 ready, 0 timed out
 * (errno ETIMEDOUT), -1 poll error (errno).
 */
int io_wait(int fd, short events, int64_t deadline_ms);

/**
 * All of buf[0..len) to fd by deadline_ms: waits for POLLOUT before each
 * write, so it suits nonblocking descriptors. A socket is written with
 * send(MSG_NOSIGNAL), anything else with write(2). 0, or -1 with errno
 * (ETIMEDOUT when the deadline passed).
 */
int io_write_until(int fd, const void *buf, size_t len, int64_t deadline_ms);

#endif
