/*
 * listener.h - danepold's generic stream listener for the socketmap and
 * Exim sockets (the milter socket is libmilter's own).
 *
 * listener_open() binds and listens on "unix:PATH" (also "local:PATH"),
 * "inet:PORT[@HOST]" or "inet6:PORT[@HOST]"; a unix socket is created with its
 * owner, group and mode by those ids (daemon_proc_sock_enter(), daemon_proc.h) -
 * call it as root, before dropping privileges.
 * A stale unix socket file (nobody accepts on it) is removed; a live one,
 * or a path that is not a socket, is an error.
 *
 * listener_start() starts the accept thread. Each accepted connection
 * gets a detached thread running the handler; at most max_conns run at
 * once. A new connection at the cap closes the connection that has been
 * idle longest (waiting for a request's first byte, nothing unread), so
 * a flood of idle clients cannot lock out a client with a query; only
 * when every connection is inside a request is the new one closed at
 * once. Warnings about either are rate-limited. listener_read() bounds
 * the wait: idle_ms before a request's first byte, request_ms for the
 * whole request from its first byte (not per byte: a slow sender cannot
 * hold a connection longer). listener_stop() stops accepting, wakes every
 * connection waiting for input (its read returns LISTENER_STOP), waits
 * until all handlers returned, closes and frees. Nothing polls in a loop
 * and nothing sleeps: waiting is poll(2) on the socket plus a stop pipe,
 * and a condition variable for the handlers to finish. A read when bytes
 * are likely waiting (the previous one filled its chunk) and a write try
 * the socket first and poll(2) only when it would block.
 */
#ifndef DANEPOL_MILTER_LISTENER_H
#define DANEPOL_MILTER_LISTENER_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define LISTENER_MAX_CONNS	  256 /* connections served at once, at most */
/* Evicted connections still leaving may exceed max_conns by this much. */
#define LISTENER_EVICT_SLACK(max) ((max) / 8 + 2)
#define LISTENER_WRITE_TIMEOUT	  10000 /* ms a reply may wait for the peer */
#define LISTENER_READ_MAX	  16384 /* bytes one listener_read() adds, at most */

/* listener_read() results besides a byte count > 0. */
#define LISTENER_EOF	  0
#define LISTENER_ERROR	  (-1)
#define LISTENER_TIMEOUT  (-2)
#define LISTENER_STOP	  (-3)
#define LISTENER_DEADLINE (-4) /* the request took longer than request_ms */
#define LISTENER_EVICTED  (-5) /* closed, idle, to make room for a new one */

/* Limits of one listener (listener_start() copies them). */
struct listener_limits {
	unsigned max_conns;  /* connections at once (0 counts as 1) */
	unsigned idle_ms;    /* wait for a request's first byte */
	unsigned request_ms; /* a whole request, from its first byte */
};

struct listener;

/* One connection, as the handler sees it (owned by the listener). */
struct listener_conn {
	int fd;		  /* the connection; closed after the handler returns */
	int stop_fd;	  /* readable once the listener stops */
	const char *what; /* "socketmap", "exim": for log lines */
	unsigned long id; /* connection number, for log lines */
};

/* A connection handler; returns when the connection is done. */
typedef void (*listener_fn)(struct listener_conn *c, void *arg);

/**
 * Bind and listen on spec for the service named what ("socketmap").
 * uid: owner for a unix socket when root ((uid_t)-1: leave); group
 * (NULL: leave) and mode as for the milter socket. Returns the listener
 * (free with listener_stop()), or NULL after logging.
 */
struct listener *listener_open(const char *spec, const char *what, uid_t uid, const char *group,
    unsigned mode);

/** Start the accept thread with the limits lim. Returns 0, or -1 after logging. */
int listener_start(struct listener *l, listener_fn fn, void *arg,
    const struct listener_limits *lim);

/** Stop, await the handlers, remove a unix socket file, free. NULL: no-op. */
void listener_stop(struct listener *l);

/** The listening descriptor of l, for a server library that accepts on it
 *  itself instead of listener_start() (daemon_metrics.c: libmicrohttpd);
 *  still owned by l: listener_stop() closes it. */
int listener_fd(const struct listener *l);

/**
 * Append up to one read's worth of bytes (at most max, and at most
 * LISTENER_READ_MAX) from c to b, from
 * the handler's thread. b holds the unanswered input: empty means the
 * connection is idle (it waits at most idle_ms, and may be evicted:
 * LISTENER_EVICTED); otherwise a request is in progress and the wait
 * ends at its deadline, request_ms after its first byte
 * (LISTENER_DEADLINE, logged rate-limited). Returns the byte count,
 * LISTENER_EOF, LISTENER_ERROR, LISTENER_TIMEOUT (idle), LISTENER_STOP,
 * LISTENER_DEADLINE or LISTENER_EVICTED.
 */
long listener_read(struct listener_conn *c, struct buf *b, size_t max);

/** A request was answered: the deadline of the next one (bytes already in
 *  the buffer included) starts at the next listener_read(). */
void listener_request_done(struct listener_conn *c);

/** Write all of p[0..n), waiting at most LISTENER_WRITE_TIMEOUT for the
 *  peer to take it. Returns 0, or -1 (the connection is unusable). */
int listener_write(struct listener_conn *c, const void *p, size_t n);

#endif
