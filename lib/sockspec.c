/*
 * sockspec.c - splitting "inet:PORT[@HOST]" / "inet6:PORT[@HOST]" (see
 * sockspec.h).
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "mem.h"
#include "sockspec.h"

int
sockspec_inet(const char *spec, int *family, char **port, char **host)
{
	const char *rest, *at;
	size_t hl;

	*port = *host = NULL;
	if (strncmp(spec, "inet:", 5) == 0) {
		rest = spec + 5;
		*family = AF_INET;
	} else if (strncmp(spec, "inet6:", 6) == 0) {
		rest = spec + 6;
		*family = AF_INET6;
	} else
		return -1;
	at = strchr(rest, '@');
	*port = xstrndup(rest, at ? (size_t)(at - rest) : strlen(rest));
	if (at == NULL)
		return 0;
	*host = xstrdup(at + 1);
	hl = strlen(*host);
	if (hl >= 2 && (*host)[0] == '[' && (*host)[hl - 1] == ']') {
		memmove(*host, *host + 1, hl - 2);
		(*host)[hl - 2] = 0;
	}
	return 0;
}
