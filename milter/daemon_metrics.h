/*
 * daemon_metrics.h - danepold's counters as operators read them
 * (daemon_metrics.c): the label names of lib/stats.h's indices, the
 * Prometheus text exposition served on metrics_socket by libmicrohttpd,
 * and the same numbers as JSON for the control socket's "stats"
 * (`danepol stats`). Every metric family, its type, labels and meaning:
 * doc/metrics.md.
 *
 * Contract: the renderers and the counting helpers are thread-safe (they
 * read lib/stats.h atomics and the current snapshot's cache size). The
 * metrics listener is opened as root before the privilege drop
 * (daemon_metrics_open), started after the signals are blocked, so the
 * libmicrohttpd thread never takes SIGHUP (daemon_metrics_start), and
 * stopped once at exit (daemon_metrics_stop), from the main thread.
 */
#ifndef DANEPOL_MILTER_DAEMON_METRICS_H
#define DANEPOL_MILTER_DAEMON_METRICS_H

#include <sys/types.h>

#include <jansson.h>

#include "buf.h"

struct probe_result;

/* Front doors: the label values of danepol_connections_total{door}. */
enum daemon_metrics_door {
	DAEMON_METRICS_MILTER,
	DAEMON_METRICS_SOCKETMAP,
	DAEMON_METRICS_EXIM,
	DAEMON_METRICS_CONTROL,
	DAEMON_METRICS_NDOORS
};

/** Count the addresses of a finished background probe by RFC 8460 result
 *  type (success, transient, or the failure's result type). */
void daemon_metrics_probe(const struct probe_result *r);

/** Append the Prometheus text exposition (format 0.0.4) to out. */
void daemon_metrics_text(struct buf *out);

/** The same numbers as a JSON object (caller owns the reference). */
json_t *daemon_metrics_json(void);

/** The metric family names daemon_metrics_text() writes, NULL-terminated
 *  (for tests and doc/metrics.md). Static. */
const char *const *daemon_metrics_families(void);

struct daemon_metrics;

/**
 * Bind spec ("inet:PORT@HOST", "unix:PATH", ...) with the ids and mode of
 * the other sockets (listener.h: listener_open). NULL after logging.
 */
struct daemon_metrics *daemon_metrics_open(const char *spec, uid_t uid, const char *group,
    unsigned mode);

/** Serve GET /metrics on it (libmicrohttpd's own thread). 0, or -1 after logging. */
int daemon_metrics_start(struct daemon_metrics *m);

/** Stop serving, close and remove the socket, free. NULL: no-op. */
void daemon_metrics_stop(struct daemon_metrics *m);

#endif
