/*
 * smime_pki.c - see smime_pki.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "mem.h"
#include "pki.h"
#include "smime_pki.h"

char *
smime_pki_path(const char *name)
{
	char *rel = xasprintf("smime/%s", name), *p = test_pki(rel);

	free(rel);
	return p;
}

/* The file "NAME.ext" opened for reading (fails the test otherwise). */
static FILE *
open_pki(const char *name, const char *ext)
{
	char *rel = xasprintf("%s%s", name, ext), *p = smime_pki_path(rel);
	FILE *fp = fopen(p, "r");

	cr_assert_not_null(fp, "%s", p);
	free(rel);
	free(p);
	return fp;
}

X509 *
smime_pki_cert(const char *name)
{
	FILE *fp = open_pki(name, ".crt");
	X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);

	fclose(fp);
	cr_assert_not_null(x, "%s.crt", name);
	return x;
}

EVP_PKEY *
smime_pki_key(const char *name)
{
	FILE *fp = open_pki(name, ".key");
	EVP_PKEY *k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);

	fclose(fp);
	cr_assert_not_null(k, "%s.key", name);
	return k;
}

char *
smime_pki_line(const char *name)
{
	FILE *fp = open_pki(name, "");
	char line[512];

	cr_assert_not_null(fgets(line, sizeof(line), fp), "%s: empty", name);
	fclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	return xstrdup(line);
}

/* The certificates of NAME-chain.crt after the first (the CA). */
static STACK_OF(X509) *
chain_cas(const char *name)
{
	FILE *fp = open_pki(name, "-chain.crt");
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x;
	int first = 1;

	while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
		if (first)
			X509_free(x);
		else
			sk_X509_push(sk, x);
		first = 0;
	}
	ERR_clear_error();
	fclose(fp);
	return sk;
}

uint8_t *
smime_pki_sign(const char *name, const char *content, size_t len, int detached,
    size_t *der_len)
{
	X509 *cert = smime_pki_cert(name);
	EVP_PKEY *key = smime_pki_key(name);
	STACK_OF(X509) *cas = chain_cas(name);
	BIO *in = BIO_new_mem_buf(content, (int)len);
	CMS_ContentInfo *cms;
	unsigned char *der = NULL;
	int n;

	cms = CMS_sign(cert, key, cas, in, CMS_BINARY | (detached ? CMS_DETACHED : 0));
	cr_assert_not_null(cms, "CMS_sign %s", name);
	n = i2d_CMS_ContentInfo(cms, &der);
	cr_assert_gt(n, 0);
	*der_len = (size_t)n;
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	sk_X509_pop_free(cas, X509_free);
	EVP_PKEY_free(key);
	X509_free(cert);
	return der;
}
