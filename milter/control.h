/*
 * control.h - danepold's control socket (control.c): what `danepol
 * query DOMAIN` and `danepol stats` ask the running daemon. One request
 * line per connection ("query DOMAIN" / "stats", proto.h
 * proto_control_parse), one JSON line back (doc/query.schema.json),
 * then the connection closes.
 */
#ifndef DANEPOL_MILTER_CONTROL_H
#define DANEPOL_MILTER_CONTROL_H

#include <stddef.h>

struct listener_conn;

/**
 * Answer one request data[0..n) (the line without "\n") under the current
 * snapshot: a new JSON text without a line end (caller frees):
 *   query: {"request":"query","domain":D,"cached":B,"age_s":N,
 *           "generation":N,"decision":{doc/decision.schema.json}}
 *   stats: {"request":"stats", ...daemon_metrics_json()...}
 *   error: {"error":TEXT} (a bad request, or no snapshot yet)
 * A query decides through the cache as the front doors do (and counts as
 * a decision). Any thread.
 */
char *control_request(const char *data, size_t n);

/** Serve one control connection (a listener_fn; arg unused). */
void control_serve(struct listener_conn *c, void *arg);

#endif
