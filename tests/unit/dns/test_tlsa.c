/*
 * test_tlsa.c - unit tests of dns/tlsa.h.
 *
 * Covers: malformed RDATA (rdlen < 3, NULL), the full usability matrix
 * (every usage 0..4 and 255 x selector 0..2 x matching type 0..3 with
 * well-formed data for each), digest lengths off by one either way, Full(0)
 * data that is a real certificate or SPKI made at test time with OpenSSL
 * (a fresh P-256 key and self-signed certificate per process), the same
 * data under the wrong selector, truncated DER, trailing garbage, junk,
 * empty data, ownership of the copied data, the OpenSSL error queue left
 * clean, tlsa_to_string() and the RFC 7218 mnemonics.
 *
 * Valgrind recipe: see test_policy_cache.c.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tlsa.h"

/* ------------------------------------------------------------- fixture */

/* DER of a fresh self-signed certificate and of its SPKI. */
static unsigned char *cert_der, *spki_der;
static size_t cert_len, spki_len;

static void
make_cert(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char *p;
	int n;

	cr_assert_not_null(key);
	cr_assert_not_null(x);
	cr_assert(X509_set_version(x, 2));
	cr_assert(ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
	cr_assert_not_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	cr_assert_not_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400L));
	cr_assert(X509_set_pubkey(x, key));
	name = X509_get_subject_name(x);
	cr_assert(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"mx.example", -1, -1, 0));
	cr_assert(X509_set_issuer_name(x, name));
	cr_assert(X509_sign(x, key, EVP_sha256()) > 0);

	cr_assert_gt(n = i2d_X509(x, NULL), 0);
	cert_der = p = malloc((size_t)n);
	cr_assert_not_null(p);
	cr_assert_eq(i2d_X509(x, &p), n);
	cert_len = (size_t)n;

	cr_assert_gt(n = i2d_PUBKEY(key, NULL), 0);
	spki_der = p = malloc((size_t)n);
	cr_assert_not_null(p);
	cr_assert_eq(i2d_PUBKEY(key, &p), n);
	spki_len = (size_t)n;

	X509_free(x);
	EVP_PKEY_free(key);
}

static void
free_cert(void)
{
	free(cert_der);
	free(spki_der);
	cert_der = spki_der = NULL;
}

TestSuite(tlsa, .init = make_cert, .fini = free_cert);

/* RDATA buffer: u s m + data (data may be NULL for a pattern fill). */
static uint8_t *
rdata_new(uint8_t u, uint8_t s, uint8_t m, const unsigned char *data, size_t len, size_t *rdlen)
{
	uint8_t *r = malloc(len + 3);

	cr_assert_not_null(r);
	r[0] = u;
	r[1] = s;
	r[2] = m;
	for (size_t i = 0; i < len; i++)
		r[3 + i] = data ? data[i] : (uint8_t)(i * 7 + 1);
	*rdlen = len + 3;
	return r;
}

/* Parse and return usable; checks the invariants every parse must keep. */
static int
parse_usable(uint8_t u, uint8_t s, uint8_t m, const unsigned char *data, size_t len)
{
	size_t rdlen;
	uint8_t *r = rdata_new(u, s, m, data, len, &rdlen);
	struct tlsa_rr rr;
	int usable;

	cr_assert_eq(tlsa_parse(r, rdlen, &rr), 0);
	cr_expect_eq(rr.usage, u);
	cr_expect_eq(rr.selector, s);
	cr_expect_eq(rr.mtype, m);
	cr_expect_eq(rr.len, len);
	if (len)
		cr_expect_arr_eq(rr.data, r + 3, len);
	else
		cr_expect_null(rr.data);
	cr_expect_eq(rr.usable == 0, rr.unusable_why != NULL, "%u %u %u: why iff unusable", u, s, m);
	cr_expect_eq(ERR_peek_error(), 0, "OpenSSL error queue left clean");
	usable = rr.usable;
	tlsa_rr_clear(&rr);
	free(r);
	return usable;
}

/* --------------------------------------------------------- malformed */

Test(tlsa, short_rdata)
{
	static const uint8_t r[] = { 3, 1, 1 };

	for (size_t n = 0; n < 3; n++) {
		struct tlsa_rr rr;

		memset(&rr, 0xa5, sizeof(rr));
		cr_expect_eq(tlsa_parse(r, n, &rr), -1, "rdlen %zu", n);
		cr_expect_null(rr.data);
		cr_expect_eq(rr.len, 0);
		cr_expect_eq(rr.usable, 0);
		cr_expect_null(rr.unusable_why);
		tlsa_rr_clear(&rr);	/* nothing to free, but harmless */
	}
	{
		struct tlsa_rr rr;

		cr_expect_eq(tlsa_parse(NULL, 3, &rr), -1);
	}
}

Test(tlsa, no_data)
{
	static const uint8_t r[] = { 3, 1, 1 };
	struct tlsa_rr rr;

	cr_assert_eq(tlsa_parse(r, sizeof(r), &rr), 0);
	cr_expect_null(rr.data);
	cr_expect_eq(rr.len, 0);
	cr_expect_eq(rr.usable, 0);
	cr_expect_not_null(rr.unusable_why);
	tlsa_rr_clear(&rr);
	cr_expect_eq(parse_usable(3, 1, 0, NULL, 0), 0, "empty Full(0) data");
	cr_expect_eq(parse_usable(2, 0, 2, NULL, 0), 0);
}

/* --------------------------------------------------------- the matrix */

Test(tlsa, matrix)
{
	static const unsigned usages[] = { 0, 1, 2, 3, 4, 255 };

	for (size_t ui = 0; ui < sizeof(usages) / sizeof(usages[0]); ui++) {
		for (unsigned s = 0; s <= 2; s++) {
			for (unsigned m = 0; m <= 3; m++) {
				unsigned u = usages[ui];
				const unsigned char *data = NULL;
				size_t len = m == 1 ? 32 : m == 2 ? 64 : 48;
				int want;

				if (m == 0) {
					data = s == 1 ? spki_der : cert_der;
					len = s == 1 ? spki_len : cert_len;
				}
				want = (u == 2 || u == 3) && s <= 1 && m <= 2;
				cr_expect_eq(parse_usable((uint8_t)u, (uint8_t)s, (uint8_t)m, data, len),
				    want, "%u %u %u", u, s, m);
			}
		}
	}
}

Test(tlsa, pkix_reason)
{
	static uint8_t r[3 + 32] = { 1, 1, 1 };
	struct tlsa_rr rr;

	cr_assert_eq(tlsa_parse(r, sizeof(r), &rr), 0);
	cr_expect_eq(rr.usable, 0);
	cr_expect_not_null(strstr(rr.unusable_why, "PKIX"), "%s", rr.unusable_why);
	tlsa_rr_clear(&rr);
}

Test(tlsa, digest_lengths)
{
	static const size_t l256[] = { 0, 1, 31, 33, 48, 64 }, l512[] = { 0, 32, 63, 65, 128 };

	for (unsigned u = 2; u <= 3; u++) {
		for (unsigned s = 0; s <= 1; s++) {
			cr_expect(parse_usable((uint8_t)u, (uint8_t)s, 1, NULL, 32));
			cr_expect(parse_usable((uint8_t)u, (uint8_t)s, 2, NULL, 64));
			for (size_t i = 0; i < sizeof(l256) / sizeof(l256[0]); i++)
				cr_expect_not(parse_usable((uint8_t)u, (uint8_t)s, 1, NULL, l256[i]),
				    "%u %u 1 with %zu octets", u, s, l256[i]);
			for (size_t i = 0; i < sizeof(l512) / sizeof(l512[0]); i++)
				cr_expect_not(parse_usable((uint8_t)u, (uint8_t)s, 2, NULL, l512[i]),
				    "%u %u 2 with %zu octets", u, s, l512[i]);
		}
	}
}

/* --------------------------------------------------------- Full(0) */

Test(tlsa, full_data)
{
	unsigned char *buf = malloc(cert_len + spki_len + 16);

	cr_assert_not_null(buf);
	for (unsigned u = 2; u <= 3; u++) {
		uint8_t uu = (uint8_t)u;

		cr_expect(parse_usable(uu, 0, 0, cert_der, cert_len));
		cr_expect(parse_usable(uu, 1, 0, spki_der, spki_len));
		/* the right data under the wrong selector */
		cr_expect_not(parse_usable(uu, 1, 0, cert_der, cert_len));
		cr_expect_not(parse_usable(uu, 0, 0, spki_der, spki_len));
		/* truncated DER, by one octet and by half */
		cr_expect_not(parse_usable(uu, 0, 0, cert_der, cert_len - 1));
		cr_expect_not(parse_usable(uu, 0, 0, cert_der, cert_len / 2));
		cr_expect_not(parse_usable(uu, 1, 0, spki_der, spki_len - 1));
		cr_expect_not(parse_usable(uu, 1, 0, spki_der, 2));
		/* trailing garbage: one octet, and a second complete object */
		memcpy(buf, cert_der, cert_len);
		buf[cert_len] = 0;
		cr_expect_not(parse_usable(uu, 0, 0, buf, cert_len + 1));
		memcpy(buf, spki_der, spki_len);
		buf[spki_len] = 0x30;
		cr_expect_not(parse_usable(uu, 1, 0, buf, spki_len + 1));
		memcpy(buf + spki_len, spki_der, spki_len);
		cr_expect_not(parse_usable(uu, 1, 0, buf, 2 * spki_len));
		/* a corrupted length octet in the outer SEQUENCE */
		memcpy(buf, cert_der, cert_len);
		buf[1] ^= 0x01;
		cr_expect_not(parse_usable(uu, 0, 0, buf, cert_len));
		/* junk: digest-sized pattern data as Full(0) */
		cr_expect_not(parse_usable(uu, 0, 0, NULL, 32));
		cr_expect_not(parse_usable(uu, 1, 0, NULL, 64));
	}
	free(buf);
}

Test(tlsa, data_is_copied)
{
	size_t rdlen;
	uint8_t *r = rdata_new(3, 1, 1, NULL, 32, &rdlen);
	uint8_t copy[32];
	struct tlsa_rr rr;

	memcpy(copy, r + 3, 32);
	cr_assert_eq(tlsa_parse(r, rdlen, &rr), 0);
	cr_expect_neq(rr.data, r + 3);
	memset(r, 0xee, rdlen);
	free(r);
	cr_expect_arr_eq(rr.data, copy, 32);
	cr_expect_eq(rr.usable, 1);
	cr_expect_null(rr.unusable_why);
	tlsa_rr_clear(&rr);
	cr_expect_null(rr.data);
	cr_expect_eq(rr.len, 0);
	tlsa_rr_clear(&rr);	/* twice is fine */
	tlsa_rr_clear(NULL);
}

/* --------------------------------------------------------- to_string */

Test(tlsa, to_string)
{
	static const uint8_t r[] = { 3, 1, 1, 0x00, 0x01, 0xab, 0xcd, 0xef, 0x7f, 0x80, 0xff };
	struct tlsa_rr rr;
	char *s;

	cr_assert_eq(tlsa_parse(r, sizeof(r), &rr), 0);
	s = tlsa_to_string(&rr);
	cr_expect_str_eq(s, "3 1 1 0001ABCDEF7F80FF");
	free(s);
	tlsa_rr_clear(&rr);
}

Test(tlsa, to_string_long)
{
	size_t rdlen;
	uint8_t *r = rdata_new(2, 0, 2, NULL, 64, &rdlen);
	struct tlsa_rr rr;
	char *s;

	cr_assert_eq(tlsa_parse(r, rdlen, &rr), 0);
	s = tlsa_to_string(&rr);
	cr_assert_not_null(s);
	cr_expect_eq(strlen(s), strlen("2 0 2 ") + 2 * 64);
	cr_expect_eq(strncmp(s, "2 0 2 ", 6), 0);
	for (size_t i = 0; i < 64; i++) {
		unsigned v;
		char hx[3] = { s[6 + 2 * i], s[6 + 2 * i + 1], 0 };

		cr_expect(isxdigit((unsigned char)hx[0]) && !islower((unsigned char)hx[0]));
		cr_expect(isxdigit((unsigned char)hx[1]) && !islower((unsigned char)hx[1]));
		cr_expect_eq(sscanf(hx, "%2x", &v), 1);
		cr_expect_eq(v, r[3 + i], "octet %zu", i);
	}
	free(s);
	tlsa_rr_clear(&rr);
	free(r);
}

Test(tlsa, to_string_odd)
{
	static const uint8_t r[] = { 255, 254, 253 };
	struct tlsa_rr rr;
	char *s;

	cr_assert_eq(tlsa_parse(r, sizeof(r), &rr), 0);
	s = tlsa_to_string(&rr);
	cr_expect_str_eq(s, "255 254 253 -");
	free(s);
	cr_expect_null(tlsa_to_string(NULL));
	tlsa_rr_clear(&rr);
}

/* --------------------------------------------------------- mnemonics */

Test(tlsa, names)
{
	cr_expect_str_eq(tlsa_usage_name(0), "PKIX-TA");
	cr_expect_str_eq(tlsa_usage_name(1), "PKIX-EE");
	cr_expect_str_eq(tlsa_usage_name(2), "DANE-TA");
	cr_expect_str_eq(tlsa_usage_name(3), "DANE-EE");
	cr_expect_str_eq(tlsa_usage_name(255), "PrivCert");
	cr_expect_str_eq(tlsa_selector_name(0), "Cert");
	cr_expect_str_eq(tlsa_selector_name(1), "SPKI");
	cr_expect_str_eq(tlsa_selector_name(255), "PrivSel");
	cr_expect_str_eq(tlsa_mtype_name(0), "Full");
	cr_expect_str_eq(tlsa_mtype_name(1), "SHA2-256");
	cr_expect_str_eq(tlsa_mtype_name(2), "SHA2-512");
	cr_expect_str_eq(tlsa_mtype_name(255), "PrivMatch");
	cr_expect_str_eq(tlsa_usage_name(256), "out of range");
	cr_expect_str_eq(tlsa_mtype_name(~0u), "out of range");
}

Test(tlsa, numeric_names)
{
	for (unsigned v = 2; v < 255; v++) {
		char want[8];

		snprintf(want, sizeof(want), "%u", v);
		if (v >= 4)
			cr_expect_str_eq(tlsa_usage_name(v), want);
		cr_expect_str_eq(tlsa_selector_name(v), want);
		if (v >= 3)
			cr_expect_str_eq(tlsa_mtype_name(v), want);
	}
	/* static storage: the same pointer every time, usable from any thread */
	cr_expect_eq(tlsa_usage_name(77), tlsa_usage_name(77));
	cr_expect_eq(tlsa_usage_name(77), tlsa_selector_name(77));
}
