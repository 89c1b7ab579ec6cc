/*
 * world_runtime.c - a policy runtime over the offline test world (see
 * world_runtime.h).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdlib.h>

#include "conf.h"
#include "world_runtime.h"

struct policy_runtime *
world_runtime(const struct world *w, const char *extra)
{
	char *text = world_conf_text(w, extra);
	char *err = NULL;
	struct conf *c = conf_parse(text, "test.conf", &err);
	struct policy_runtime *rt;

	cr_assert_not_null(c, "conf: %s", err ? err : "?");
	rt = policy_run_new(c, &err);
	cr_assert_not_null(rt, "runtime: %s", err ? err : "?");
	free(text);
	return rt;
}
