/*
 * sts_fetch.c - the HTTPS fetch of MTA-STS policies (contract in
 * sts_fetch.h). One libcurl easy handle per fetch; nothing shared.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mem.h"
#include "sts_fetch.h"

#define FETCH_TIMEOUT_MS 60000

/* the body, bounded: more than STS_POLICY_MAX bytes aborts the transfer */
struct body {
	struct buf b;
	int too_big;
};

static size_t
body_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct body *bd = arg;
	size_t n = size * nmemb;

	if (n > STS_POLICY_MAX || bd->b.len + n > STS_POLICY_MAX) {
		bd->too_big = 1;
		return 0; /* CURLE_WRITE_ERROR */
	}
	buf_append(&bd->b, ptr, n);
	return n;
}

int
sts_fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

const char *
sts_fetch_status_name(enum sts_fetch_status s)
{
	switch (s) {
	case STS_FETCH_OK:
		return "ok";
	case STS_FETCH_WEBPKI:
		return "sts-webpki-invalid";
	case STS_FETCH_INVALID:
		return "sts-policy-invalid";
	default:
		return "sts-policy-fetch-error";
	}
}

struct curl_slist *
sts_fetch_resolve_list(const char *host, unsigned port, const char *const *addrs, size_t n)
{
	struct curl_slist *l = NULL;
	struct buf b;

	if (addrs == NULL || n == 0)
		return NULL;
	buf_init(&b);
	buf_printf(&b, "%s:%u:", host, port);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, strchr(addrs[i], ':') ? "%s[%s]" : "%s%s", i ? "," : "", addrs[i]);
	l = curl_slist_append(NULL, b.s);
	buf_free(&b);
	return l;
}

static void
set_options(CURL *h, const char *url, const struct sts_fetch_opts *o, struct curl_slist *res,
    struct body *bd, char *ebuf)
{
	long ms = o->timeout_ms ? (long)o->timeout_ms : FETCH_TIMEOUT_MS;

	curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* section 3.3: no redirects */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL && *o->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
	if (res != NULL)
		curl_easy_setopt(h, CURLOPT_RESOLVE, res);
	curl_easy_setopt(h, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, bd);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
}

/* "text/plain", any case, alone or before ";" parameters */
static int
text_plain(const char *ct)
{
	size_t n = strlen("text/plain");

	if (ct == NULL || strncasecmp(ct, "text/plain", n) != 0)
		return 0;
	ct += n;
	ct += strspn(ct, " \t");
	return *ct == 0 || *ct == ';';
}

/* after the transfer: the status for cc, the HTTP code and media type */
static enum sts_fetch_status
classify(CURL *h, CURLcode cc, const struct body *bd, const char *ebuf, char **why)
{
	long code = 0;
	char *ct = NULL;

	if (cc == CURLE_WRITE_ERROR && bd->too_big) {
		*why = xasprintf("policy larger than %d bytes", STS_POLICY_MAX);
		return STS_FETCH_INVALID;
	}
	if (cc == CURLE_PEER_FAILED_VERIFICATION) {
		*why = xasprintf("certificate not valid for the name: %s", ebuf[0] ? ebuf : "");
		return STS_FETCH_WEBPKI;
	}
	if (cc != CURLE_OK) {
		*why = xstrdup(ebuf[0] ? ebuf : curl_easy_strerror(cc));
		return STS_FETCH_ERROR;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		*why = xasprintf("HTTP status %ld%s", code,
		    code >= 300 && code < 400 ? ": redirects are not followed (RFC 8461 3.3)" : "");
		return STS_FETCH_ERROR;
	}
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	if (!text_plain(ct)) {
		*why = xasprintf("media type %.64s, not text/plain", ct ? ct : "(none)");
		return STS_FETCH_INVALID;
	}
	return STS_FETCH_OK;
}

enum sts_fetch_status
sts_fetch(const char *domain, const struct sts_fetch_opts *o, struct sts_policy *p, char **err)
{
	unsigned port = o->port ? o->port : 443;
	char *host = xasprintf("mta-sts.%s", domain), *url, *why = NULL;
	char ebuf[CURL_ERROR_SIZE] = "";
	struct body bd = { { 0 }, 0 };
	struct curl_slist *res = sts_fetch_resolve_list(host, port, o->addrs, o->naddrs);
	enum sts_fetch_status st = STS_FETCH_ERROR;
	CURL *h = NULL;

	memset(p, 0, sizeof(*p));
	*err = NULL;
	url = port == 443 ? xasprintf("https://%s/.well-known/mta-sts.txt", host)
			  : xasprintf("https://%s:%u/.well-known/mta-sts.txt", host, port);
	buf_init(&bd.b);
	if ((h = curl_easy_init()) == NULL) {
		why = xstrdup("libcurl: cannot create a handle");
		goto out;
	}
	set_options(h, url, o, res, &bd, ebuf);
	st = classify(h, curl_easy_perform(h), &bd, ebuf, &why);
	if (st == STS_FETCH_OK && sts_policy_parse(bd.b.s, bd.b.len, p, &why) < 0)
		st = STS_FETCH_INVALID;
out:
	if (why != NULL)
		*err = xasprintf("%s: %s", url, why);
	free(why);
	curl_easy_cleanup(h);
	curl_slist_free_all(res);
	buf_free(&bd.b);
	free(url);
	free(host);
	return st;
}
