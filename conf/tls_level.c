/*
 * tls_level.c - TLS level names (see tls_level.h).
 */
#include "config.h"

#include <string.h>

#include "tls_level.h"

static const char *const tls_level_names[] = {
	[TLS_LEVEL_NONE] = "none",
	[TLS_LEVEL_MAY] = "may",
	[TLS_LEVEL_ENCRYPT] = "encrypt",
	[TLS_LEVEL_DANE] = "dane",
	[TLS_LEVEL_DANE_ONLY] = "dane-only",
	[TLS_LEVEL_SECURE] = "secure",
};

#define TLS_LEVEL_COUNT (sizeof(tls_level_names) / sizeof(tls_level_names[0]))

const char *
tls_level_name(enum tls_level l)
{
	return (unsigned)l < TLS_LEVEL_COUNT ? tls_level_names[l] : "unknown";
}

int
tls_level_parse(const char *s, enum tls_level *l)
{
	for (size_t i = 0; i <= TLS_LEVEL_DANE_ONLY; i++) {
		if (strcmp(s, tls_level_names[i]) == 0) {
			*l = (enum tls_level)i;
			return 0;
		}
	}
	return -1;
}
