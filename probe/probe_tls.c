/*
 * probe_tls.c - the probe's TLS client (probe_int.h): OpenSSL 3 DANE
 * verification as RFC 7672 wants it, and the OCSP staple check.
 *
 * DANE set-up for a host of state dane (facts verified against OpenSSL
 * 3.0, see the test-harness notes):
 *   - SSL_CTX_dane_enable(), SSL_dane_enable(ssl, TLSA base domain): this
 *     also sets SNI and the first reference name;
 *   - DANE_FLAG_NO_DANE_EE_NAMECHECKS: DANE-EE(3) gets neither name nor
 *     expiry checks (RFC 7672 3.1.1);
 *   - further reference names for DANE-TA(2) with SSL_add1_host(): the MX
 *     host name (and its CNAME target), and, when the MX RRset was
 *     secure, the next-hop domain and its CNAME expansion (RFC 7672
 *     3.2.2);
 *   - only the records tlsa_select() keeps (usages 0/1 and unusable
 *     records dropped: OpenSSL would accept PKIX usages; digest agility);
 *     the successful SSL_dane_tlsa_add() calls are counted: with none,
 *     OpenSSL silently does not enforce DANE, so the host is treated as
 *     "TLS without authentication".
 * Hosts of state tls / opportunistic get TLS with SNI = the host name and
 * no authentication. Verification mode is SSL_VERIFY_NONE: the handshake
 * completes and the result is read with SSL_get_verify_result(), so a
 * failure can be classified. TLS 1.2 is the minimum.
 *
 * OCSP: the status request is always sent. The staple is parsed, must be
 * "successful", its signature and signer are checked with
 * OCSP_basic_verify() against the certificate's issuer taken from the
 * peer's chain (a partial-chain trust anchor: the issuer itself), then the
 * single response for the leaf certificate is looked up, its validity
 * window checked (5 minutes of leeway), and a delegated responder whose
 * certificate expires before the staple's nextUpdate is reported.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "probe_int.h"
#include "sts_policy.h"
#include "tlsa.h"

#define OCSP_LEEWAY_S 300 /* clock skew allowed on thisUpdate/nextUpdate */

/* The first OpenSSL error queued (or fallback), as allocated text. */
static char *
ssl_error_text(const char *fallback)
{
	unsigned long e = ERR_get_error();
	char text[256];

	if (e == 0)
		return xstrdup(fallback);
	ERR_error_string_n(e, text, sizeof(text));
	ERR_clear_error();
	return probe_smtp_sanitize(text, strlen(text));
}

/* Drive op (SSL_connect/SSL_write/...) until done or deadline. Returns op's rc or -1. */
static int
ssl_wait(SSL *ssl, int fd, int rc, long long deadline)
{
	int e = SSL_get_error(ssl, rc);
	struct pollfd pfd = { fd, 0, 0 };
	long long left = deadline - clock_now_ms();

	if (e == SSL_ERROR_WANT_READ)
		pfd.events = POLLIN;
	else if (e == SSL_ERROR_WANT_WRITE)
		pfd.events = POLLOUT;
	else
		return -1;
	if (left <= 0)
		return -1;
	rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
	return (rc > 0 || (rc < 0 && errno == EINTR)) ? 0 : -1;
}

/* ------------------------------------------------------------ OCSP */

static char *
asn1_time_text(const ASN1_GENERALIZEDTIME *t)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *s;
	long n;

	if (b == NULL || t == NULL || ASN1_TIME_print(b, t) <= 0) {
		BIO_free(b);
		return xstrdup("?");
	}
	n = BIO_get_mem_data(b, &p);
	s = probe_smtp_sanitize(p, n > 0 ? (size_t)n : 0);
	BIO_free(b);
	return s;
}

static void
ocsp_set(struct probe_addr *a, enum probe_ocsp st, char *detail)
{
	a->ocsp = st;
	free(a->ocsp_detail);
	a->ocsp_detail = detail;
}

/* The certificate in chain that issued leaf, or NULL. */
static X509 *
find_issuer(STACK_OF(X509) * chain, X509 *leaf)
{
	for (int i = 0; chain && i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);

		if (X509_check_issued(c, leaf) == X509_V_OK)
			return c;
	}
	return NULL;
}

/* Verify bs for leaf; sets a->ocsp. */
static void
ocsp_basic(OCSP_BASICRESP *bs, STACK_OF(X509) * chain, X509 *leaf, struct probe_addr *a)
{
	ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL, *rev = NULL;
	X509 *issuer = find_issuer(chain, leaf), *signer = NULL;
	X509_STORE *store = NULL;
	OCSP_CERTID *id = NULL;
	int status = -1, reason = -1;

	if (issuer == NULL) {
		ocsp_set(a, PROBE_OCSP_INVALID,
		    xstrdup("issuer of the certificate not in the chain"));
		return;
	}
	if ((store = X509_STORE_new()) == NULL || X509_STORE_add_cert(store, issuer) != 1)
		goto oom;
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	ERR_clear_error();
	if (OCSP_basic_verify(bs, chain, store, 0) <= 0) {
		ocsp_set(a, PROBE_OCSP_INVALID, ssl_error_text("signature or signer not valid"));
		goto out;
	}
	if ((id = OCSP_cert_to_id(NULL, leaf, issuer)) == NULL)
		goto oom;
	if (OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd) != 1) {
		ocsp_set(a, PROBE_OCSP_INVALID, xstrdup("no response for the server certificate"));
		goto out;
	}
	if (OCSP_check_validity(thisupd, nextupd, OCSP_LEEWAY_S, -1) != 1) {
		char *t = asn1_time_text(nextupd);

		ERR_clear_error();
		ocsp_set(a, PROBE_OCSP_EXPIRED,
		    xasprintf("outside its validity (nextUpdate %s)", t));
		free(t);
		goto out;
	}
	if (nextupd && OCSP_resp_get0_signer(bs, &signer, chain) == 1 && signer != issuer &&
	    ASN1_TIME_compare(X509_get0_notAfter(signer), nextupd) < 0) {
		char *t1 = asn1_time_text(X509_get0_notAfter(signer)),
		     *t2 = asn1_time_text(nextupd);

		ocsp_set(a, PROBE_OCSP_RESPONDER_EXPIRES,
		    xasprintf("responder certificate expires %s, before nextUpdate %s", t1, t2));
		free(t1);
		free(t2);
		goto out;
	}
	if (status == V_OCSP_CERTSTATUS_GOOD)
		ocsp_set(a, PROBE_OCSP_GOOD, NULL);
	else if (status == V_OCSP_CERTSTATUS_REVOKED)
		ocsp_set(a, PROBE_OCSP_REVOKED,
		    xasprintf("revoked (%s)", OCSP_crl_reason_str(reason)));
	else
		ocsp_set(a, PROBE_OCSP_UNKNOWN, xstrdup("responder does not know the certificate"));
	goto out;
oom:
	ocsp_set(a, PROBE_OCSP_INVALID, ssl_error_text("cannot check the response"));
out:
	OCSP_CERTID_free(id);
	X509_STORE_free(store);
}

static void
ocsp_check(SSL *ssl, struct probe_addr *a)
{
	const unsigned char *p = NULL;
	long len = SSL_get_tlsext_status_ocsp_resp(ssl, &p);
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	int st;

	if (len <= 0 || p == NULL) {
		ocsp_set(a, PROBE_OCSP_MISSING, NULL);
		return;
	}
	if (leaf == NULL) {
		ocsp_set(a, PROBE_OCSP_INVALID, xstrdup("no server certificate"));
		return;
	}
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, len)) == NULL) {
		ERR_clear_error();
		ocsp_set(a, PROBE_OCSP_INVALID, xstrdup("malformed OCSP response"));
		return;
	}
	if ((st = OCSP_response_status(resp)) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		ocsp_set(a, PROBE_OCSP_INVALID,
		    xasprintf("response status %s", OCSP_response_status_str(st)));
		goto out;
	}
	if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
		ocsp_set(a, PROBE_OCSP_INVALID, ssl_error_text("no basic OCSP response"));
		goto out;
	}
	ocsp_basic(bs, SSL_get_peer_cert_chain(ssl), leaf, a);
out:
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
}

/* ------------------------------------------------------------ DANE */

static SSL_CTX *
tls_ctx(char **why)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_dane_enable(ctx) <= 0) {
		*why = ssl_error_text("cannot set up TLS");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

/* Add name as a further reference identifier unless it is base. */
static void
add_host(SSL *ssl, const char *name, const char *base)
{
	if (name && *name && strcasecmp(name, base) != 0 && SSL_add1_host(ssl, name) != 1)
		ERR_clear_error();
}

/* DANE for a dane host: enable, names, records. Returns the records added, -1 on error. */
static int
dane_setup(SSL *ssl, const struct policy_decision *d, const struct policy_host *h, char **why)
{
	int *keep = xcalloc(h->ntlsa ? h->ntlsa : 1, sizeof(int)), added = 0;

	if (SSL_dane_enable(ssl, h->tlsa_base) <= 0) {
		*why = ssl_error_text("SSL_dane_enable failed");
		free(keep);
		return -1;
	}
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	add_host(ssl, h->name, h->tlsa_base);
	add_host(ssl, h->canonname, h->tlsa_base);
	if (d->mx_queried && !d->implicit_mx && d->mx_sec == DNS_SEC_SECURE) {
		add_host(ssl, d->domain, h->tlsa_base);
		add_host(ssl, d->mx_domain, h->tlsa_base);
	}
	tlsa_select(h->tlsa, h->ntlsa, keep);
	for (size_t i = 0; i < h->ntlsa; i++) {
		const struct tlsa_rr *rr = &h->tlsa[i];

		if (keep[i] &&
		    SSL_dane_tlsa_add(ssl, rr->usage, rr->selector, rr->mtype, rr->data, rr->len) >
			0)
			added++;
	}
	ERR_clear_error();
	free(keep);
	return added;
}

/* 1 when h is verified as an MTA-STS host: d has a policy (enforce or testing), h no DANE. */
static int
sts_host(const struct policy_decision *d, const struct policy_host *h)
{
	return d->sts != NULL && d->sts->have && d->sts->mode != STS_MODE_NONE &&
	       h->state != POLICY_HOST_DANE && h->name != NULL;
}

/*
 * MTA-STS (RFC 8461 section 4.2): SNI and reference name the MX host,
 * PKIX against ca_file or the system store (no partial wildcards). The
 * verification result is read after the handshake, as for DANE.
 */
static int
sts_setup(SSL_CTX *ctx, SSL *ssl, const struct policy_host *h, const char *ca_file, char **why)
{
	int rc = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
			 : SSL_CTX_set_default_verify_paths(ctx);

	if (rc != 1) {
		*why = ssl_error_text(ca_file ? "cannot load sts_ca_file" : "no system CA store");
		return -1;
	}
	if (SSL_set_tlsext_host_name(ssl, h->name) != 1 || SSL_set1_host(ssl, h->name) != 1) {
		*why = ssl_error_text("cannot set the MX host name");
		return -1;
	}
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return 0;
}

/* Which record matched at which depth; the verification result. */
static void
dane_result(SSL *ssl, int dane, struct probe_addr *a)
{
	uint8_t usage, sel, mtype;
	const unsigned char *data = NULL;
	size_t dlen = 0;
	int depth;

	a->verify_error = SSL_get_verify_result(ssl);
	a->verify_text = xstrdup(X509_verify_cert_error_string(a->verify_error));
	a->match_depth = -1;
	if (!dane)
		return;
	depth = SSL_get0_dane_tlsa(ssl, &usage, &sel, &mtype, &data, &dlen);
	if (depth >= 0 && data != NULL) {
		struct tlsa_rr rr = { usage, sel, mtype, (uint8_t *)data, dlen, 1, NULL };

		a->match_depth = depth;
		a->matched = tlsa_to_string(&rr);
	}
	a->authenticated = a->verify_error == X509_V_OK && a->match_depth >= 0;
}

/* SHA2-256 of the n bytes at p as lower-case hex (caller frees), or NULL. */
static char *
sha256_hex(const unsigned char *p, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct buf b;
	char *s;

	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1)
		return NULL;
	buf_init(&b);
	for (unsigned int i = 0; i < mdlen; i++)
		buf_printf(&b, "%02X", md[i]);
	s = buf_steal(&b);
	buf_free(&b);
	return s;
}

/* The DER of x (its certificate, or with spki its public key) hashed. */
static char *
cert_digest(X509 *x, int spki)
{
	unsigned char *der = NULL;
	char *hex = NULL;
	int n;

	n = spki ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : i2d_X509(x, &der);
	if (n > 0)
		hex = sha256_hex(der, (size_t)n);
	OPENSSL_free(der);
	return hex;
}

/* notAfter of x as Unix seconds, 0 when it cannot be read. */
static int64_t
not_after(X509 *x)
{
	const ASN1_TIME *t = X509_get0_notAfter(x);
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

/* The presented chain's subjects, digests, DER and expiry (what TLSA records match). */
static void
peer_chain(SSL *ssl, struct probe_addr *a)
{
	STACK_OF(X509) *sk = SSL_get_peer_cert_chain(ssl);
	int n = sk ? sk_X509_num(sk) : 0, der_len;
	unsigned char *der = NULL;
	char name[512];

	if (n > PROBE_CHAIN_MAX)
		n = PROBE_CHAIN_MAX;
	if (n <= 0)
		return;
	a->chain = xcalloc((size_t)n, sizeof(*a->chain));
	for (int i = 0; i < n; i++) {
		X509 *x = sk_X509_value(sk, i);
		struct probe_cert *pc = &a->chain[a->nchain++];

		if (X509_NAME_oneline(X509_get_subject_name(x), name, sizeof(name)))
			pc->subject = probe_smtp_sanitize(name, strlen(name));
		pc->cert_sha256 = cert_digest(x, 0);
		pc->spki_sha256 = cert_digest(x, 1);
		pc->not_after = not_after(x);
		der_len = i2d_X509(x, &der);
		if (der_len > 0) {
			pc->der = xmemdup(der, (size_t)der_len);
			pc->der_len = (size_t)der_len;
		}
		OPENSSL_free(der);
		der = NULL;
	}
	ERR_clear_error();
}

static void
peer_info(SSL *ssl, struct probe_addr *a)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	const char *v = SSL_get_version(ssl), *c = SSL_get_cipher_name(ssl);
	char name[512];

	a->tls_version = v ? xstrdup(v) : NULL;
	a->cipher = c ? xstrdup(c) : NULL;
	if (leaf && X509_NAME_oneline(X509_get_subject_name(leaf), name, sizeof(name)))
		a->peer_subject = probe_smtp_sanitize(name, strlen(name));
	peer_chain(ssl, a);
}

/* QUIT over TLS, the 221 (bounded, ignored), close_notify. */
static void
tls_quit(SSL *ssl, int fd, unsigned ms)
{
	long long deadline = clock_now_ms() + ms;
	char junk[512];
	int rc;

	while ((rc = SSL_write(ssl, "QUIT\r\n", 6)) <= 0)
		if (ssl_wait(ssl, fd, rc, deadline) < 0)
			goto out;
	for (;;) {
		rc = SSL_read(ssl, junk, sizeof(junk));
		if (rc > 0 && memchr(junk, '\n', (size_t)rc) != NULL)
			break;
		if (clock_now_ms() >= deadline || (rc <= 0 && ssl_wait(ssl, fd, rc, deadline) < 0))
			goto out;
	}
	SSL_shutdown(ssl);
out:
	ERR_clear_error();
}

/* Run the handshake within ms. 0, or -1 with *why. */
static int
handshake(SSL *ssl, int fd, unsigned ms, char **why)
{
	long long deadline = clock_now_ms() + ms;
	int rc;

	while ((rc = SSL_connect(ssl)) != 1) {
		if (ssl_wait(ssl, fd, rc, deadline) < 0) {
			*why = clock_now_ms() >= deadline
			    ? xasprintf("TLS handshake timed out after %u ms", ms)
			    : ssl_error_text("TLS handshake failed");
			return -1;
		}
	}
	return 0;
}

void
probe_tls_session(int fd, const struct policy_decision *d, const struct policy_host *h,
    const struct probe_opts *o, struct probe_addr *a)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	char *why = NULL;
	int dane = 0;

	ERR_clear_error();
	a->stage = PROBE_ST_HANDSHAKE;
	if ((ctx = tls_ctx(&why)) == NULL || (ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(ssl, fd) != 1)
		goto fail;
	SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
	if (h->state == POLICY_HOST_DANE && h->tlsa_base) {
		int added = dane_setup(ssl, d, h, &why);

		if (added < 0)
			goto fail;
		a->nadded = (size_t)added;
		dane = added > 0;
	} else if (sts_host(d, h)) {
		if (sts_setup(ctx, ssl, h, o->ca_file, &why) < 0)
			goto fail;
		a->sts = 1;
	} else if (h->name && SSL_set_tlsext_host_name(ssl, h->name) != 1) {
		ERR_clear_error();
	}
	if (handshake(ssl, fd, o->step_timeout_ms, &why) < 0)
		goto fail;
	a->stage = PROBE_ST_TLS;
	peer_info(ssl, a);
	dane_result(ssl, dane, a);
	if (a->sts)
		a->authenticated = a->verify_error == X509_V_OK;
	ocsp_check(ssl, a);
	tls_quit(ssl, fd, o->step_timeout_ms);
	goto out;
fail:
	if (why == NULL)
		why = ssl_error_text("TLS set-up failed");
	free(a->detail);
	a->detail = xasprintf("TLS handshake: %s", why);
out:
	free(why);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
}

/* ------------------------------------------------ a chain from a file */

/* The X509_STORE_CTX for chain[0..n) with ssl's DANE state and names. */
static X509_STORE_CTX *
chain_ctx(SSL_CTX *ctx, SSL *ssl, X509 *const *chain, size_t n, STACK_OF(X509) **untrusted)
{
	X509_STORE_CTX *vctx = X509_STORE_CTX_new();

	*untrusted = sk_X509_new_null();
	if (vctx == NULL || *untrusted == NULL)
		goto fail;
	for (size_t i = 1; i < n; i++)
		if (sk_X509_push(*untrusted, chain[i]) <= 0)
			goto fail;
	/* as libssl verifies a server's chain: purpose "ssl_server", the
	 * SSL's verify parameters (its reference names), its DANE state */
	if (X509_STORE_CTX_init(vctx, SSL_CTX_get_cert_store(ctx), chain[0], *untrusted) != 1 ||
	    X509_STORE_CTX_set_default(vctx, "ssl_server") != 1 ||
	    X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(vctx), SSL_get0_param(ssl)) != 1)
		goto fail;
	X509_STORE_CTX_set0_dane(vctx, SSL_get0_dane(ssl));
	return vctx;
fail:
	X509_STORE_CTX_free(vctx);
	sk_X509_free(*untrusted);
	*untrusted = NULL;
	return NULL;
}

int
probe_tls_chain_verify(const struct policy_decision *d, const struct policy_host *h,
    X509 *const *chain, size_t n, struct probe_addr *a)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *vctx = NULL;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	char *why = NULL;
	int added = 0, rc = -1;

	ERR_clear_error();
	a->match_depth = -1;
	if (n == 0 || h->state != POLICY_HOST_DANE || h->tlsa_base == NULL) {
		why = xstrdup(n == 0 ? "no certificate" : "the host has no usable TLSA records");
		goto out;
	}
	if ((ctx = tls_ctx(&why)) == NULL || (ssl = SSL_new(ctx)) == NULL ||
	    (added = dane_setup(ssl, d, h, &why)) < 0)
		goto out;
	a->nadded = (size_t)added;
	if ((vctx = chain_ctx(ctx, ssl, chain, n, &untrusted)) == NULL) {
		why = ssl_error_text("cannot set up the chain verification");
		goto out;
	}
	(void)X509_verify_cert(vctx);
	/* what the handshake would have left in the SSL: the result that
	 * SSL_get0_dane_tlsa() and dane_result() read */
	SSL_set_verify_result(ssl, X509_STORE_CTX_get_error(vctx));
	a->stage = PROBE_ST_TLS;
	dane_result(ssl, added > 0, a);
	rc = 0;
out:
	if (why != NULL) {
		free(a->detail);
		a->detail = why;
	}
	X509_STORE_CTX_free(vctx);
	sk_X509_free(untrusted);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}
