/*
 * tlsa_gen.c - TLSA association data and owner names for the operator's
 * own records (tlsa_gen.h).
 *
 * The digests are EVP_Digest() over OpenSSL's own DER encodings
 * (i2d_X509, i2d_PUBKEY), so they are what every DANE verifier computes.
 * Ownership and threads: see tlsa_gen.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "dnsname.h"
#include "mem.h"
#include "tlsa_gen.h"

/* "S M HEX" of the len octets at der, digested per mtype; NULL on failure. */
static char *
gen_data(unsigned selector, unsigned mtype, const unsigned char *der, size_t len)
{
	static const char hexd[] = "0123456789ABCDEF";
	unsigned char md[EVP_MAX_MD_SIZE];
	const unsigned char *p;
	unsigned int mdlen = 0;
	size_t n, i;
	char *s, *o;

	switch (mtype) {
	case 0:
		p = der;
		n = len;
		break;
	case 1:
	case 2:
		if (EVP_Digest(der, len, md, &mdlen, mtype == 1 ? EVP_sha256() : EVP_sha512(),
			NULL) != 1)
			return NULL;
		p = md;
		n = mdlen;
		break;
	default:
		return NULL;
	}
	s = xmalloc(2 * n + 16);
	o = s + snprintf(s, 16, "%u %u ", selector, mtype);
	for (i = 0; i < n; i++) {
		*o++ = hexd[p[i] >> 4];
		*o++ = hexd[p[i] & 15];
	}
	*o = 0;
	return s;
}

char *
tlsa_gen_cert(X509 *x, unsigned selector, unsigned mtype)
{
	unsigned char *der = NULL;
	char *s = NULL;
	int n;

	if (x == NULL || selector > 1 || mtype > 2)
		return NULL;
	if (selector == 0)
		n = i2d_X509(x, &der);
	else
		n = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	if (n > 0)
		s = gen_data(selector, mtype, der, (size_t)n);
	OPENSSL_free(der);
	ERR_clear_error();
	return s;
}

char *
tlsa_gen_key(EVP_PKEY *k, unsigned mtype)
{
	unsigned char *der = NULL;
	char *s = NULL;
	int n;

	if (k == NULL || mtype > 2)
		return NULL;
	n = i2d_PUBKEY(k, &der);
	if (n > 0)
		s = gen_data(1, mtype, der, (size_t)n);
	OPENSSL_free(der);
	ERR_clear_error();
	return s;
}

X509 *
tlsa_gen_issuer(X509 *const *chain, size_t n, X509_STORE *store, int *in_chain)
{
	X509_STORE_CTX *ctx = NULL;
	X509 *leaf, *iss = NULL;

	if (in_chain != NULL)
		*in_chain = 0;
	if (chain == NULL || n == 0 || chain[0] == NULL)
		return NULL;
	leaf = chain[0];
	/* a self-signed leaf has no issuer to publish */
	if (X509_check_issued(leaf, leaf) == X509_V_OK)
		return NULL;
	for (size_t i = 1; i < n; i++) {
		if (chain[i] != NULL && X509_check_issued(chain[i], leaf) == X509_V_OK) {
			X509_up_ref(chain[i]);
			if (in_chain != NULL)
				*in_chain = 1;
			return chain[i];
		}
	}
	if (store == NULL)
		return NULL;
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, NULL) != 1)
		goto out;
	/* iss is a new reference (or NULL) */
	if (X509_STORE_CTX_get1_issuer(&iss, ctx, leaf) != 1)
		iss = NULL;
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return iss;
}

X509_STORE *
tlsa_gen_store(const char *path, char **err)
{
	X509_STORE *st = X509_STORE_new();
	int ok;

	if (err != NULL)
		*err = NULL;
	if (st == NULL) {
		if (err != NULL)
			*err = xstrdup("out of memory");
		return NULL;
	}
	if (path == NULL) {
		ok = X509_STORE_set_default_paths(st);
	} else {
		FILE *f = fopen(path, "r");

		if (f == NULL) {
			if (err != NULL)
				*err = xasprintf("%s: cannot be read: check the path", path);
			X509_STORE_free(st);
			return NULL;
		}
		fclose(f);
		/* a directory of hashed certificates, else a PEM bundle */
		ok = X509_STORE_load_locations(st, path, NULL);
		if (ok != 1)
			ok = X509_STORE_load_locations(st, NULL, path);
	}
	ERR_clear_error();
	if (ok != 1) {
		if (err != NULL)
			*err = xasprintf("%s: not a CA bundle or certificate directory",
			    path ? path : "(system CA store)");
		X509_STORE_free(st);
		return NULL;
	}
	return st;
}

char *
tlsa_gen_owner(const char *host, unsigned port, char **err)
{
	char canon[DNSNAME_MAX];
	const char *why = NULL;

	if (err != NULL)
		*err = NULL;
	if (host == NULL || dnsname_is_address_literal(host) ||
	    dnsname_normalize(host, 0, canon, &why) < 0 || canon[0] == 0) {
		if (err != NULL)
			*err = xasprintf("%s: not a host name (%s)", host ? host : "(null)",
			    why ? why : "the root or an address literal");
		return NULL;
	}
	if (port == 0 || port > 65535) {
		if (err != NULL)
			*err = xasprintf("%u: not a port", port);
		return NULL;
	}
	return xasprintf("_%u._tcp.%s.", port, canon);
}
