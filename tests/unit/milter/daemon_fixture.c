/*
 * daemon_fixture.c - the shared fixture of danepold's front-door unit
 * tests (contract in daemon_fixture.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "daemon_audit.h"
#include "daemon_fixture.h"
#include "mem.h"
#include "snapshot.h"
#include "world.h"
#include "world_runtime.h"

static struct world dfx_world;
static int dfx_world_ok;
static char dfx_dir[] = "/tmp/danepol-dfx.XXXXXX";
static char *dfx_audit_path;

struct policy_runtime *
dfx_runtime(const char *extra)
{
	return world_runtime(&dfx_world, extra);
}

void
dfx_install(const char *extra)
{
	snapshot_install(dfx_runtime(extra));
}

void
dfx_setup(void)
{
	struct audit_log *a;
	char *err = NULL;

	dfx_world_ok = world_start(&dfx_world, 200) == 0;
	if (!dfx_world_ok)
		cr_skip_test("offline world not available (WORLD_DIR unset?)");
	strcpy(dfx_dir, "/tmp/danepol-dfx.XXXXXX");
	cr_assert_not_null(mkdtemp(dfx_dir));
	dfx_audit_path = xasprintf("%s/audit.log", dfx_dir);
	a = audit_open(dfx_audit_path, AUDIT_SYNC_NONE, &err);
	cr_assert_not_null(a, "audit_open: %s", err ? err : "?");
	daemon_audit_set(a);
	dfx_install(NULL);
}

void
dfx_teardown(void)
{
	snapshot_shutdown();
	if (daemon_audit() != NULL) {
		audit_close(daemon_audit());
		daemon_audit_set(NULL);
	}
	if (dfx_audit_path != NULL) {
		unlink(dfx_audit_path);
		free(dfx_audit_path);
		dfx_audit_path = NULL;
		rmdir(dfx_dir);
	}
	if (dfx_world_ok)
		world_stop(&dfx_world);
	dfx_world_ok = 0;
}

json_t *
dfx_audit_lines(void)
{
	json_t *all = json_array();
	char line[1 << 16];
	FILE *fp = fopen(dfx_audit_path, "r");

	cr_assert_not_null(fp, "cannot read the audit log");
	while (fgets(line, sizeof(line), fp) != NULL) {
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);

		cr_assert_not_null(j, "audit line is not JSON (%s): %s", e.text, line);
		json_array_append_new(all, j);
	}
	fclose(fp);
	return all;
}

/* Whether line j has "event" event. */
static int
dfx_is(json_t *j, const char *event)
{
	const char *e = json_string_value(json_object_get(j, "event"));

	return e != NULL && strcmp(e, event) == 0;
}

json_t *
dfx_audit_last(const char *event)
{
	json_t *all = dfx_audit_lines(), *found = NULL, *j;
	size_t i;

	json_array_foreach(all, i, j) {
		if (dfx_is(j, event))
			found = j;
	}
	if (found)
		json_incref(found);
	json_decref(all);
	return found;
}

size_t
dfx_audit_count(const char *event)
{
	json_t *all = dfx_audit_lines(), *j;
	size_t i, n = 0;

	json_array_foreach(all, i, j) {
		if (dfx_is(j, event))
			n++;
	}
	json_decref(all);
	return n;
}

const char *
dfx_decision_str(json_t *line, const char *key)
{
	return json_string_value(json_object_get(json_object_get(line, "decision"), key));
}
