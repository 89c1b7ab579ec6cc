/*
 * policy_check.h - the configuration check shared by danepol and
 * danepold: `danepol check` (and probe, report) and `danepold -n`,
 * start-up and reload all load the file, check what policy_run_new()
 * would refuse for reasons of the configuration itself, build the
 * runtime and prove its trust anchor the same way, and map each failure
 * to the same <sysexits.h> status: EX_CONFIG for the configuration,
 * EX_UNAVAILABLE for a resolver that cannot start.
 *
 * Every failure is logged here (msg_error(), "file:line: reason"), so the
 * callers only exit. Any thread; nothing shared.
 */
#ifndef DANEPOL_POLICY_CHECK_H
#define DANEPOL_POLICY_CHECK_H

#include "conf.h"
#include "policy_run.h"
#include "policy_status.h"

/* policy_check_start() flags */
#define POLICY_CHECK_ANCHOR 0x1 /* prove the trust anchor (POLICY_ANCHOR_CHECK_MS) */
#define POLICY_CHECK_DAEMON \
	0x2 /* danepold's wording: a proven anchor at info level, an
					 * unproven one "going on", a resolver error on its own */

/**
 * The configuration: path when not NULL (must exist), else
 * DANEPOL_CONF_FILE when it exists, else the built-in defaults (caller
 * frees with conf_free()). NULL after logging the error; the caller
 * exits EX_CONFIG.
 */
struct conf *policy_check_load(const char *path);

/**
 * The status table of c with its status.* overrides applied (caller
 * frees with policy_status_table_free()); NULL with *err ("file:line:
 * status.REASON: why", caller frees).
 */
struct policy_status_table *policy_check_status(const struct conf *c, char **err);

/**
 * The checks of policy_run_new() that are about the configuration
 * itself, without starting a resolver: the status.* overrides and the
 * policy table (default_level was checked by conf_load()). 0, or -1 with
 * *err ("file:line: reason", caller frees).
 */
int policy_check_conf(const struct conf *c, char **err);

/**
 * Check c (policy_check_conf(), then the caller's own check also when
 * not NULL: it logs its error and returns -1), build its runtime
 * (policy_run_new(); c passes to the runtime, and is freed on every
 * failure) and, with POLICY_CHECK_ANCHOR, prove its trust anchor: an
 * anchor that validates nothing is a configuration error, one the
 * resolver cannot reach is only warned about. Returns the runtime
 * (caller frees with policy_run_free()), or NULL with *ex EX_CONFIG
 * or EX_UNAVAILABLE after logging why.
 */
struct policy_runtime *policy_check_start(struct conf *c, int flags,
    int (*also)(const struct conf *c), int *ex);

#endif
