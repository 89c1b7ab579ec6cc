/*
 * smime_ocsp.h - revocation of an S/MIME signer certificate through the
 * OCSP responder named in it (RFC 6960; its AIA id-ad-ocsp URI, http
 * only), with libcurl, bounded in time, and a process-wide cache of the
 * answers until their nextUpdate.
 *
 * The responder's host name is resolved through danepol's resolver
 * (dns/dns.h; the answer need not be DNSSEC-secure: the OCSP response is
 * signed) and handed to libcurl (CURLOPT_RESOLVE): libcurl never
 * resolves. The request is an HTTP POST of the DER OCSPRequest (with a
 * nonce); the response must verify (OCSP_basic_verify) with the issuer
 * as the only trust: signed by the issuer itself, or by a delegated
 * responder certificate the issuer issued with id-kp-OCSPSigning;
 * thisUpdate not in the future, nextUpdate not in the past (5 minutes of
 * clock skew allowed).
 *
 * The cache: key the CertID (issuer name and key hashes, serial); a good
 * or revoked answer is kept until its nextUpdate (at most a day; without
 * nextUpdate, 5 minutes); a failed fetch is kept 60 seconds, so a dead
 * responder costs one timeout a minute, not one per message. Bounded
 * (oldest entries go first). One mutex.
 *
 * A failed fetch whose time was cut short by the caller's deadline (less
 * than timeout_ms left) is not cached. libcurl must be initialised by the
 * process (curl_global_init(), sts_fetch_global_init() at start-up).
 *
 * Threads: smime_ocsp_check() on any thread; the cache is shared.
 */
#ifndef DANEPOL_SMIME_OCSP_H
#define DANEPOL_SMIME_OCSP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

struct dns_resolver;

enum smime_ocsp {
	SMIME_OCSP_GOOD,
	SMIME_OCSP_REVOKED,
	SMIME_OCSP_UNKNOWN,	 /* the responder does not know the certificate */
	SMIME_OCSP_NO_RESPONDER, /* the certificate names no http OCSP responder */
	SMIME_OCSP_ERROR,	 /* down, slow, refused, or an answer that does not verify */
};

struct smime_ocsp_cache;

/** A cache of at most max entries (0: 10000). Free with smime_ocsp_cache_free(). */
struct smime_ocsp_cache *smime_ocsp_cache_new(size_t max);
void smime_ocsp_cache_free(struct smime_ocsp_cache *c);

/**
 * The revocation status of cert, issued by issuer, before deadline_ms
 * (CLOCK_MONOTONIC, lib/clock.h) and within timeout_ms for the request.
 * The responder's address is chosen by whoever wrote the certificate:
 * unless allow_internal, an internal one (dnsname_addr_internal():
 * loopback, RFC 1918, link-local, ...) is refused (SMIME_OCSP_ERROR), so
 * a signed message cannot make danepold POST to the relay's own network.
 * cache may be NULL; issuer NULL gives SMIME_OCSP_ERROR (nothing to ask
 * about) unless the certificate names no responder. *from_cache is set to
 * 1 when the answer came from the cache (*why then ends in " (cached)"). *why (caller frees) says what happened, for every status
 * ("responder http://ocsp.example:8080/: revoked at 2026-12-01 10:00:00
 * UTC, reason keyCompromise", "connect: Connection refused", ...).
 */
enum smime_ocsp smime_ocsp_check(struct smime_ocsp_cache *cache, struct dns_resolver *res,
    X509 *cert, X509 *issuer, int64_t deadline_ms, unsigned timeout_ms, int allow_internal,
    int *from_cache, char **why);

/** "good", "revoked", "unknown", "no-responder", "error". */
const char *smime_ocsp_name(enum smime_ocsp s);

#endif
