/*
 * smime_ocsp.c - (stub, being written) see smime_ocsp.h.
 */
#include "config.h"

#include <stdlib.h>

#include "mem.h"
#include "smime_ocsp.h"

struct smime_ocsp_cache {
	size_t max;
};

struct smime_ocsp_cache *
smime_ocsp_cache_new(size_t max)
{
	struct smime_ocsp_cache *c = xcalloc(1, sizeof(*c));

	c->max = max ? max : 10000;
	return c;
}

void
smime_ocsp_cache_free(struct smime_ocsp_cache *c)
{
	free(c);
}

enum smime_ocsp
smime_ocsp_check(struct smime_ocsp_cache *cache, struct dns_resolver *res, X509 *cert,
    X509 *issuer, int64_t deadline_ms, unsigned timeout_ms, int *from_cache, char **why)
{
	(void)cache, (void)res, (void)cert, (void)issuer, (void)deadline_ms, (void)timeout_ms;
	*from_cache = 0;
	*why = xstrdup("not implemented");
	return SMIME_OCSP_ERROR;
}

const char *
smime_ocsp_name(enum smime_ocsp s)
{
	switch (s) {
	case SMIME_OCSP_GOOD:
		return "good";
	case SMIME_OCSP_REVOKED:
		return "revoked";
	case SMIME_OCSP_UNKNOWN:
		return "unknown";
	case SMIME_OCSP_NO_RESPONDER:
		return "no-responder";
	default:
		return "error";
	}
}
