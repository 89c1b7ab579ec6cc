/*
 * smime_ocsp.c - revocation of an S/MIME signer through its OCSP responder
 * (contract in smime_ocsp.h).
 *
 * One check: the first http:// id-ad-ocsp URI of the certificate
 * (X509_get1_ocsp(); https:// responders are not used: the answer is
 * signed, TLS adds nothing but a second PKI to trust, so a certificate
 * naming only https responders is SMIME_OCSP_NO_RESPONDER), the CertID
 * (OCSP_cert_to_id(), SHA-1 as every responder expects) with a nonce, the
 * host's A and AAAA records through danepol's resolver (an address
 * literal is used as it is), one libcurl POST with CURLOPT_RESOLVE (no
 * proxy, no redirect, http only, NOSIGNAL, the time left, 64 KiB at
 * most), then the answer: successful, basic, the nonce echoed or absent
 * (many responders never echo; a different nonce is an error),
 * OCSP_basic_verify() against a store holding only the issuer
 * (X509_V_FLAG_PARTIAL_CHAIN: the issuer is an intermediate), the
 * certificate's single response, OCSP_check_validity() with 300 s of skew.
 *
 * The cache: a chained hash table (lib/hash.h, seeded) keyed by the hex
 * of the CertID's DER, with a FIFO list for eviction (oldest first when
 * full) and expiry times on CLOCK_MONOTONIC; one mutex, never held during
 * a fetch (two threads may fetch the same certificate at once: both
 * answers are equal, the second replaces the first). A failed fetch is
 * cached for 60 s only when it had its whole timeout_ms (an error caused
 * by a message's nearly spent deadline says nothing about the responder).
 *
 * libcurl must have been initialised by the process (curl_global_init(),
 * done by sts_fetch_global_init() at start-up).
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "clock.h"
#include "dns.h"
#include "dnsname.h"
#include "hash.h"
#include "mem.h"
#include "smime_ocsp.h"
#include "smime_util.h"
#include "sts_fetch.h"

#define OCSP_MAX_RESPONSE (64 * 1024)
#define OCSP_SKEW_S 300
#define OCSP_TTL_MAX_MS (86400 * 1000LL)
#define OCSP_TTL_NO_NEXT_MS (300 * 1000LL)
#define OCSP_TTL_FAILED_MS (60 * 1000LL)
#define OCSP_DEFAULT_MAX 10000

/* ------------------------------------------------------------ the cache */

struct entry {
	char *key;		/* hex of the CertID DER */
	enum smime_ocsp status;
	char *why;
	int64_t expire_ms;	/* CLOCK_MONOTONIC */
	struct entry *chain;	/* next in the bucket */
	struct entry *older, *newer; /* the FIFO */
};

struct smime_ocsp_cache {
	pthread_mutex_t mu;
	struct entry **bucket;
	size_t nbucket, count, max;
	struct entry *oldest, *newest;
	uint64_t seed;
};

struct smime_ocsp_cache *
smime_ocsp_cache_new(size_t max)
{
	struct smime_ocsp_cache *c = xcalloc(1, sizeof(*c));

	c->max = max ? max : OCSP_DEFAULT_MAX;
	c->nbucket = 64;
	while (c->nbucket < c->max && c->nbucket < (1u << 20))
		c->nbucket <<= 1;
	c->bucket = xcalloc(c->nbucket, sizeof(*c->bucket));
	c->seed = hash_seed(c);
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

static void
entry_free(struct entry *e)
{
	free(e->key);
	free(e->why);
	free(e);
}

void
smime_ocsp_cache_free(struct smime_ocsp_cache *c)
{
	struct entry *e, *next;

	if (c == NULL)
		return;
	for (e = c->oldest; e != NULL; e = next) {
		next = e->newer;
		entry_free(e);
	}
	pthread_mutex_destroy(&c->mu);
	free(c->bucket);
	free(c);
}

/* The bucket slot of key. */
static struct entry **
slot(struct smime_ocsp_cache *c, const char *key)
{
	return &c->bucket[hash_string(c->seed, key, NULL) & (c->nbucket - 1)];
}

/* Unlink e from its bucket and the FIFO and free it (locked). */
static void
cache_remove(struct smime_ocsp_cache *c, struct entry *e)
{
	struct entry **pp = slot(c, e->key);

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->chain;
	if (*pp == e)
		*pp = e->chain;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	c->count--;
	entry_free(e);
}

/* The live entry of key (locked); an expired one is removed. */
static struct entry *
cache_find(struct smime_ocsp_cache *c, const char *key, int64_t now)
{
	struct entry *e;

	for (e = *slot(c, key); e != NULL; e = e->chain)
		if (strcmp(e->key, key) == 0)
			break;
	if (e != NULL && e->expire_ms <= now) {
		cache_remove(c, e);
		e = NULL;
	}
	return e;
}

/* The cached status of key, or -1. *why (caller frees) when found. */
static int
cache_get(struct smime_ocsp_cache *c, const char *key, char **why)
{
	struct entry *e;
	int st = -1;

	if (c == NULL)
		return -1;
	pthread_mutex_lock(&c->mu);
	if ((e = cache_find(c, key, clock_now_ms())) != NULL) {
		st = (int)e->status;
		*why = xasprintf("%s (cached)", e->why);
	}
	pthread_mutex_unlock(&c->mu);
	return st;
}

/* Keep status for ttl_ms under key, replacing an older entry, evicting the oldest. */
static void
cache_put(struct smime_ocsp_cache *c, const char *key, enum smime_ocsp status,
    const char *why, int64_t ttl_ms)
{
	struct entry *e, *old, **sp;
	int64_t now = clock_now_ms();

	if (c == NULL || ttl_ms <= 0)
		return;
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->status = status;
	e->why = xstrdup(why);
	e->expire_ms = now + ttl_ms;
	pthread_mutex_lock(&c->mu);
	if ((old = cache_find(c, key, now)) != NULL)
		cache_remove(c, old);
	while (c->count >= c->max && c->oldest != NULL)
		cache_remove(c, c->oldest);
	sp = slot(c, key);
	e->chain = *sp;
	*sp = e;
	e->older = c->newest;
	if (c->newest != NULL)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
	c->count++;
	pthread_mutex_unlock(&c->mu);
}

/* ------------------------------------------------------------ helpers */

/* The hex of the CertID's DER (the cache key; caller frees), or NULL. */
static char *
certid_key(OCSP_CERTID *id)
{
	unsigned char *der = NULL;
	int n = i2d_OCSP_CERTID(id, &der);
	struct buf b;

	if (n <= 0)
		return NULL;
	buf_init(&b);
	for (int i = 0; i < n; i++)
		buf_printf(&b, "%02x", der[i]);
	OPENSSL_free(der);
	return buf_steal(&b);
}

/* The first http:// OCSP URI of cert (caller frees), or NULL; *https set when one was skipped. */
static char *
responder_url(X509 *cert, int *https)
{
	STACK_OF(OPENSSL_STRING) *uris = X509_get1_ocsp(cert);
	char *url = NULL;

	*https = 0;
	for (int i = 0; i < sk_OPENSSL_STRING_num(uris) && url == NULL; i++) {
		const char *u = sk_OPENSSL_STRING_value(uris, i);

		if (strncasecmp(u, "http://", 7) == 0)
			url = xstrdup(u);
		else if (strncasecmp(u, "https://", 8) == 0)
			*https = 1;
	}
	X509_email_free(uris);
	return url;
}

/* Format an ASN.1 time as "YYYY-MM-DD HH:MM:SS UTC" into out (>= 32). */
static void
time_text(const ASN1_GENERALIZEDTIME *t, char *out, size_t size)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, size, "(unknown time)");
}

/* ------------------------------------------------------------ the fetch */

/* One request's parameters and results. */
struct fetch {
	const char *url;
	char *host;		/* from the URL, without brackets */
	int port;
	int64_t deadline_ms;	/* min(caller's deadline, start + timeout_ms) */
	int full_budget;	/* 1: timeout_ms was not cut by the caller's deadline */
	char **addrs;
	size_t naddrs;
	struct buf body;
	int too_big;
	int allow_internal;	/* 1: an internal responder address may be used */
};

static void
fetch_clear(struct fetch *f)
{
	for (size_t i = 0; i < f->naddrs; i++)
		free(f->addrs[i]);
	free(f->addrs);
	free(f->host);
	buf_free(&f->body);
}

/* Parse f->url into host and port. 0, or -1 with *why. */
static int
parse_url(struct fetch *f, char **why)
{
	char *host = NULL, *port = NULL, *path = NULL;
	int ssl = 0, num = 0;

	if (OSSL_HTTP_parse_url(f->url, &ssl, NULL, &host, &port, &num, &path, NULL, NULL) != 1 ||
	    ssl || host == NULL || *host == '\0' || num <= 0 || num > 65535) {
		*why = xasprintf("responder %s: unusable URL", f->url);
		OPENSSL_free(host);
		OPENSSL_free(port);
		OPENSSL_free(path);
		ERR_clear_error();
		return -1;
	}
	f->host = xstrdup(host);
	f->port = num;
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	return 0;
}

static void
add_addr(struct fetch *f, const char *a)
{
	f->addrs = xreallocarray(f->addrs, f->naddrs + 1, sizeof(*f->addrs));
	f->addrs[f->naddrs++] = xstrdup(a);
}

/* The responder's addresses into f->addrs. 0, or -1 with *why. */
static int
resolve(struct fetch *f, struct dns_resolver *res, char **why)
{
	unsigned char bin[16];
	char canon[DNSNAME_MAX], text[64], *fail[2] = { NULL, NULL };
	const char *dwhy = NULL;
	struct dns_batch *b;
	struct dns_answer *a;
	unsigned tag;

	if (inet_pton(AF_INET, f->host, bin) == 1 || inet_pton(AF_INET6, f->host, bin) == 1) {
		if (!f->allow_internal && dnsname_addr_internal(f->host) == 1) {
			*why = xasprintf("responder %s: internal address %s refused "
					 "(smime_ocsp_internal = no)", f->url, f->host);
			return -1;
		}
		add_addr(f, f->host);
		return 0;
	}
	if (dnsname_normalize(f->host, 0, canon, &dwhy) != 0 || res == NULL) {
		*why = xasprintf("responder %s: %s", f->url, res == NULL ? "no resolver" : dwhy);
		return -1;
	}
	b = dns_batch_new(res);
	dns_batch_add(b, canon, DNS_T_A, 0);
	dns_batch_add(b, canon, DNS_T_AAAA, 1);
	while (dns_batch_next(b, f->deadline_ms, &tag, &a) == 1) {
		for (size_t j = 0; a->status == DNS_DATA && j < a->count; j++)
			if (dns_answer_addr(a, j, text, sizeof(text)) == 0) {
				if (f->allow_internal || dnsname_addr_internal(text) != 1)
					add_addr(f, text);
				else if (tag < 2 && fail[tag] == NULL)
					fail[tag] = xasprintf("only internal %s, refused "
							      "(smime_ocsp_internal = no)", text);
			}
		if (a->status != DNS_DATA && tag < 2)
			fail[tag] = xstrdup(dns_status_name(a->status));
		dns_answer_free(a);
	}
	dns_batch_free(b);
	if (f->naddrs == 0)
		*why = xasprintf("responder %s: no address for %s (A %s, AAAA %s)", f->url, canon,
		    fail[0] ? fail[0] : "-", fail[1] ? fail[1] : "-");
	free(fail[0]);
	free(fail[1]);
	return f->naddrs > 0 ? 0 : -1;
}

static size_t
body_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t n = size * nmemb;

	if (n > OCSP_MAX_RESPONSE || f->body.len + n > OCSP_MAX_RESPONSE) {
		f->too_big = 1;
		return 0;
	}
	buf_append(&f->body, ptr, n);
	return n;
}

/* CURLOPT_RESOLVE's list for the addresses found (NULL for an address literal). */
static struct curl_slist *
resolve_list(const struct fetch *f)
{
	if (f->naddrs == 1 && strcmp(f->addrs[0], f->host) == 0)
		return NULL;
	return sts_fetch_resolve_list(f->host, (unsigned)f->port, (const char *const *)f->addrs,
	    f->naddrs);
}

static void
set_options(CURL *h, struct fetch *f, const unsigned char *req, long req_len,
    struct curl_slist *hdrs, struct curl_slist *rl, char *ebuf, long ms)
{
	curl_easy_setopt(h, CURLOPT_URL, f->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
#endif
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
	if (rl != NULL)
		curl_easy_setopt(h, CURLOPT_RESOLVE, rl);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, req_len);
	curl_easy_setopt(h, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
}

/* The text of a failed transfer: libcurl's, with the system's reason for a failed connect. */
static char *
curl_why(CURL *h, const struct fetch *f, CURLcode cc, const char *ebuf)
{
	long oserr = 0;
	char eb[128];

	if (cc == CURLE_WRITE_ERROR && f->too_big)
		return xasprintf("responder %s: answer larger than 64 KiB", f->url);
	if (cc == CURLE_COULDNT_CONNECT && curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK &&
	    oserr != 0)
		return xasprintf("responder %s: connect: %s (%s)", f->url,
		    strerror_r((int)oserr, eb, sizeof(eb)), ebuf[0] ? ebuf : curl_easy_strerror(cc));
	return xasprintf("responder %s: %s", f->url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
}

/* POST req to the responder; the body into f->body. 0, or -1 with *why. */
static int
post(struct fetch *f, const unsigned char *req, int req_len, char **why)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *rl = resolve_list(f), *hdrs = NULL;
	int64_t left = f->deadline_ms - clock_now_ms();
	CURL *h = curl_easy_init();
	CURLcode cc;
	long code = 0;
	int rc = -1;

	hdrs = curl_slist_append(hdrs, "Content-Type: application/ocsp-request");
	hdrs = curl_slist_append(hdrs, "Accept: application/ocsp-response");
	if (h == NULL || hdrs == NULL || left <= 0) {
		*why = xasprintf("responder %s: %s", f->url,
		    left <= 0 ? "no time left" : "libcurl: cannot create a handle");
		goto out;
	}
	set_options(h, f, req, req_len, hdrs, rl, ebuf, (long)left);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK)
		*why = curl_why(h, f, cc, ebuf);
	else if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), code != 200)
		*why = xasprintf("responder %s: HTTP status %ld", f->url, code);
	else
		rc = 0;
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(rl);
	return rc;
}

/* ------------------------------------------------------------ the answer */

/* The basic response of the DER answer, verified against issuer. NULL with *why. */
static OCSP_BASICRESP *
verified_basic(const struct fetch *f, OCSP_REQUEST *req, X509 *issuer, char **why)
{
	const unsigned char *p = (const unsigned char *)f->body.s;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)f->body.len);
	OCSP_BASICRESP *bs = NULL;
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509_STORE *store = X509_STORE_new();
	int st;

	if (resp == NULL) {
		*why = xasprintf("responder %s: the answer is not an OCSP response", f->url);
		goto out;
	}
	if ((st = OCSP_response_status(resp)) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		*why = xasprintf("responder %s: answered %s", f->url, OCSP_response_status_str(st));
		goto out;
	}
	if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
		*why = xasprintf("responder %s: not a basic OCSP response", f->url);
		goto out;
	}
	if (OCSP_check_nonce(req, bs) == 0) {
		*why = xasprintf("responder %s: the answer's nonce is not ours", f->url);
		goto fail;
	}
	if (certs == NULL || store == NULL || sk_X509_push(certs, issuer) <= 0 ||
	    X509_STORE_add_cert(store, issuer) != 1 ||
	    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN) != 1 ||
	    OCSP_basic_verify(bs, certs, store, 0) <= 0) {
		char *w = smime_util_ossl_why("the answer's signature does not verify");

		*why = xasprintf("responder %s: %s", f->url, w);
		free(w);
		goto fail;
	}
	goto out;
fail:
	OCSP_BASICRESP_free(bs);
	bs = NULL;
out:
	sk_X509_free(certs);
	X509_STORE_free(store);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return bs;
}

/* How long to keep an answer with this nextUpdate (ms; at most a day). */
static int64_t
answer_ttl(const ASN1_GENERALIZEDTIME *next)
{
	int days = 0, secs = 0;
	int64_t ms;

	if (next == NULL)
		return OCSP_TTL_NO_NEXT_MS;
	if (ASN1_TIME_diff(&days, &secs, NULL, next) != 1)
		return 0;
	ms = ((int64_t)days * 86400 + secs) * 1000;
	return ms > OCSP_TTL_MAX_MS ? OCSP_TTL_MAX_MS : ms;
}

/* The certificate's status in bs. *ttl_ms: how long to cache it. */
static enum smime_ocsp
judge(const struct fetch *f, OCSP_BASICRESP *bs, OCSP_CERTID *id, int64_t *ttl_ms, char **why)
{
	int status = -1, reason = -1;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	char t[48];

	*ttl_ms = 0;
	if (OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd) != 1) {
		*why = xasprintf("responder %s: the answer does not cover the certificate", f->url);
		return SMIME_OCSP_ERROR;
	}
	if (OCSP_check_validity(thisupd, nextupd, OCSP_SKEW_S, -1) != 1) {
		ERR_clear_error();
		time_text(nextupd, t, sizeof(t));
		*why = xasprintf("responder %s: the answer is not current (nextUpdate %s)", f->url,
		    nextupd != NULL ? t : "none");
		return SMIME_OCSP_ERROR;
	}
	*ttl_ms = answer_ttl(nextupd);
	switch (status) {
	case V_OCSP_CERTSTATUS_GOOD:
		*why = xasprintf("responder %s: good", f->url);
		return SMIME_OCSP_GOOD;
	case V_OCSP_CERTSTATUS_REVOKED:
		time_text(rev, t, sizeof(t));
		*why = xasprintf("responder %s: revoked at %s%s%s", f->url, t,
		    reason >= 0 ? ", reason " : "", reason >= 0 ? OCSP_crl_reason_str(reason) : "");
		return SMIME_OCSP_REVOKED;
	default:
		*why = xasprintf("responder %s: the certificate is unknown to it", f->url);
		return SMIME_OCSP_UNKNOWN;
	}
}

/* Ask the responder about id: fetch, verify, judge. *ttl_ms: how long to cache it. */
static enum smime_ocsp
ask(struct fetch *f, struct dns_resolver *res, OCSP_CERTID *id, X509 *issuer,
    int64_t *ttl_ms, char **why)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *rid = OCSP_CERTID_dup(id);
	OCSP_BASICRESP *bs = NULL;
	unsigned char *der = NULL;
	enum smime_ocsp st = SMIME_OCSP_ERROR;
	int n = 0;

	*ttl_ms = 0;
	if (req == NULL || rid == NULL || OCSP_request_add0_id(req, rid) == NULL) {
		OCSP_CERTID_free(rid);
		*why = smime_util_ossl_why("cannot build the OCSP request");
		goto out;
	}
	if (OCSP_request_add1_nonce(req, NULL, -1) != 1 || (n = i2d_OCSP_REQUEST(req, &der)) <= 0) {
		*why = smime_util_ossl_why("cannot build the OCSP request");
		goto out;
	}
	if (resolve(f, res, why) != 0 || post(f, der, n, why) != 0)
		goto failed;
	if ((bs = verified_basic(f, req, issuer, why)) == NULL)
		goto failed;
	st = judge(f, bs, id, ttl_ms, why);
	if (st != SMIME_OCSP_ERROR)
		goto out;
failed:
	if (f->full_budget || clock_now_ms() < f->deadline_ms)
		*ttl_ms = OCSP_TTL_FAILED_MS;
out:
	OCSP_BASICRESP_free(bs);
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
	return st;
}

enum smime_ocsp
smime_ocsp_check(struct smime_ocsp_cache *cache, struct dns_resolver *res, X509 *cert,
    X509 *issuer, int64_t deadline_ms, unsigned timeout_ms, int allow_internal, int *from_cache,
    char **why)
{
	struct fetch f;
	OCSP_CERTID *id = NULL;
	char *key = NULL, *url = NULL;
	int https = 0, cached;
	int64_t now = clock_now_ms(), ttl = 0;
	enum smime_ocsp st = SMIME_OCSP_ERROR;

	memset(&f, 0, sizeof(f));
	buf_init(&f.body);
	*from_cache = 0;
	*why = NULL;
	if (cert == NULL || (url = responder_url(cert, &https)) == NULL) {
		*why = xstrdup(https ? "the certificate names only https OCSP responders (http only)"
				     : "the certificate names no OCSP responder");
		st = SMIME_OCSP_NO_RESPONDER;
		goto out;
	}
	if (issuer == NULL || (id = OCSP_cert_to_id(NULL, cert, issuer)) == NULL ||
	    (key = certid_key(id)) == NULL) {
		*why = issuer == NULL ? xstrdup("no issuer certificate to ask about")
				      : smime_util_ossl_why("cannot build the OCSP CertID");
		goto out;
	}
	if ((cached = cache_get(cache, key, why)) >= 0) {
		*from_cache = 1;
		st = (enum smime_ocsp)cached;
		goto out;
	}
	f.url = url;
	f.allow_internal = allow_internal;
	f.deadline_ms = now + timeout_ms < deadline_ms ? now + timeout_ms : deadline_ms;
	f.full_budget = now + timeout_ms <= deadline_ms;
	if (parse_url(&f, why) != 0)
		goto out;
	st = ask(&f, res, id, issuer, &ttl, why);
	cache_put(cache, key, st, *why, ttl);
out:
	fetch_clear(&f);
	OCSP_CERTID_free(id);
	free(key);
	free(url);
	ERR_clear_error();
	return st;
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
