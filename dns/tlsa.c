/*
 * tlsa.c - TLSA records (RFC 6698) and their usability for SMTP
 * (contract in tlsa.h).
 *
 * tlsa_parse() splits RDATA into usage, selector, matching type and
 * association data, and decides once whether the record is usable by an
 * SMTP client (RFC 7672 3.1, RFC 7671 9):
 *  - usages PKIX-TA(0) and PKIX-EE(1) are not usable for SMTP, unknown
 *    usages never are;
 *  - selectors other than Cert(0) and SPKI(1), and matching types other
 *    than Full(0), SHA2-256(1) and SHA2-512(2) are unusable;
 *  - digests must have exactly the digest length (32 or 64 octets);
 *  - Full(0) data must be one DER certificate (selector 0) or one DER
 *    SubjectPublicKeyInfo of a key type OpenSSL knows (selector 1),
 *    without trailing octets. This is the same test OpenSSL's
 *    SSL_dane_tlsa_add() applies, so a record called usable here will
 *    not be refused later by the TLS layer.
 * An unusable record is well-formed data, not an error: the policy engine
 * counts it (all-unusable TLSA still means "TLS is mandatory").
 *
 * The OpenSSL error queue is left as it was found: DER parsing failures
 * are expected outcomes, not errors to report elsewhere.
 *
 * Not here: matching a peer's certificate against the records (OpenSSL's
 * DANE API does that in the TLS layer), or DNS lookups.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "mem.h"
#include "tlsa.h"

#define SHA256_LEN 32
#define SHA512_LEN 64

/* "0" .. "255" built by the compiler: a thread-safe answer for any octet. */
#define DEC10(p) p "0", p "1", p "2", p "3", p "4", p "5", p "6", p "7", p "8", p "9"
static const char *const octet_text[256] = {
	"0",
	"1",
	"2",
	"3",
	"4",
	"5",
	"6",
	"7",
	"8",
	"9",
	DEC10("1"),
	DEC10("2"),
	DEC10("3"),
	DEC10("4"),
	DEC10("5"),
	DEC10("6"),
	DEC10("7"),
	DEC10("8"),
	DEC10("9"),
	DEC10("10"),
	DEC10("11"),
	DEC10("12"),
	DEC10("13"),
	DEC10("14"),
	DEC10("15"),
	DEC10("16"),
	DEC10("17"),
	DEC10("18"),
	DEC10("19"),
	DEC10("20"),
	DEC10("21"),
	DEC10("22"),
	DEC10("23"),
	DEC10("24"),
	"250",
	"251",
	"252",
	"253",
	"254",
	"255",
};

/* Does data hold exactly one DER object of the kind the selector names? */
static int
tlsa_full_parses(uint8_t selector, const uint8_t *data, size_t len)
{
	const unsigned char *p = data;
	int ok = 0;

	if (len == 0 || len > LONG_MAX)
		return 0;
	ERR_set_mark();
	if (selector == TLSA_SEL_CERT) {
		X509 *x = d2i_X509(NULL, &p, (long)len);

		ok = x != NULL && (size_t)(p - data) == len;
		X509_free(x);
	} else {
		EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);

		ok = k != NULL && (size_t)(p - data) == len;
		EVP_PKEY_free(k);
	}
	ERR_pop_to_mark();
	return ok;
}

/* NULL if rr is usable for SMTP, else a static English reason. */
static const char *
tlsa_unusable_why(const struct tlsa_rr *rr)
{
	if (rr->usage == TLSA_PKIX_TA || rr->usage == TLSA_PKIX_EE)
		return "PKIX usage (0 or 1) is not usable with SMTP (RFC 7672 3.1.3)";
	if (rr->usage != TLSA_DANE_TA && rr->usage != TLSA_DANE_EE)
		return "unknown certificate usage";
	if (rr->selector != TLSA_SEL_CERT && rr->selector != TLSA_SEL_SPKI)
		return "unknown selector";
	switch (rr->mtype) {
	case TLSA_MT_SHA256:
		if (rr->len != SHA256_LEN)
			return "SHA2-256 association data is not 32 octets";
		return NULL;
	case TLSA_MT_SHA512:
		if (rr->len != SHA512_LEN)
			return "SHA2-512 association data is not 64 octets";
		return NULL;
	case TLSA_MT_FULL:
		if (rr->len == 0)
			return "empty Full(0) association data";
		if (!tlsa_full_parses(rr->selector, rr->data, rr->len))
			return rr->selector == TLSA_SEL_CERT
			    ? "Full(0) data is not exactly one DER certificate"
			    : "Full(0) data is not exactly one DER SubjectPublicKeyInfo";
		return NULL;
	default:
		return "unknown matching type";
	}
}

/* Public: split RDATA and classify it; rr->data is owned by rr (tlsa.h). */
int
tlsa_parse(const uint8_t *rdata, size_t rdlen, struct tlsa_rr *rr)
{
	memset(rr, 0, sizeof(*rr));
	if (rdata == NULL || rdlen < 3)
		return -1;
	rr->usage = rdata[0];
	rr->selector = rdata[1];
	rr->mtype = rdata[2];
	rr->len = rdlen - 3;
	rr->data = rr->len ? xmemdup(rdata + 3, rr->len) : NULL;
	rr->unusable_why = tlsa_unusable_why(rr);
	rr->usable = rr->unusable_why == NULL;
	return 0;
}

/* Public: free what tlsa_parse() allocated; NULL-safe, idempotent. */
void
tlsa_rr_clear(struct tlsa_rr *rr)
{
	if (rr == NULL)
		return;
	free(rr->data);
	memset(rr, 0, sizeof(*rr));
}

/*
 * Public: "U S M HEX", upper-case hex; empty data is written "-". The
 * caller frees the result; NULL for a NULL rr.
 */
char *
tlsa_to_string(const struct tlsa_rr *rr)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;
	char *s;

	if (rr == NULL)
		return NULL;
	buf_init(&b);
	buf_printf(&b, "%u %u %u ", rr->usage, rr->selector, rr->mtype);
	if (rr->len == 0 || rr->data == NULL)
		buf_putc(&b, '-'); /* empty data, as RFC 5155 writes an empty salt */
	for (size_t i = 0; rr->data != NULL && i < rr->len; i++) {
		buf_putc(&b, hex[rr->data[i] >> 4]);
		buf_putc(&b, hex[rr->data[i] & 0x0f]);
	}
	s = buf_steal(&b);
	buf_free(&b); /* buf_steal() leaves b usable, i.e. allocated */
	return s;
}

/* Mnemonic from names[] (n entries), "Priv..." for 255, else the number. */
static const char *
tlsa_name(unsigned v, const char *const *names, size_t n, const char *priv)
{
	if (v < n)
		return names[v];
	if (v == 255)
		return priv;
	if (v < 256)
		return octet_text[v];
	return "out of range";
}

/*
 * Public: RFC 7218 mnemonics. Other octets give their decimal value and
 * values above 255 give "out of range"; all static, never to be freed.
 */
const char *
tlsa_usage_name(unsigned usage)
{
	static const char *const names[] = { "PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE" };

	return tlsa_name(usage, names, sizeof(names) / sizeof(names[0]), "PrivCert");
}

const char *
tlsa_selector_name(unsigned selector)
{
	static const char *const names[] = { "Cert", "SPKI" };

	return tlsa_name(selector, names, sizeof(names) / sizeof(names[0]), "PrivSel");
}

const char *
tlsa_mtype_name(unsigned mtype)
{
	static const char *const names[] = { "Full", "SHA2-256", "SHA2-512" };

	return tlsa_name(mtype, names, sizeof(names) / sizeof(names[0]), "PrivMatch");
}

size_t
tlsa_select(const struct tlsa_rr *rr, size_t n, int *keep)
{
	/* strongest digest present per (usage 2/3, selector 0/1): 0 none, 1, 2 */
	int best[2][2] = { { 0, 0 }, { 0, 0 } };
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tlsa_rr *r = &rr[i];

		keep[i] = r->usable && (r->usage == TLSA_DANE_TA || r->usage == TLSA_DANE_EE) &&
		    r->selector <= 1 && r->mtype <= 2;
		if (keep[i] && r->mtype > best[r->usage - 2][r->selector])
			best[r->usage - 2][r->selector] = r->mtype;
	}
	for (size_t i = 0; i < n; i++) {
		if (keep[i] && rr[i].mtype != TLSA_MT_FULL &&
		    rr[i].mtype != best[rr[i].usage - 2][rr[i].selector])
			keep[i] = 0;
		kept += keep[i] != 0;
	}
	return kept;
}
