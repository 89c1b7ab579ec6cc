/*
 * cli_control.h - `danepol query` and `danepol stats` (cli_control.c):
 * ask the running danepold over its control socket (control_socket, or
 * -S SOCKET). Request and reply: danepold(8) "Control socket",
 * doc/query.schema.json.
 */
#ifndef DANEPOL_CLI_CONTROL_H
#define DANEPOL_CLI_CONTROL_H

#include <stdio.h>

#include "cli.h"

/**
 * cli_query - `danepol query [-c FILE] [-S SOCKET] DOMAIN...`: one
 * request per DOMAIN, each reply printed as one JSON line. Returns the
 * most severe verdict (CLI_EX_REQUIRE..CLI_EX_REJECT, as danepol check),
 * or EX_USAGE, EX_DATAERR (the daemon refused the request),
 * EX_UNAVAILABLE (daemon not reachable, not ready), EX_NOPERM (socket
 * not accessible), EX_PROTOCOL (no or a bad reply), EX_CONFIG.
 */
int cli_query(const struct cli_global *g, int argc, char **argv);
void cli_query_usage(FILE *fp);

/** cli_stats - `danepol stats [-c FILE] [-S SOCKET]`: the counters as one
 *  JSON line. 0, or the errors of cli_query. */
int cli_stats(const struct cli_global *g, int argc, char **argv);
void cli_stats_usage(FILE *fp);

#endif
