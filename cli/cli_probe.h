/*
 * cli_probe.h - `danepol probe` (cli_probe.c), the STARTTLS DANE probe
 * of destinations from the command line. Conventions of cli.h.
 */
#ifndef DANEPOL_CLI_PROBE_H
#define DANEPOL_CLI_PROBE_H

#include <stdio.h>

#include "cli.h"

/* Exit statuses of `danepol probe` below 64 (danepol(1), PROBE). */
#define CLI_PROBE_OK	     0 /* every reportable session succeeded */
#define CLI_PROBE_FAILURE    1 /* at least one RFC 8460 failure */
#define CLI_PROBE_ALL_FAILED 2 /* a destination whose every DANE host failed authentication */
#define CLI_PROBE_NOTHING    3 /* no session could be established at all (transient only) */

/**
 * cli_probe - `danepol probe [-c FILE] [--json] [--port N] DOMAIN...`:
 * decide each domain, probe its MX hosts (probe/probe.h), print the
 * outcome of every address (human text, or one JSON object per domain
 * and line with --json, doc/probe.schema.json). Returns the most severe
 * CLI_PROBE_* over the domains, or EX_USAGE, EX_CONFIG,
 * EX_UNAVAILABLE, EX_SOFTWARE.
 */
int cli_probe(const struct cli_global *g, int argc, char **argv);

/** The usage text of `danepol probe`. */
void cli_probe_usage(FILE *fp);

#endif
