/*
 * test_smime_mime.c - smime/smime_mime.c: the MIME walk to the first
 * S/MIME signed entity and the From: address.
 *
 * Real data: tests/unit/smime/data/ (OpenSSL's `cms -sign` output, see its
 * README): the content handed over must be the CRLF form of content.txt
 * and verify against the signature (CMS_verify, the signer's certificate
 * not checked), the cms bytes must equal `cms -cmsout -outform DER`.
 * Variants (LF, CRLF, x-pkcs7-*, nested, broken) are made from them here.
 * Hostile input: limits, broken structure, bad base64, junk.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/cms.h>
#include <openssl/x509.h>

#include "buf.h"
#include "mem.h"
#include "smime.h"
#include "smime_mime.h"

static char *
slurp(const char *name, size_t *len)
{
	char *path = xasprintf("%s/tests/unit/smime/data/%s", getenv("TOP_SRCDIR"), name);
	FILE *f = fopen(path, "rb");
	char *d;
	long n;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	d = xmalloc((size_t)n + 1);
	cr_assert_eq(fread(d, 1, (size_t)n, f), (size_t)n);
	d[n] = 0;
	fclose(f);
	free(path);
	*len = (size_t)n;
	return d;
}

/* s with every occurrence of from replaced by to. */
static char *
replace(const char *s, const char *from, const char *to)
{
	struct buf b;
	const char *p;

	buf_init(&b);
	while ((p = strstr(s, from)) != NULL) {
		buf_append(&b, s, (size_t)(p - s));
		buf_puts(&b, to);
		s = p + strlen(from);
	}
	buf_puts(&b, s);
	return buf_steal(&b);
}

static struct smime_limits
limits(void)
{
	struct smime_limits lim;

	smime_limits_default(&lim);
	return lim;
}

/* Parse with the default limits; expect success. */
static void
parse_ok(const char *msg, size_t len, struct smime_mime *m)
{
	struct smime_limits lim = limits();
	char *why = NULL;
	int rc = smime_mime_parse(msg, len, &lim, m, &why);

	cr_assert_eq(rc, 0, "parse: %s", why ? why : "?");
	cr_assert_null(why);
}

/* Parse with lim; expect an error that starts with want (returned: free). */
static void
parse_err(const char *msg, size_t len, const struct smime_limits *lim, const char *want)
{
	struct smime_mime m, zero;
	char *why = NULL;
	int rc = smime_mime_parse(msg, len, lim, &m, &why);

	memset(&zero, 0, sizeof(zero));
	cr_assert_eq(rc, -1, "parsed (want %s), kind %d part '%s'", want, m.kind, m.part);
	cr_assert_not_null(why);
	cr_expect_eq(strncmp(why, want, strlen(want)), 0, "why '%s', want '%s...'", why, want);
	cr_expect_eq(memcmp(&m, &zero, sizeof(m)), 0);
	free(why);
}

/* The CMS bytes verify (over content when detached), signer not checked. */
static int
cms_verifies(const uint8_t *der, size_t n, const char *content, size_t clen)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)n);
	BIO *in = content != NULL ? BIO_new_mem_buf(content, (int)clen) : NULL;
	X509_STORE *st = X509_STORE_new();
	int ok = cms != NULL &&
	    CMS_verify(cms, NULL, st, in, NULL, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1;

	CMS_ContentInfo_free(cms);
	BIO_free(in);
	X509_STORE_free(st);
	return ok;
}

/* A detached result as the fixtures make it: content, cms, From:. */
static void
expect_detached(const struct smime_mime *m, const char *part)
{
	size_t clen, dlen;
	char *c = slurp("content.txt", &clen), *d = slurp("detached.der", &dlen);
	char *want = replace(c, "\n", "\r\n");

	cr_assert_eq(m->kind, SMIME_MIME_DETACHED);
	cr_expect_str_eq(m->part, part);
	cr_assert_eq(m->content_len, strlen(want));
	cr_expect_eq(memcmp(m->content, want, m->content_len), 0, "content '%s'", m->content);
	cr_assert_eq(m->cms_len, dlen);
	cr_expect_eq(memcmp(m->cms, d, dlen), 0);
	cr_expect(cms_verifies(m->cms, m->cms_len, m->content, m->content_len));
	free(c);
	free(d);
	free(want);
}

Test(smime_mime, detached_openssl_output)
{
	size_t n;
	char *msg = slurp("detached.eml", &n);
	struct smime_mime m;

	parse_ok(msg, n, &m);
	expect_detached(&m, "");
	cr_expect_str_eq(m.from, "alice@example.org");
	cr_expect_null(m.from_why);
	cr_expect_eq(m.parts_seen, 3);
	cr_expect_eq(m.depth_seen, 1);
	smime_mime_clear(&m);
	cr_expect_null(m.content);
	smime_mime_clear(&m);
	smime_mime_clear(NULL);
	free(msg);
}

Test(smime_mime, detached_lf_and_crlf)
{
	const char *files[] = { "detached-lf.eml", "detached-crlf.eml" };

	for (size_t i = 0; i < 2; i++) {
		size_t n;
		char *msg = slurp(files[i], &n);
		struct smime_mime m;

		parse_ok(msg, n, &m);
		expect_detached(&m, "");
		cr_expect_str_eq(m.from, "alice@example.org");
		smime_mime_clear(&m);
		free(msg);
	}
}

Test(smime_mime, x_pkcs7_signature_and_case)
{
	size_t n;
	char *msg = slurp("detached.eml", &n);
	char *x = replace(msg, "application/pkcs7-signature", "application/x-pkcs7-signature");
	char *y = replace(msg, "protocol=\"application/pkcs7-signature\"",
	    "protocol=Application/PKCS7-Signature");
	char *z = replace(y, "multipart/signed", "Multipart/Signed");
	struct smime_mime m;

	parse_ok(x, strlen(x), &m);
	expect_detached(&m, "");
	smime_mime_clear(&m);
	parse_ok(z, strlen(z), &m);
	expect_detached(&m, "");
	smime_mime_clear(&m);
	free(msg);
	free(x);
	free(y);
	free(z);
}

Test(smime_mime, opaque_signed_data)
{
	size_t n, dlen;
	char *msg = slurp("opaque.eml", &n), *d = slurp("opaque.der", &dlen);
	char *x = replace(msg, "application/pkcs7-mime; smime-type=signed-data;",
	    "application/x-pkcs7-mime;");
	struct smime_mime m;

	parse_ok(msg, n, &m);
	cr_assert_eq(m.kind, SMIME_MIME_OPAQUE);
	cr_expect_str_eq(m.part, "");
	cr_expect_null(m.content);
	cr_assert_eq(m.cms_len, dlen);
	cr_expect_eq(memcmp(m.cms, d, dlen), 0);
	cr_expect(cms_verifies(m.cms, m.cms_len, NULL, 0));
	cr_expect_str_eq(m.from, "alice@example.org");
	smime_mime_clear(&m);
	/* x-pkcs7-mime without smime-type: signed too */
	cr_assert_neq(strcmp(x, msg), 0);
	parse_ok(x, strlen(x), &m);
	cr_assert_eq(m.kind, SMIME_MIME_OPAQUE);
	cr_expect_eq(memcmp(m.cms, d, dlen), 0);
	smime_mime_clear(&m);
	free(msg);
	free(d);
	free(x);
}

Test(smime_mime, not_signed_is_none)
{
	const char *msgs[] = {
		"From: a@example.org\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\n"
		"Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\n",
		"From: a@example.org\nContent-Type: application/pkcs7-mime; smime-type=\"Compressed-Data\"\n"
		"\nxx\n",
		"From: a@example.org\nContent-Type: application/pkcs7-mime; smime-type=certs-only\n\nxx\n",
		"From: a@example.org\nSubject: plain\n\nJust text.\n",
		"From: a@example.org\nContent-Type: text/plain\n\n--b\n--b--\n",
		/* an encrypted part ends the search before a signed one */
		"From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
		"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n\nxx\n--b\n"
		"Content-Type: application/pkcs7-mime\n\nMAA=\n--b--\n",
		/* PGP/MIME: a multipart like any other */
		"From: a@example.org\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\";"
		" boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n--b\n"
		"Content-Type: application/pgp-signature\n\n-----BEGIN PGP-----\n--b--\n",
	};

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct smime_mime m;

		parse_ok(msgs[i], strlen(msgs[i]), &m);
		cr_expect_eq(m.kind, SMIME_MIME_NONE, "message %zu", i);
		cr_expect_null(m.cms);
		cr_expect_null(m.content);
		cr_expect_str_eq(m.from, "a@example.org");
		smime_mime_clear(&m);
	}
}

/* The signed entity of detached.eml from its Content-Type line on. */
static char *
signed_entity(void)
{
	size_t n;
	char *msg = slurp("detached.eml", &n);
	char *e = xstrdup(strstr(msg, "Content-Type: multipart/signed"));

	free(msg);
	return e;
}

Test(smime_mime, nested_part_2_and_2_1)
{
	char *e = signed_entity();
	char *m1 = xasprintf("From: Alice <alice@example.org>\nContent-Type: multipart/mixed;"
			     " boundary=outer\n\npreamble\n--outer\nContent-Type: text/plain\n\nhi\n"
			     "--outer\n%s\n--outer--\nepilogue\n", e);
	char *m2 = xasprintf("From: alice@example.org\r\nContent-Type: multipart/mixed;"
			     " boundary=outer\r\n\r\n--outer\r\n\r\nno header\r\n--outer\r\n"
			     "Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
			     "--inner\r\n%s\r\n--inner\r\nContent-Type: text/html\r\n\r\n<p>\r\n"
			     "--inner--\r\n--outer--\r\n", e);
	struct smime_mime m;

	parse_ok(m1, strlen(m1), &m);
	expect_detached(&m, "2");
	cr_expect_eq(m.depth_seen, 2);
	smime_mime_clear(&m);
	parse_ok(m2, strlen(m2), &m);
	expect_detached(&m, "2.1");
	cr_expect_eq(m.depth_seen, 3);
	smime_mime_clear(&m);
	free(e);
	free(m1);
	free(m2);
}

/* The signed entity wrapped in k multipart/mixed levels. */
static char *
nest(const char *inner, unsigned k)
{
	char *s = xasprintf("From: a@example.org\n%s", inner);

	for (unsigned i = 0; i < k; i++) {
		char *t = xasprintf("Content-Type: multipart/mixed; boundary=b%u\n\n--b%u\n%s\n--b%u--\n",
		    i, i, s, i);

		free(s);
		s = t;
	}
	return s;
}

Test(smime_mime, depth_limit)
{
	char *e = signed_entity();
	char *ok = nest(e, 2), *deep = nest(e, 3);
	struct smime_limits lim = limits();
	struct smime_mime m;
	char *why = NULL;

	lim.max_depth = 3;
	cr_assert_eq(smime_mime_parse(ok, strlen(ok), &lim, &m, &why), 0, "%s", why);
	cr_expect_eq(m.kind, SMIME_MIME_DETACHED);
	cr_expect_str_eq(m.part, "1.1");
	smime_mime_clear(&m);
	parse_err(deep, strlen(deep), &lim, "nesting deeper than 3 levels");
	free(deep);
	/* hostile: 10000 levels, default limits */
	deep = nest("Content-Type: text/plain\n\nx\n", 10000);
	lim = limits();
	parse_err(deep, strlen(deep), &lim, "nesting deeper than 8 levels");
	free(ok);
	free(deep);
	free(e);
}

Test(smime_mime, parts_limit)
{
	struct smime_limits lim = limits();
	struct buf b;
	char *e = signed_entity();
	struct smime_mime m;

	buf_init(&b);
	buf_puts(&b, "From: a@example.org\nContent-Type: multipart/mixed; boundary=x\n\n");
	for (int i = 0; i < 150; i++)
		buf_puts(&b, "--x\nContent-Type: text/plain\n\npart\n");
	buf_puts(&b, "--x--\n");
	parse_err(b.s, b.len, &lim, "more than 100 MIME parts");
	/* found before the limit: the search stops there */
	buf_reset(&b);
	buf_printf(&b, "From: a@example.org\nContent-Type: multipart/mixed; boundary=x\n\n--x\n%s\n", e);
	for (int i = 0; i < 150; i++)
		buf_puts(&b, "--x\nContent-Type: text/plain\n\npart\n");
	buf_puts(&b, "--x--\n");
	parse_ok(b.s, b.len, &m);
	expect_detached(&m, "1");
	cr_expect_eq(m.parts_seen, 4);
	smime_mime_clear(&m);
	buf_free(&b);
	free(e);
}

Test(smime_mime, size_limit)
{
	size_t n;
	char *msg = slurp("detached.eml", &n);
	struct smime_limits lim = limits();
	char *want;

	lim.max_message = 1000;
	want = xasprintf("message of %zu bytes over smime_max_message 1000", n);
	parse_err(msg, n, &lim, want);
	lim.max_message = n;
	{
		struct smime_mime m;
		char *why = NULL;

		cr_expect_eq(smime_mime_parse(msg, n, &lim, &m, &why), 0);
		smime_mime_clear(&m);
	}
	free(want);
	free(msg);
}

Test(smime_mime, broken_multipart_signed)
{
	size_t n;
	char *msg = slurp("detached.eml", &n);
	struct smime_limits lim = limits();
	const char *b = "------D1BF24C8B472FA729B170198661F5C38";
	char *close = xasprintf("%s--", b), *three_by = xasprintf("%s\nContent-Type: text/plain\n\nx\n%s--", b, b);
	char *noclose = replace(msg, close, "");
	char *three = replace(msg, close, three_by);
	char *sigd = xasprintf("\n%s\nContent-Type: application/pkcs7-sig", b);
	char *one = xstrndup(msg, (size_t)(strstr(msg, sigd) - msg) + 1);
	char *one_closed = xasprintf("%s%s\n", one, close);
	char *nobnd = replace(msg, "boundary=\"----D1BF24C8B472FA729B170198661F5C38\"", "x=y");
	char *longb = replace(msg, "----D1BF24C8B472FA729B170198661F5C38",
	    "----D1BF24C8B472FA729B170198661F5C38D1BF24C8B472FA729B170198661F5C38abc");

	parse_err(noclose, strlen(noclose), &lim, "message: multipart/signed without its close delimiter");
	parse_err(three, strlen(three), &lim, "message: multipart/signed with 3 body parts, not 2");
	parse_err(one_closed, strlen(one_closed), &lim,
	    "message: multipart/signed with 1 body parts, not 2");
	parse_err(nobnd, strlen(nobnd), &lim, "message: multipart/signed without a boundary parameter");
	parse_err(longb, strlen(longb), &lim, "message: multipart/signed: boundary longer than 70");
	free(msg), free(close), free(three_by), free(noclose), free(three);
	free(sigd), free(one), free(one_closed), free(nobnd), free(longb);
}

Test(smime_mime, lenient_other_multiparts)
{
	char *e = signed_entity();
	/* no close delimiter: the end of the body ends the last part */
	char *m1 = xasprintf("From: a@example.org\nContent-Type: multipart/mixed; boundary=o\n\n"
			     "--o\nContent-Type: text/plain\n\nx\n--o\n%s", e);
	/* no boundary: nothing to walk */
	const char *m2 = "From: a@example.org\nContent-Type: multipart/mixed\n\n--o\nx\n";
	struct smime_mime m;

	parse_ok(m1, strlen(m1), &m);
	cr_expect_eq(m.kind, SMIME_MIME_DETACHED);
	cr_expect_str_eq(m.part, "2");
	smime_mime_clear(&m);
	parse_ok(m2, strlen(m2), &m);
	cr_expect_eq(m.kind, SMIME_MIME_NONE);
	smime_mime_clear(&m);
	free(e);
	free(m1);
}

Test(smime_mime, broken_base64)
{
	size_t n, dn;
	char *msg = slurp("detached.eml", &n);
	char *op = slurp("opaque.eml", &dn);
	struct smime_limits lim = limits();
	char *bad = replace(msg, "MIIDtQYJKoZIhvcNAQcCoIIDpjCCA6ICAQExDTALBglghkgBZQMEAgEwCwYJKoZI",
	    "MIIDtQYJKoZIhvcNAQcCoIIDpjCCA6ICAQExDTALBglghkgBZQ*EAgEwCwYJKoZI");
	char *dash = replace(msg, "MIIDtQYJKoZIhvcNAQcCoIIDpjCCA6ICAQExDTALBglghkgBZQMEAgEwCwYJKoZI",
	    "MIIDtQYJKoZIhvcNAQcCoIIDpjCCA6ICAQExDTALBglghkgBZQ-EAgEwCwYJKoZI");
	char *trunc = replace(msg, "a3W8nmUnAiEAo1zRxaJ4+Q0D6HnR++jS1GQS/SX3GPt/Uf/dmnKKMlw=",
	    "a3W8nmUnAiEAo1zRxaJ4+Q0D6HnR++jS1GQS/SX3GPt/Uf/dmnKKMl");
	char *after = replace(msg, "/Uf/dmnKKMlw=", "/Uf/dmnKKMlw=AAAA");
	char *obad = replace(op, "lULpAiBSx2UxAWWCLum", "lULpAiBSx2UxAWW.Lum");
	char *qp = replace(msg, "Content-Transfer-Encoding: base64", "Content-Transfer-Encoding: Quoted-Printable");

	cr_assert_neq(strcmp(bad, msg), 0);
	cr_assert_neq(strcmp(trunc, msg), 0);
	parse_err(bad, strlen(bad), &lim, "part 2: base64: invalid character at offset 50");
	parse_err(dash, strlen(dash), &lim, "part 2: base64: invalid character at offset 50");
	parse_err(trunc, strlen(trunc), &lim, "part 2: base64: ");
	parse_err(after, strlen(after), &lim, "part 2: base64: ");
	parse_err(obad, strlen(obad), &lim, "message: base64: invalid character at offset");
	parse_err(qp, strlen(qp), &lim, "part 2: Content-Transfer-Encoding quoted-printable");
	{
		const char nul[] = "Content-Type: application/pkcs7-mime\nContent-Transfer-Encoding: base64\n\nMII\0B";

		parse_err(nul, sizeof(nul) - 1, &lim, "message: base64: invalid character at offset 3");
	}
	free(msg), free(op), free(after), free(bad), free(dash), free(trunc), free(obad), free(qp);
}

Test(smime_mime, quoted_boundary_with_spaces_and_padding)
{
	const char *msg =
	    "From: a@example.org\n"
	    "Content-Type: multipart/signed;\n"
	    "\tprotocol=\"application/pkcs7-signature\"; micalg=sha-256; (a comment)\n"
	    "\tboundary=\"simple boundary\"\n"
	    "\n"
	    "--simple boundary  \t\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "hello\n"
	    "\n"
	    "--simple boundary\n"
	    "Content-Type: application/pkcs7-signature\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "AAEC\n A/8=\n"
	    "--simple boundary-- \n"
	    "--simple boundary\nepilogue\n";
	const char want[] = "Content-Type: text/plain\r\n\r\nhello\r\n";
	const uint8_t sig[] = { 0, 1, 2, 3, 0xff };
	struct smime_mime m;

	parse_ok(msg, strlen(msg), &m);
	cr_assert_eq(m.kind, SMIME_MIME_DETACHED);
	cr_assert_eq(m.content_len, sizeof(want) - 1);
	cr_expect_eq(memcmp(m.content, want, m.content_len), 0, "'%s'", m.content);
	cr_assert_eq(m.cms_len, sizeof(sig));
	cr_expect_eq(memcmp(m.cms, sig, sizeof(sig)), 0);
	smime_mime_clear(&m);
}

Test(smime_mime, binary_signature_part)
{
	const char msg[] = "From: a@example.org\r\nContent-Type: multipart/signed; boundary=b;"
			   " protocol=application/pkcs7-signature\r\n\r\n--b\r\n\r\nbody\r\n--b\r\n"
			   "Content-Transfer-Encoding: binary\r\n\r\n\x30\x00\n\x01\r\n--b--";
	struct smime_mime m;

	parse_ok(msg, sizeof(msg) - 1, &m);
	cr_assert_eq(m.kind, SMIME_MIME_DETACHED);
	cr_expect_eq(m.content_len, 6);
	cr_expect_eq(memcmp(m.content, "\r\nbody", 6), 0);
	cr_assert_eq(m.cms_len, 4);
	cr_expect_eq(memcmp(m.cms, "\x30\x00\n\x01", 4), 0);
	smime_mime_clear(&m);
}

static void
expect_addr(const char *v, const char *want)
{
	const char *why = "unset";
	char *a = smime_mime_from_addr(v, strlen(v), &why);

	cr_assert_not_null(a, "'%s': %s", v, why);
	cr_expect_str_eq(a, want, "'%s'", v);
	free(a);
}

static void
expect_no_addr(const char *v, const char *want_why)
{
	const char *why = NULL;
	char *a = smime_mime_from_addr(v, strlen(v), &why);

	cr_expect_null(a, "'%s' gave '%s'", v, a);
	cr_assert_not_null(why);
	cr_expect_str_eq(why, want_why, "'%s'", v);
	free(a);
}

Test(smime_mime, from_addr)
{
	char *longa = xasprintf("<%0251d@a.b>", 0), *ok254 = xasprintf("%0248d@a.bc", 0);

	expect_addr("alice@example.org", "alice@example.org");
	expect_addr(" Alice Example <alice@example.org> ", "alice@example.org");
	expect_addr("\"Doe, John\" <john@example.org>", "john@example.org");
	expect_addr("John Q. Public <jqp@example.org>", "jqp@example.org");
	expect_addr("alice@example.org (Alice (the \\) first))", "alice@example.org");
	expect_addr("(c) alice (x) @ (y) example . org", "alice@example.org");
	expect_addr("\"john doe\"@example.org", "\"john doe\"@example.org");
	expect_addr("<\"a\\\"b\"@example.org>", "\"a\\\"b\"@example.org");
	expect_addr("first.last@sub.example.org", "first.last@sub.example.org");
	expect_addr("<@relay.example,@r2.example:alice@example.org>", "alice@example.org");
	expect_addr("alice@[192.0.2.1]", "alice@[192.0.2.1]");
	expect_addr("=?utf-8?q?J=C3=B6rg?= <j\xc3\xb6rg@example.org>", "j\xc3\xb6rg@example.org");
	expect_addr("Alice\r\n <alice@\r\n\texample.org>", "alice@example.org");
	expect_addr(ok254, ok254);
	expect_no_addr(longa, "address longer than 254 octets in From:");
	expect_no_addr("a@example.org, b@example.org", "several addresses in From:");
	expect_no_addr("<a@example.org> <b@example.org>", "several addresses in From:");
	expect_no_addr("Friends: a@example.org, b@example.org;", "group syntax in From:");
	expect_no_addr("undisclosed-recipients:;", "group syntax in From:");
	expect_no_addr("", "no address in From:");
	expect_no_addr(" (only a comment) ", "no address in From:");
	expect_no_addr("Alice", "no @ in the address of From:");
	expect_no_addr("Alice Example", "no @ in the address of From:");
	expect_no_addr("@example.org", "no local part in the address of From:");
	expect_no_addr("alice@", "no domain in the address of From:");
	expect_no_addr("Alice <alice@example.org", "unterminated angle bracket in From:");
	expect_no_addr("alice@example.org>", "syntax error in From:");
	expect_no_addr("<alice@example.org> x", "text after the address in From:");
	expect_no_addr("\"unterminated@example.org", "unterminated quoted string in From:");
	expect_no_addr("a@example.org (open", "unterminated comment in From:");
	expect_no_addr("a\x01@example.org", "invalid character in From:");
	{
		const char *why = NULL;
		char *a = smime_mime_from_addr("x@y.z", 0, &why); /* len counts */

		cr_expect_null(a);
		cr_expect_str_eq(why, "no address in From:");
		a = smime_mime_from_addr("a@b.cd junk", 6, &why);
		cr_expect_str_eq(a, "a@b.cd");
		free(a);
	}
	free(longa);
	free(ok254);
}

Test(smime_mime, from_fields)
{
	const struct {
		const char *msg, *from, *why;
	} c[] = {
		{ "Subject: x\n\nbody\n", NULL, "no From: field" },
		{ "From: a@example.org\nfrom: b@example.org\n\nbody\n", NULL, "2 From: fields" },
		{ "From: a@b.c\nFrom: a@b.c\nFROM: a@b.c\n\n", NULL, "3 From: fields" },
		{ "From: a@b.c\nFrom: a@b.c\nFROM: a@b.c\nFrom: a\nFrom: b\n\n", NULL,
		    "more than 4 From: fields" },
		{ "Subject: x\r\nFrom: Alice\r\n <alice@\r\n\texample.org>\r\nTo: b@example.net\r\n\r\nbody\r\n",
		    "alice@example.org", NULL },
		{ "From : a@example.org\n\n", "a@example.org", NULL },
		{ "From: a@example.org, b@example.org\n\n", NULL, "several addresses in From:" },
		{ "Sender: s@example.org\nResent-From: r@example.org\nFrom: <f@example.org>\n\n"
		  "From: not-a-header@example.org\n", "f@example.org", NULL },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct smime_mime m;

		parse_ok(c[i].msg, strlen(c[i].msg), &m);
		cr_expect_eq(m.kind, SMIME_MIME_NONE);
		if (c[i].from)
			cr_expect_str_eq(m.from, c[i].from, "case %zu", i);
		else
			cr_expect_null(m.from, "case %zu", i);
		if (c[i].why)
			cr_expect_str_eq(m.from_why, c[i].why, "case %zu", i);
		else
			cr_expect_null(m.from_why, "case %zu", i);
		smime_mime_clear(&m);
	}
}

Test(smime_mime, empty_and_header_only)
{
	struct smime_mime m;

	parse_ok("", 0, &m);
	cr_expect_eq(m.kind, SMIME_MIME_NONE);
	cr_expect_null(m.from);
	cr_expect_str_eq(m.from_why, "no From: field");
	smime_mime_clear(&m);
	parse_ok(NULL, 0, &m);
	cr_expect_eq(m.kind, SMIME_MIME_NONE);
	smime_mime_clear(&m);
	parse_ok("From: a@example.org\nSubject: x", 30, &m);
	cr_expect_eq(m.kind, SMIME_MIME_NONE);
	cr_expect_str_eq(m.from, "a@example.org");
	smime_mime_clear(&m);
	/* a signed header with no body: a missing close delimiter */
	{
		const char *h = "From: a@example.org\nContent-Type: multipart/signed; boundary=b; "
				"protocol=application/pkcs7-signature\n";
		struct smime_limits lim = limits();

		parse_err(h, strlen(h), &lim, "message: multipart/signed without its close delimiter");
	}
	/* opaque with an empty body */
	parse_ok("Content-Type: application/pkcs7-mime\n", 37, &m);
	cr_expect_eq(m.kind, SMIME_MIME_OPAQUE);
	cr_expect_eq(m.cms_len, 0);
	smime_mime_clear(&m);
}

/* Random bytes, and random splices of MIME fragments: never a crash, and
 * the result is a success or an error with a reason (run under valgrind
 * and ASan to see reads past the end: each message is its own allocation). */
Test(smime_mime, junk)
{
	static const char *frag[] = {
		"\n", "\r\n", "--b\n", "--b--\n", "--c\r\n", "Content-Type: multipart/mixed; boundary=b\n",
		"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=c\n",
		"Content-Type: application/pkcs7-mime\n", "Content-Transfer-Encoding: base64\n",
		"MIIB", "====", "From: <a@b.c>\n", " folded\n", "\n\n", "--", "x", "\"", "(",
	};
	struct smime_limits lim = limits();
	uint32_t s = 12345;

	for (int round = 0; round < 3000; round++) {
		size_t n = (size_t)(round % 300);
		struct buf b;
		struct smime_mime m;
		char *why = NULL, *copy;

		buf_init(&b);
		while (b.len < n) {
			s = s * 1103515245u + 12345u;
			if (round % 2)
				buf_puts(&b, frag[(s >> 16) % (sizeof(frag) / sizeof(frag[0]))]);
			else
				buf_putc(&b, (int)(s >> 16));
		}
		copy = xmemdup(b.s, b.len);
		if (smime_mime_parse(copy, b.len, &lim, &m, &why) == 0) {
			cr_assert_null(why);
			smime_mime_clear(&m);
		} else {
			cr_assert_not_null(why);
			free(why);
		}
		free(copy);
		buf_free(&b);
	}
}
