/*
 * pki.c - test_pki(): see pki.h.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "mem.h"
#include "pki.h"

char *
test_pki(const char *name)
{
	const char *w = getenv("WORLD_DIR");
	char *p;

	if (w == NULL)
		cr_skip_test("offline world not available (WORLD_DIR unset)");
	p = xasprintf("%s/pki/%s", w, name);
	if (access(p, R_OK) != 0)
		cr_skip_test("offline world not built (%s)", p);
	return p;
}
