/*
 * stspol.c - the table sts_policies (contract in stspol.h): the checks
 * here, the rows in the store's backend (store_backend.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "stspol.h"
#include "store_backend.h"

static int
check(const char *what, const char *v, size_t max, int may_be_empty, char **err)
{
	const char *why = "empty";

	if (v == NULL || (v[0] == 0 && !may_be_empty) || store_text_check(v, max, &why) < 0) {
		*err = xasprintf("sts_policies: %s refused: %s", what, why);
		return -1;
	}
	return 0;
}

int
stspol_put(struct store *s, const struct stspol_row *r, char **err)
{
	const struct store_ops *ops;
	void *b;

	*err = NULL;
	if (check("domain", r->domain, 253, 0, err) < 0 || check("id", r->id, 32, 0, err) < 0 ||
	    check("mode", r->mode, 16, 0, err) < 0 || check("mx", r->mx, STSPOL_MAX_MX, 1, err) < 0)
		return -1;
	ops = store_backend(s, &b);
	return ops->stspol_put(b, r, err);
}

int
stspol_get(struct store *s, const char *domain, struct stspol_row *r, char **err)
{
	const struct store_ops *ops;
	void *b;
	int rc;

	memset(r, 0, sizeof(*r));
	*err = NULL;
	ops = store_backend(s, &b);
	rc = ops->stspol_get(b, domain, r, err);
	if (rc == 1 && (check("domain", r->domain, 253, 0, err) < 0 ||
			   check("id", r->id, 32, 0, err) < 0 ||
			   check("mode", r->mode, 16, 0, err) < 0 ||
			   check("mx", r->mx, STSPOL_MAX_MX, 1, err) < 0)) {
		stspol_row_clear(r);
		return -1;
	}
	if (rc < 0)
		stspol_row_clear(r);
	return rc;
}

void
stspol_row_clear(struct stspol_row *r)
{
	free(r->domain);
	free(r->id);
	free(r->mode);
	free(r->mx);
	memset(r, 0, sizeof(*r));
}
