/*
 * smime_verify.c - (stub, being written) see smime_verify.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "smime_verify.h"

enum smime_sig
smime_verify_cms(const uint8_t *cms, size_t cms_len, const char *content, size_t content_len,
    const struct smime_limits *lim, struct smime_signer *s, char **why)
{
	(void)cms, (void)cms_len, (void)content, (void)content_len, (void)lim;
	memset(s, 0, sizeof(*s));
	*why = xstrdup("not implemented");
	return SMIME_SIG_MALFORMED;
}

enum smime_dane
smime_verify_dane(const struct smime_signer *s, const struct tlsa_rr *rr, size_t n,
    const char *addr, int *matched, X509 **issuer, char **why)
{
	(void)s, (void)rr, (void)n, (void)addr;
	*matched = -1;
	*issuer = NULL;
	*why = xstrdup("not implemented");
	return SMIME_DANE_NONE_USABLE;
}

void
smime_signer_clear(struct smime_signer *s)
{
	if (s == NULL)
		return;
	X509_free(s->cert);
	sk_X509_pop_free(s->certs, X509_free);
	free(s->addr);
	free(s->serial);
	free(s->issuer);
	memset(s, 0, sizeof(*s));
}

char *
smime_verify_owner(const char *addr, int wildcard, char **why)
{
	(void)addr, (void)wildcard;
	*why = xstrdup("not implemented");
	return NULL;
}
