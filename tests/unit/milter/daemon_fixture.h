/*
 * daemon_fixture.h - the shared fixture of danepold's front-door unit
 * tests (test_milter.c, test_socketmap.c, test_exim.c, test_snapshot.c):
 * the offline DNSSEC test world (tests/unit/dns/world.h), runtimes built
 * from a small configuration over it, installed as the current snapshot
 * (milter/snapshot.h), and an audit log in a temporary file that the
 * tests read back.
 *
 * Suites declare
 *   TestSuite(name, .init = dfx_setup, .fini = dfx_teardown);
 * dfx_setup() skips the test when the world is not available (WORLD_DIR
 * unset: run through make check), opens the audit log and installs the
 * default snapshot (dfx_install(NULL)); dfx_teardown() drops the snapshot
 * and the audit log and stops the world. The helpers assert with
 * criterion: call them from the test's own thread only. For unit tests
 * only.
 */
#ifndef DANEPOL_TEST_DAEMON_FIXTURE_H
#define DANEPOL_TEST_DAEMON_FIXTURE_H

#include <jansson.h>

#include "policy_run.h"

/** Suite .init: world, audit log, snapshot of the default configuration. */
void dfx_setup(void);
/** Suite .fini: snapshot shut down, audit log closed and removed, world stopped. */
void dfx_teardown(void);

/** A runtime over the world with the extra configuration lines (may be
 *  NULL); the caller owns it (policy_run_free() or snapshot_install()). */
struct policy_runtime *dfx_runtime(const char *extra);

/** snapshot_install(dfx_runtime(extra)). */
void dfx_install(const char *extra);

/** Every audit line written so far, parsed (a JSON array; caller decrefs). */
json_t *dfx_audit_lines(void);

/** The last audit line whose "event" is event (a new reference, caller
 *  decrefs), or NULL when there is none. */
json_t *dfx_audit_last(const char *event);

/** How many audit lines have "event" event. */
size_t dfx_audit_count(const char *event);

/** Member key of the decision of line (its "decision" object) as a string, or NULL. */
const char *dfx_decision_str(json_t *line, const char *key);

#endif
