/* placeholder until the PostgreSQL backend lands (branch pg-backend) */
#include "config.h"

#include <stdlib.h>

#include "mem.h"
#include "store_backend.h"

void *
store_pg_open(const char *conninfo, const char *shown, char **err)
{
	(void)conninfo;
	*err = xasprintf("%s: PostgreSQL support is not built", shown);
	return NULL;
}

const struct store_ops store_pg_ops = { .name = "postgresql" };
