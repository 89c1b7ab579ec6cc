/*
 * listener.h - danepold's generic stream listener for the socketmap and
 * Exim sockets (the milter socket is libmilter's own).
 *
 * listener_open() binds and listens on "unix:PATH" (also "local:PATH"),
 * "inet:PORT[@HOST]" or "inet6:PORT[@HOST]"; a unix socket is created with its
 * owner, group and mode by those ids (milter_proc_sock_enter(), milter.h) -
 * call it as root, before dropping privileges.
 * A stale unix socket file (nobody accepts on it) is removed; a live one,
 * or a path that is not a socket, is an error.
 *
 * listener_start() starts the accept thread. Each accepted connection
 * gets a detached thread running the handler; at most max_conns run at
 * once - a connection beyond that is accepted and closed at once, with a
 * (rate-limited) warning. listener_stop() stops accepting, wakes every
 * connection waiting for input (its read returns LISTENER_STOP), waits
 * until all handlers returned, closes and frees. Nothing polls in a loop
 * and nothing sleeps: waiting is poll(2) on the socket plus a stop pipe,
 * and a condition variable for the handlers to finish.
 */
#ifndef DANEPOL_MILTER_LISTENER_H
#define DANEPOL_MILTER_LISTENER_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define LISTENER_MAX_CONNS	256	/* connections served at once */
#define LISTENER_WRITE_TIMEOUT	10000	/* ms a reply may wait for the peer */

/* listener_read() results besides a byte count > 0. */
#define LISTENER_EOF		0
#define LISTENER_ERROR		(-1)
#define LISTENER_TIMEOUT	(-2)
#define LISTENER_STOP		(-3)

struct listener;

/* One connection, as the handler sees it (owned by the listener). */
struct listener_conn {
	int fd;				/* the connection; closed after the handler returns */
	int stop_fd;			/* readable once the listener stops */
	const char *what;		/* "socketmap", "exim": for log lines */
	unsigned long id;		/* connection number, for log lines */
};

/* A connection handler; returns when the connection is done. */
typedef void (*listener_fn)(struct listener_conn *c, void *arg);

/**
 * Bind and listen on spec for the service named what ("socketmap").
 * uid: owner for a unix socket when root ((uid_t)-1: leave); group
 * (NULL: leave) and mode as for the milter socket. Returns the listener
 * (free with listener_stop()), or NULL after logging.
 */
struct listener *listener_open(const char *spec, const char *what, uid_t uid,
    const char *group, unsigned mode);

/** Start the accept thread. Returns 0, or -1 after logging. */
int listener_start(struct listener *l, listener_fn fn, void *arg, unsigned max_conns);

/** Stop, await the handlers, remove a unix socket file, free. NULL: no-op. */
void listener_stop(struct listener *l);

/**
 * Append up to one read's worth of bytes (at most max) from c to b,
 * waiting at most timeout_ms. Returns the byte count, LISTENER_EOF,
 * LISTENER_ERROR, LISTENER_TIMEOUT or LISTENER_STOP.
 */
long listener_read(struct listener_conn *c, struct buf *b, size_t max, int timeout_ms);

/** Write all of p[0..n), waiting at most LISTENER_WRITE_TIMEOUT for the
 *  peer to take it. Returns 0, or -1 (the connection is unusable). */
int listener_write(struct listener_conn *c, const void *p, size_t n);

#endif
