/*
 * smime_verify.c - the CMS signature of an S/MIME entity and its signer's
 * chain against SMIMEA records (contract in smime_verify.h).
 *
 * The signature: d2i_CMS_ContentInfo() of the DER, signed-data only, the
 * certificate count bounded before anything is verified, then CMS_verify()
 * with CMS_NO_SIGNER_CERT_VERIFY (no PKIX store: DANE judges the chain)
 * and CMS_BINARY (the detached content is verified as given: it is the
 * canonical CRLF form of a multipart/signed first part). A detached
 * content that does not verify and has bare LF line ends is verified once
 * more in its canonical CRLF form (RFC 8551 3.1.1: the signer signed that
 * form; a relay or the milter may have handed us LF). A failure whose
 * OpenSSL reason is a signature or digest mismatch is SMIME_SIG_BAD;
 * every other failure is SMIME_SIG_MALFORMED.
 *
 * The chain: OpenSSL's DANE verification of a plain X509_STORE_CTX. The
 * SSL_DANE state comes from a throwaway SSL object (of the process-wide
 * SSL_CTX with SSL_CTX_dane_enable(), made once;
 * SSL_dane_enable(), SSL_dane_tlsa_add() for each record tlsa_select()
 * keeps) and is attached with X509_STORE_CTX_set0_dane(); the store is
 * empty, so only a record can make the chain trusted. The verify
 * parameters carry no host name, the address as the e-mail identity
 * (X509_VERIFY_PARAM_set1_email()) and the S/MIME signing purpose. DANE-EE
 * matches keep the name check (the address must be in the certificate)
 * and, as in RFC 7671 5.1, skip expiry and purpose checks. The matched
 * record is read back with SSL_get0_dane_tlsa(), which reports the SSL's
 * DANE state, the very state the store context used.
 *
 * Threads: no shared state; OpenSSL's error queue is per thread.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "dnsname.h"
#include "mem.h"
#include "smime_verify.h"
#include "smime_util.h"

#define SMIME_DEFAULT_MAX_CERTS 32	/* when lim is NULL */
#define SMIME_OWNER_OCTETS 28		/* RFC 8162 3: the truncated SHA2-256 */

/* ------------------------------------------------------------ helpers */

/* A copy of an ASN.1 string that is printable ASCII without NUL, else NULL. */
static char *
ascii_copy(const ASN1_STRING *a)
{
	const unsigned char *d = ASN1_STRING_get0_data(a);
	int n = ASN1_STRING_length(a);

	if (d == NULL || n <= 0)
		return NULL;
	for (int i = 0; i < n; i++)
		if (d[i] < 0x21 || d[i] > 0x7e)
			return NULL;
	return xstrndup((const char *)d, (size_t)n);
}

/* The certificate's first e-mail address: SAN rfc822Name, else emailAddress. */
static char *
cert_addr(X509 *x)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const X509_NAME *nm = X509_get_subject_name(x);
	char *addr = NULL;
	int i;

	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && addr == NULL; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_EMAIL)
			addr = ascii_copy(g->d.rfc822Name);
	}
	GENERAL_NAMES_free(gens);
	i = -1;
	while (addr == NULL && (i = X509_NAME_get_index_by_NID(nm, NID_pkcs9_emailAddress, i)) >= 0)
		addr = ascii_copy(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)));
	return addr;
}

/* The serial number in upper-case hex, or NULL. */
static char *
cert_serial(const X509 *x)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	char *s = hex != NULL ? xstrdup(hex) : NULL;

	OPENSSL_free(hex);
	BN_free(bn);
	return s;
}

/* The issuer name, RFC 2253 (non-ASCII escaped), or NULL. */
static char *
cert_issuer(const X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL, *s = NULL;
	long n;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, X509_get_issuer_name(x), 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_get_mem_data(b, &data)) >= 0)
		s = xstrndup(data != NULL ? data : "", (size_t)n);
	BIO_free(b);
	return s;
}

/* ------------------------------------------------------------ the signature */

/* The first SignerInfo's certificate among certs (new reference), or NULL. */
static X509 *
first_signer(CMS_ContentInfo *cms, STACK_OF(X509) *certs)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);

	if (si == NULL)
		return NULL;
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (CMS_SignerInfo_cert_cmp(si, x) == 0) {
			X509_up_ref(x);
			return x;
		}
	}
	return NULL;
}

/* Whether the last CMS_verify() failure is a mismatch (bad) rather than structure. */
static int
failure_is_mismatch(void)
{
	unsigned long e;
	int bad = 0;

	while ((e = ERR_get_error()) != 0) {
		int r = ERR_GET_REASON(e);

		if (ERR_GET_LIB(e) == ERR_LIB_CMS &&
		    (r == CMS_R_VERIFICATION_FAILURE || r == CMS_R_CONTENT_VERIFY_ERROR))
			bad = 1;
	}
	return bad;
}

/* content with every bare LF turned into CRLF (caller frees), or NULL when it has none. */
static char *
crlf_copy(const char *content, size_t len, size_t *out_len)
{
	struct buf b;
	int bare = 0;

	for (size_t i = 0; i < len && !bare; i++)
		bare = content[i] == '\n' && (i == 0 || content[i - 1] != '\r');
	if (!bare)
		return NULL;
	buf_init(&b);
	for (size_t i = 0; i < len; i++) {
		if (content[i] == '\n' && (i == 0 || content[i - 1] != '\r'))
			buf_putc(&b, '\r');
		buf_putc(&b, content[i]);
	}
	*out_len = b.len;
	return buf_steal(&b);
}

/* One CMS_verify() over content (NULL: the embedded content). */
static enum smime_sig
verify_once(CMS_ContentInfo *cms, const char *content, size_t len, char **why)
{
	BIO *dcont = NULL;
	enum smime_sig r;

	ERR_clear_error();
	if (content != NULL && (dcont = BIO_new_mem_buf(content, (int)len)) == NULL) {
		*why = xstrdup("out of memory");
		return SMIME_SIG_MALFORMED;
	}
	if (CMS_verify(cms, NULL, NULL, dcont, NULL,
		CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) > 0)
		r = SMIME_SIG_OK;
	else {
		unsigned long e = ERR_peek_error();
		char text[256];

		ERR_error_string_n(e, text, sizeof(text));
		r = failure_is_mismatch() ? SMIME_SIG_BAD : SMIME_SIG_MALFORMED;
		*why = xasprintf("%s: %s", r == SMIME_SIG_BAD ? "signature does not verify" :
		    "CMS structure unusable", e != 0 ? text : "unknown error");
	}
	BIO_free(dcont);
	return r;
}

/* The certificates of cms into s->certs, within the limit. 0, or -1 with *why. */
static int
take_certs(CMS_ContentInfo *cms, const struct smime_limits *lim, struct smime_signer *s,
    char **why)
{
	unsigned max = lim != NULL ? lim->max_certs : SMIME_DEFAULT_MAX_CERTS;
	int n;

	s->certs = CMS_get1_certs(cms);
	if (s->certs == NULL)
		s->certs = sk_X509_new_null();
	if (s->certs == NULL) {
		*why = xstrdup("out of memory");
		return -1;
	}
	n = sk_X509_num(s->certs);
	if ((unsigned)n > max) {
		*why = xasprintf("%d certificates in the CMS structure, more than %u", n, max);
		return -1;
	}
	return 0;
}

/* The checks before CMS_verify(): type, signers, certificates, content. 0 or -1. */
static int
precheck(CMS_ContentInfo *cms, const char *content, const struct smime_limits *lim,
    struct smime_signer *s, char **why)
{
	int nid = OBJ_obj2nid(CMS_get0_type(cms));

	if (nid != NID_pkcs7_signed) {
		*why = xasprintf("CMS content type %s, not signed-data",
		    nid != NID_undef ? OBJ_nid2sn(nid) : "unknown");
		return -1;
	}
	if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) <= 0) {
		*why = xstrdup("signed-data without a signer");
		return -1;
	}
	if (take_certs(cms, lim, s, why) != 0)
		return -1;
	if (content == NULL && CMS_is_detached(cms)) {
		*why = xstrdup("detached signature without its content");
		return -1;
	}
	return 0;
}

enum smime_sig
smime_verify_cms(const uint8_t *der, size_t der_len, const char *content, size_t content_len,
    const struct smime_limits *lim, struct smime_signer *s, char **why)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = NULL;
	enum smime_sig r = SMIME_SIG_MALFORMED;
	char *canon = NULL;
	size_t canon_len = 0;

	memset(s, 0, sizeof(*s));
	*why = NULL;
	if (der == NULL || der_len == 0 || der_len > LONG_MAX || content_len > INT_MAX) {
		*why = xstrdup("CMS structure empty or too large");
		return r;
	}
	ERR_clear_error();
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len)) == NULL) {
		*why = smime_util_ossl_why("not a DER CMS structure");
		goto out;
	}
	if (precheck(cms, content, lim, s, why) != 0)
		goto out;
	r = verify_once(cms, content, content_len, why);
	if (r == SMIME_SIG_BAD && content != NULL &&
	    (canon = crlf_copy(content, content_len, &canon_len)) != NULL && canon_len <= INT_MAX) {
		char *why2 = NULL;

		if ((r = verify_once(cms, canon, canon_len, &why2)) == SMIME_SIG_OK) {
			free(*why);
			*why = NULL;
		}
		free(why2);
	}
	if ((s->cert = first_signer(cms, s->certs)) != NULL) {
		s->addr = cert_addr(s->cert);
		s->serial = cert_serial(s->cert);
		s->issuer = cert_issuer(s->cert);
	} else if (r == SMIME_SIG_OK) {
		r = SMIME_SIG_MALFORMED;
		*why = xstrdup("the signer's certificate is not in the CMS structure");
	}
out:
	free(canon);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
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

/* ------------------------------------------------------------ DANE */

/*
 * The process's one SSL_CTX with DANE enabled, made on first use and kept
 * to exit (SSL_CTX_new() costs more than the rest of a check; SSL_new() on
 * a shared SSL_CTX is thread-safe). NULL when OpenSSL refused.
 */
static pthread_once_t dane_once = PTHREAD_ONCE_INIT;
static SSL_CTX *dane_shared;

static void
dane_ctx_make(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx != NULL && SSL_CTX_dane_enable(ctx) <= 0) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	dane_shared = ctx;
}

/* A throwaway SSL whose DANE state holds the kept records. *added: how many OpenSSL took. */
static SSL *
dane_ssl(const char *domain, const struct tlsa_rr *rr, size_t n, const int *keep, int *added,
    char **why)
{
	SSL *ssl = NULL;

	*added = 0;
	(void)pthread_once(&dane_once, dane_ctx_make);
	if (dane_shared == NULL || (ssl = SSL_new(dane_shared)) == NULL ||
	    SSL_dane_enable(ssl, domain) <= 0) {
		*why = smime_util_ossl_why("OpenSSL DANE set-up failed");
		SSL_free(ssl);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (keep[i] && SSL_dane_tlsa_add(ssl, rr[i].usage, rr[i].selector, rr[i].mtype,
				   rr[i].data, rr[i].len) > 0)
			(*added)++;
	ERR_clear_error();
	return ssl;
}

/* The index in rr of the record OpenSSL matched (SSL_get0_dane_tlsa()), or -1. */
static int
matched_index(SSL *ssl, const struct tlsa_rr *rr, size_t n, const int *keep)
{
	uint8_t u, sel, mt;
	const unsigned char *data = NULL;
	size_t dlen = 0;

	if (SSL_get0_dane_tlsa(ssl, &u, &sel, &mt, &data, &dlen) < 0 || data == NULL)
		return -1;
	for (size_t i = 0; i < n && i <= INT_MAX; i++)
		if (keep[i] && rr[i].usage == u && rr[i].selector == sel && rr[i].mtype == mt &&
		    rr[i].len == dlen && memcmp(rr[i].data, data, dlen) == 0)
			return (int)i;
	return -1;
}

/* The domain of addr (after the last '@'), or "" (caller frees). */
static char *
addr_domain(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;

	return xstrdup(at != NULL ? at + 1 : "");
}

/* A store context over s with ssl's DANE state, addr as identity. NULL with *why. */
static X509_STORE_CTX *
dane_ctx(const struct smime_signer *s, SSL *ssl, X509_STORE *store, const char *addr,
    char **why)
{
	X509_STORE_CTX *xc = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;

	if (xc == NULL || X509_STORE_CTX_init(xc, store, s->cert, s->certs) != 1)
		goto fail;
	X509_STORE_CTX_set0_dane(xc, SSL_get0_dane(ssl));
	param = X509_STORE_CTX_get0_param(xc);
	if (X509_VERIFY_PARAM_set1_host(param, NULL, 0) != 1 ||
	    X509_VERIFY_PARAM_set1_email(param, addr, strlen(addr)) != 1 ||
	    X509_STORE_CTX_set_purpose(xc, X509_PURPOSE_SMIME_SIGN) != 1)
		goto fail;
	return xc;
fail:
	*why = smime_util_ossl_why("OpenSSL verification set-up failed");
	X509_STORE_CTX_free(xc);
	return NULL;
}

/* The verified chain's certificate [1] (new reference), or NULL. */
static X509 *
chain_issuer(X509_STORE_CTX *xc)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get1_chain(xc);
	X509 *x = NULL;

	if (chain != NULL && sk_X509_num(chain) > 1) {
		x = sk_X509_value(chain, 1);
		X509_up_ref(x);
	}
	sk_X509_pop_free(chain, X509_free);
	return x;
}

/* The result of a failed X509_verify_cert(). */
static enum smime_dane
dane_failure(X509_STORE_CTX *xc, const char *addr, char **why)
{
	int err = X509_STORE_CTX_get_error(xc), depth = X509_STORE_CTX_get_error_depth(xc);

	if (err == X509_V_ERR_EMAIL_MISMATCH) {
		*why = xasprintf("the signer's certificate is not for %s", addr);
		return SMIME_DANE_ADDR_MISMATCH;
	}
	if (err == X509_V_ERR_DANE_NO_MATCH)
		*why = xstrdup("no SMIMEA record matches the signer's chain");
	else
		*why = xasprintf("the signer's chain does not verify under SMIMEA: %s (depth %d)",
		    X509_verify_cert_error_string(err), depth);
	return SMIME_DANE_NOMATCH;
}

enum smime_dane
smime_verify_dane(const struct smime_signer *s, const struct tlsa_rr *rr, size_t n,
    const char *addr, int *matched, X509 **issuer, char **why)
{
	int *keep = xcalloc(n > 0 ? n : 1, sizeof(*keep));
	enum smime_dane r = SMIME_DANE_NOMATCH;
	SSL *ssl = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *xc = NULL;
	char *domain = addr_domain(addr);
	int added = 0;

	*matched = -1;
	*issuer = NULL;
	*why = NULL;
	if (s == NULL || s->cert == NULL || addr == NULL || *addr == '\0') {
		*why = xstrdup(s == NULL || s->cert == NULL ? "no signer certificate" :
		    "no address to check");
		goto out;
	}
	if (n == 0 || tlsa_select(rr, n, keep) == 0) {
		r = SMIME_DANE_NONE_USABLE;
		*why = xstrdup("no usable SMIMEA record (DANE-TA or DANE-EE)");
		goto out;
	}
	if ((ssl = dane_ssl(domain, rr, n, keep, &added, why)) == NULL)
		goto out;
	if (added == 0) {
		r = SMIME_DANE_NONE_USABLE;
		*why = xstrdup("OpenSSL could use none of the SMIMEA records");
		goto out;
	}
	if ((store = X509_STORE_new()) == NULL ||
	    (xc = dane_ctx(s, ssl, store, addr, why)) == NULL) {
		if (*why == NULL)
			*why = xstrdup("out of memory");
		goto out;
	}
	if (X509_verify_cert(xc) > 0) {
		r = SMIME_DANE_MATCH;
		*matched = matched_index(ssl, rr, n, keep);
		*issuer = chain_issuer(xc);
	} else
		r = dane_failure(xc, addr, why);
out:
	X509_STORE_CTX_free(xc);
	X509_STORE_free(store);
	SSL_free(ssl);
	free(domain);
	free(keep);
	ERR_clear_error();
	return r;
}

/* ------------------------------------------------------------ owner names */

char *
smime_verify_owner(const char *addr, int wildcard, char **why)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
	char domain[DNSNAME_MAX], *local = NULL, *owner = NULL;
	const char *dwhy = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	struct buf b;

	*why = NULL;
	if (at == NULL || at == addr) {
		*why = xasprintf("not an address with a local part and a domain: %s",
		    addr != NULL ? addr : "(none)");
		return NULL;
	}
	if (dnsname_normalize(at + 1, 0, domain, &dwhy) != 0 || domain[0] == '\0') {
		*why = xasprintf("invalid domain in the address: %s", dwhy != NULL ? dwhy : "empty");
		return NULL;
	}
	if (wildcard)
		return xasprintf("*._smimecert.%s.", domain);
	local = xstrndup(addr, (size_t)(at - addr));
	if (EVP_Digest(local, strlen(local), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < SMIME_OWNER_OCTETS) {
		*why = smime_util_ossl_why("SHA2-256 failed");
		goto out;
	}
	buf_init(&b);
	for (unsigned i = 0; i < SMIME_OWNER_OCTETS; i++)
		buf_printf(&b, "%02x", md[i]);
	buf_printf(&b, "._smimecert.%s.", domain);
	owner = buf_steal(&b);
out:
	free(local);
	return owner;
}
