/*
 * smime_mime.c - (stub, being written) see smime_mime.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "smime_mime.h"

int
smime_mime_parse(const char *msg, size_t len, const struct smime_limits *lim,
    struct smime_mime *m, char **why)
{
	(void)msg, (void)len, (void)lim;
	memset(m, 0, sizeof(*m));
	*why = xstrdup("not implemented");
	return -1;
}

void
smime_mime_clear(struct smime_mime *m)
{
	if (m == NULL)
		return;
	free(m->content);
	free(m->cms);
	free(m->from);
	memset(m, 0, sizeof(*m));
}

char *
smime_mime_from_addr(const char *v, size_t len, const char **why)
{
	(void)v, (void)len;
	*why = "not implemented";
	return NULL;
}
