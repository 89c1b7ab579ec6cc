/*
 * exim.h - danepold's Exim front door (exim.c): the ${readsocket} line
 * protocol (requests and replies in proto.h).
 */
#ifndef DANEPOL_MILTER_EXIM_H
#define DANEPOL_MILTER_EXIM_H

#include <stddef.h>

struct listener_conn;

/**
 * Answer one request line p[0..n) (without its "\n"; a trailing "\r" is
 * ignored; n at most PROTO_EXIM_LINE_MAX) under the current snapshot:
 * the reply line without its line end (a new string the caller frees),
 * after writing its "exim-query" or "exim" audit line and, for an event
 * line, queueing its TLS outcome for the outcome store (daemon_store.h). id
 * numbers the connection in log lines. No I/O besides the audit log, the
 * store and the decision's DNS. Any thread.
 */
char *exim_request(const char *p, size_t n, unsigned long id);

/** Serve one Exim connection (a listener_fn; arg unused). */
void exim_serve(struct listener_conn *c, void *arg);

#endif
