/*
 * sts_fetch.h - RFC 8461 section 3.3: fetching a domain's MTA-STS policy
 * over HTTPS with libcurl, checked, and parsed (sts_policy.h).
 *
 * https://mta-sts.<domain>/.well-known/mta-sts.txt only: PKIX-valid
 * certificate for that name (the system CA store, or ca_file), no
 * redirects, HTTP 200 only, media type text/plain, at most
 * STS_POLICY_MAX bytes, the whole fetch within timeout_ms.
 *
 * Contract: any thread, blocking for at most timeout_ms (plus libcurl's
 * own clean-up); sts_fetch_global_init() once per process before any
 * thread fetches. Nothing is cached here (sts_cache.h does that).
 */
#ifndef DANEPOL_STS_FETCH_H
#define DANEPOL_STS_FETCH_H

#include <stddef.h>

#include "sts_policy.h"

/* the outcome, in RFC 8460 result-type terms */
enum sts_fetch_status {
	STS_FETCH_OK = 0,
	STS_FETCH_ERROR,  /* sts-policy-fetch-error: no connection, HTTP status, timeout */
	STS_FETCH_WEBPKI, /* sts-webpki-invalid: the certificate failed PKIX validation */
	STS_FETCH_INVALID /* sts-policy-invalid: wrong media type, too big, bad text */
};

struct sts_fetch_opts {
	const char *ca_file;	    /* PEM CA bundle; NULL: the system store */
	unsigned timeout_ms;	    /* the whole fetch; 0: 60000 (section 3.3) */
	unsigned port;		    /* 0: 443 (other ports: tests only) */
	const char *const *addrs;   /* addresses of mta-sts.<domain> to use, or NULL:
				     * libcurl resolves the name itself */
	size_t naddrs;
};

/** curl_global_init(); once per process, before threads fetch. 0 or -1. */
int sts_fetch_global_init(void);

struct curl_slist;

/**
 * libcurl's CURLOPT_RESOLVE list "host:port:addr,addr" (IPv6 addresses in
 * brackets) for the n addresses of host, so that libcurl connects to the
 * addresses danepol's resolver found and never resolves itself; NULL
 * when n is 0. curl_slist_free_all() it. Shared by every libcurl fetch
 * (MTA-STS policies, OCSP).
 */
struct curl_slist *sts_fetch_resolve_list(const char *host, unsigned port,
    const char *const *addrs, size_t n);

/**
 * Fetch and parse the policy of domain (canonical, dnsname.h). Returns
 * STS_FETCH_OK with *p filled (sts_policy_clear() it), or another status
 * with *p zeroed and *err (caller frees): "https://...: reason".
 */
enum sts_fetch_status sts_fetch(const char *domain, const struct sts_fetch_opts *o,
    struct sts_policy *p, char **err);

/** "sts-policy-fetch-error", "sts-webpki-invalid", "sts-policy-invalid", "ok". */
const char *sts_fetch_status_name(enum sts_fetch_status s);

#endif
