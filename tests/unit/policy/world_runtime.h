/*
 * world_runtime.h - a policy runtime over the offline test world, for the
 * unit tests that decide through policy_run (test_world, the milter front
 * door tests). Test threads only.
 */
#ifndef DANEPOL_TEST_WORLD_RUNTIME_H
#define DANEPOL_TEST_WORLD_RUNTIME_H

#include "policy_run.h"
#include "world.h"

/*
 * world_runtime - parse world_conf_text(w, extra) and start a runtime on
 * it; a criterion assertion fails the test when either step fails. The
 * caller frees the runtime (policy_run_free(), which frees the conf).
 */
struct policy_runtime *world_runtime(const struct world *w, const char *extra);

#endif
