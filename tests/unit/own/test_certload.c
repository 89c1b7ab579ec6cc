/*
 * test_certload.c - own/certload.c: certificates and keys from operator
 * files: the offline world's PKI (WORLD_DIR/pki: a PEM chain, DER made
 * here, private and public keys) and hostile files (a key that does not
 * match, garbage, empty, only other PEM blocks, over 1 MiB and 10 MB, 17
 * certificates). Files are written to a private temporary directory.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/pem.h>

#include "certload.h"
#include "mem.h"
#include "pki.h"

static char tmpdir[] = "/tmp/test_certload.XXXXXX";

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);

	cr_expect_eq(system(cmd), 0);
	free(cmd);
}

static char *
tmpfile_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *d;
	long n;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	d = xmalloc((size_t)n + 1);
	cr_assert_eq(fread(d, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return d;
}

static char *
write_file(const char *name, const void *data, size_t len)
{
	char *p = tmpfile_path(name);
	FILE *f = fopen(p, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	return p;
}

/* Load path expecting failure; returns the error (caller frees). */
static char *
load_fail(const char *path)
{
	struct certload c;
	char *err = NULL;

	cr_assert_eq(certload_file(path, &c, &err), -1, "%s loaded", path);
	cr_assert_not_null(err);
	cr_expect_eq(c.ncert, 0);
	cr_expect_null(c.key);
	cr_expect(strncmp(err, path, strlen(path)) == 0, "error names the file: %s", err);
	return err;
}

TestSuite(certload, .init = setup, .fini = teardown);

Test(certload, pem_chain)
{
	char *p = test_pki("ee-chain.crt"), *err = NULL, *subj;
	struct certload c;

	cr_assert_eq(certload_file(p, &c, &err), 0, "%s", err ? err : "");
	cr_expect_eq(c.ncert, 2);
	cr_expect_not_null(c.key);
	cr_expect_eq(c.has_private, 0);
	cr_expect_eq(c.key_only, 0);
	subj = certload_subject(c.cert[0]);
	cr_expect_str_eq(subj, "/CN=mx1.secure.example");
	free(subj);
	subj = certload_subject(c.cert[1]);
	cr_expect_str_eq(subj, "/CN=danepol test CA");
	free(subj);
	/* ee.crt is valid for 825 days from the world's build */
	cr_expect_gt(certload_not_after(c.cert[0]), (int64_t)time(NULL));
	cr_expect_eq(EVP_PKEY_eq(c.key, X509_get0_pubkey(c.cert[0])), 1);
	certload_clear(&c);
	cr_expect_eq(c.ncert, 0);
	certload_clear(&c);
	certload_clear(NULL);
	free(p);
}

Test(certload, pem_cert_with_its_key)
{
	char *crt = test_pki("ee.crt"), *key = test_pki("ee.key"), *err = NULL, *both;
	size_t n1, n2;
	char *a = slurp(crt, &n1), *b = slurp(key, &n2), *cat = xmalloc(n1 + n2);
	struct certload c;

	memcpy(cat, a, n1);
	memcpy(cat + n1, b, n2);
	both = write_file("both.pem", cat, n1 + n2);
	cr_assert_eq(certload_file(both, &c, &err), 0, "%s", err ? err : "");
	cr_expect_eq(c.ncert, 1);
	cr_expect_eq(c.has_private, 1);
	certload_clear(&c);
	free(crt), free(key), free(a), free(b), free(cat), free(both);
}

Test(certload, der_cert)
{
	char *p = test_pki("ee.crt"), *err = NULL, *der;
	struct certload c, d;
	unsigned char *buf = NULL;
	int n;

	cr_assert_eq(certload_file(p, &c, &err), 0);
	n = i2d_X509(c.cert[0], &buf);
	cr_assert_gt(n, 0);
	der = write_file("ee.der", buf, (size_t)n);
	cr_assert_eq(certload_file(der, &d, &err), 0, "%s", err ? err : "");
	cr_expect_eq(d.ncert, 1);
	cr_expect_eq(X509_cmp(c.cert[0], d.cert[0]), 0);
	certload_clear(&c);
	certload_clear(&d);
	OPENSSL_free(buf);
	free(p), free(der);
}

Test(certload, private_key_file)
{
	char *p = test_pki("ee.key"), *crt = test_pki("ee.crt"), *err = NULL;
	struct certload c, x;

	cr_assert_eq(certload_file(p, &c, &err), 0, "%s", err ? err : "");
	cr_expect_eq(c.ncert, 0);
	cr_expect_eq(c.key_only, 1);
	cr_expect_eq(c.has_private, 1);
	cr_assert_not_null(c.key);
	cr_assert_eq(certload_file(crt, &x, &err), 0);
	cr_expect_eq(EVP_PKEY_eq(c.key, x.key), 1);
	certload_clear(&c);
	certload_clear(&x);
	free(p), free(crt);
}

Test(certload, public_key_file)
{
	char *crt = test_pki("ee.crt"), *err = NULL, *pub, *der;
	struct certload c, k;
	unsigned char *buf = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	int dn;

	cr_assert_eq(certload_file(crt, &c, &err), 0);
	cr_assert_eq(PEM_write_bio_PUBKEY(b, c.key), 1);
	n = BIO_get_mem_data(b, &pem);
	pub = write_file("pub.pem", pem, (size_t)n);
	cr_assert_eq(certload_file(pub, &k, &err), 0, "%s", err ? err : "");
	cr_expect_eq(k.key_only, 1);
	cr_expect_eq(k.has_private, 0);
	cr_expect_eq(EVP_PKEY_eq(c.key, k.key), 1);
	certload_clear(&k);
	/* the same in DER */
	dn = i2d_PUBKEY(c.key, &buf);
	der = write_file("pub.der", buf, (size_t)dn);
	cr_assert_eq(certload_file(der, &k, &err), 0, "%s", err ? err : "");
	cr_expect_eq(k.key_only, 1);
	cr_expect_eq(EVP_PKEY_eq(c.key, k.key), 1);
	certload_clear(&k);
	certload_clear(&c);
	OPENSSL_free(buf);
	BIO_free(b);
	free(crt), free(pub), free(der);
}

Test(certload, key_not_matching_cert)
{
	char *crt = test_pki("ee.crt"), *key = test_pki("ss.key"), *bad, *err;
	size_t n1, n2;
	char *a = slurp(crt, &n1), *b = slurp(key, &n2), *cat = xmalloc(n1 + n2);

	memcpy(cat, a, n1);
	memcpy(cat + n1, b, n2);
	bad = write_file("mismatch.pem", cat, n1 + n2);
	err = load_fail(bad);
	cr_expect(strstr(err, "does not belong") != NULL, "%s", err);
	free(err);
	free(crt), free(key), free(a), free(b), free(cat), free(bad);
}

Test(certload, garbage)
{
	static const char junk[] = "\x30\x82\xff\xff garbage, not a certificate \x01\x02";
	static const char badpem[] = "-----BEGIN CERTIFICATE-----\nnot!base64@@\n"
				     "-----END CERTIFICATE-----\n";
	static const char bad_der_in_pem[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
					     "-----END CERTIFICATE-----\n";
	char *p, *err;

	p = write_file("junk", junk, sizeof(junk) - 1);
	err = load_fail(p);
	cr_expect(strstr(err, "neither PEM nor") != NULL, "%s", err);
	free(err), free(p);
	p = write_file("badpem", badpem, sizeof(badpem) - 1);
	err = load_fail(p);
	cr_expect(strstr(err, "PEM block 1") != NULL, "%s", err);
	free(err), free(p);
	p = write_file("badder", bad_der_in_pem, sizeof(bad_der_in_pem) - 1);
	err = load_fail(p);
	cr_expect(strstr(err, "not a valid certificate") != NULL, "%s", err);
	free(err), free(p);
}

Test(certload, empty_and_missing)
{
	char *p = write_file("empty", "", 0), *err;

	err = load_fail(p);
	cr_expect(strstr(err, "empty file") != NULL, "%s", err);
	free(err), free(p);
	p = tmpfile_path("does-not-exist");
	err = load_fail(p);
	cr_expect(strstr(err, "No such file") != NULL, "%s", err);
	free(err), free(p);
	err = load_fail(tmpdir);
	cr_expect(strstr(err, "not a regular file") != NULL, "%s", err);
	free(err);
}

Test(certload, only_other_blocks)
{
	static const char other[] = "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"
				    "-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----\n";
	char *p = write_file("other.pem", other, sizeof(other) - 1), *err;

	err = load_fail(p);
	cr_expect(strstr(err, "only other PEM blocks (X509 CRL, DH PARAMETERS)") != NULL, "%s", err);
	free(err), free(p);
}

static void
too_large(size_t size)
{
	char *p = tmpfile_path("big"), *err;
	FILE *f = fopen(p, "wb");
	struct certload c;

	cr_assert_not_null(f);
	cr_assert_eq(ftruncate(fileno(f), (off_t)size), 0);
	fclose(f);
	err = load_fail(p);
	cr_expect(strstr(err, "too large") != NULL, "%s", err);
	free(err), free(p);
	/* the memory entry point checks the size too */
	err = NULL;
	cr_expect_eq(certload_mem((const uint8_t *)"", size, "mem", &c, &err), -1);
	cr_expect(err && strstr(err, "mem: too large") != NULL);
	free(err);
}

Test(certload, over_one_mib)
{
	too_large(CERTLOAD_MAX_FILE + 1);
}

Test(certload, ten_mb)
{
	too_large(10 * 1000 * 1000);
}

Test(certload, exactly_one_mib_is_read)
{
	/* the limit itself is allowed: a PEM block padded with comments */
	char *crt = test_pki("ee.crt"), *p, *err = NULL;
	size_t n;
	char *a = slurp(crt, &n), *big = xmalloc(CERTLOAD_MAX_FILE);
	struct certload c;

	memset(big, '#', CERTLOAD_MAX_FILE);
	big[CERTLOAD_MAX_FILE - 1] = '\n';
	memcpy(big, a, n);
	big[n] = '\n';
	p = write_file("onemib", big, CERTLOAD_MAX_FILE);
	cr_assert_eq(certload_file(p, &c, &err), 0, "%s", err ? err : "");
	cr_expect_eq(c.ncert, 1);
	certload_clear(&c);
	free(crt), free(a), free(big), free(p);
}

Test(certload, seventeen_certs)
{
	char *crt = test_pki("ee.crt"), *p, *err = NULL;
	size_t n;
	char *a = slurp(crt, &n), *many = xmalloc(17 * n);
	struct certload c;

	for (int i = 0; i < 17; i++)
		memcpy(many + (size_t)i * n, a, n);
	p = write_file("sixteen", many, 16 * n);
	cr_assert_eq(certload_file(p, &c, &err), 0, "%s", err ? err : "");
	cr_expect_eq(c.ncert, 16);
	certload_clear(&c);
	free(p);
	p = write_file("seventeen", many, 17 * n);
	err = load_fail(p);
	cr_expect(strstr(err, "more than 16 certificates") != NULL, "%s", err);
	free(err), free(p), free(crt), free(a), free(many);
}

Test(certload, subject_of_nothing)
{
	X509 *x = X509_new();
	char *s = certload_subject(x);

	cr_expect_str_eq(s, "(no subject)");
	cr_expect_eq(certload_not_after(NULL), 0);
	free(s);
	X509_free(x);
}
