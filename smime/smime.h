/*
 * smime.h - S/MIME signer validation of one inbound message through
 * SMIMEA records (RFC 8162) under DNSSEC and the signer certificate's OCSP
 * responder, with the result as an RFC 8601 Authentication-Results
 * resinfo of the RFC 7281 "smime" method.
 *
 * The check (smime_check()):
 *   1. the MIME structure (smime_mime.h): the first S/MIME signed entity
 *      (multipart/signed with an application/pkcs7-signature part, or
 *      application/pkcs7-mime signed-data), depth-first, within the limits;
 *      none: result none;
 *   2. the CMS signature (smime_verify.h, OpenSSL's CMS API); a signature
 *      that does not verify: fail;
 *   3. the SMIMEA RRset of the From: address, validated: the exact name
 *      (SHA2-256 of the local part, 28 octets, hex) first, then the
 *      domain-wide "*._smimecert.DOMAIN" when the exact name has records
 *      of its own and none matches; no DNSSEC, or no usable record:
 *      neutral; a lookup that fails or is bogus: temperror;
 *   4. the signer's chain against the usage 2/3 records (OpenSSL's DANE
 *      verification) with the From: address as the identity: no match or
 *      another address: fail;
 *   5. revocation through the OCSP responder named in the signer's
 *      certificate (smime_ocsp.h, cached until nextUpdate): revoked: fail;
 *      responder down, slow or its answer unusable: temperror.
 * All of it is bounded by lim->timeout_ms from the call.
 *
 * Ownership: the caller owns the message and the report (smime_report_clear()).
 * Threads: smime_check() may run on many threads at once over one resolver
 * and one OCSP cache; it keeps no other state.
 */
#ifndef DANEPOL_SMIME_H
#define DANEPOL_SMIME_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct conf;
struct dns_resolver;
struct smime_ocsp_cache;

/* RFC 7281 section 2 results (none: the message has no S/MIME signature). */
enum smime_result {
	SMIME_NONE,
	SMIME_PASS,
	SMIME_FAIL,
	SMIME_NEUTRAL,
	SMIME_TEMPERROR,
	SMIME_PERMERROR,
};

/* The limits of one check (danepol.conf smime_*). */
struct smime_limits {
	size_t max_message;	  /* bytes of the whole message (headers and body) */
	unsigned max_depth;	  /* MIME nesting levels searched, CMS layers unwrapped */
	unsigned max_parts;	  /* MIME entities looked at */
	unsigned max_certs;	  /* certificates in one CMS structure */
	unsigned timeout_ms;	  /* the whole check */
	unsigned ocsp_timeout_ms; /* one OCSP request (within timeout_ms) */
	int ocsp_internal;	  /* 1: an OCSP responder on an internal address may be asked */
};

/* What one check found. Strings are owned by the report, NULL when unknown. */
struct smime_report {
	enum smime_result result;
	char *reason;	  /* one line, ASCII: why this result */
	char *part;	  /* MIME part number of the signed entity ("1", "2.1"), "" for the whole message */
	char *kind;	  /* "detached" (multipart/signed) or "opaque" (pkcs7-mime) */
	char *from;	  /* the From: address */
	char *signer;	  /* the signer certificate's address matched, or its first address */
	char *serial;	  /* the signer certificate's serial number, hex */
	char *issuer;	  /* its issuer, RFC 2253 form */
	char *smimea;	  /* the owner name whose record matched, or that was asked */
	char *record;	  /* the matching record "U S M HEX", or NULL */
	char *dnssec;	  /* "secure", "insecure", "bogus", "indeterminate" */
	char *ocsp;	  /* "good", "revoked", "unknown", "no-responder", "error", "cached-good", ... */
	unsigned elapsed_ms;
};

/* The defaults of danepol.conf(5). */
void smime_limits_default(struct smime_limits *lim);

/** The limits of the configuration c (its smime_* keys): every caller's one copy. */
void smime_limits_from_conf(struct smime_limits *lim, const struct conf *c);

/**
 * Check the message msg (len bytes: header lines, an empty line, the body;
 * CRLF or LF line ends) and fill *rep (zeroed first). With len over
 * lim->max_message msg is not read (it may be NULL: a caller that stopped
 * keeping the message) and the result is neutral, not checked. res resolves the
 * SMIMEA records and the OCSP responder's address; ocsp caches OCSP
 * answers (NULL: no cache). Never fails: every problem is a result.
 */
void smime_check(struct dns_resolver *res, struct smime_ocsp_cache *ocsp, const char *msg,
    size_t len, const struct smime_limits *lim, struct smime_report *rep);

/** Free the report's strings and zero it. NULL-safe. */
void smime_report_clear(struct smime_report *rep);

/** "none", "pass", "fail", "neutral", "temperror", "permerror". */
const char *smime_result_name(enum smime_result r);

/**
 * The value of an Authentication-Results header field (RFC 8601 section
 * 2.2) for the report: "AUTHSERV-ID; smime=RESULT reason=\"...\"
 * smime.smime-identifier=... smime.smime-part=... ..." (only the
 * properties known), folded with "\n\t" (libmilter's continuation), ASCII
 * only: anything else in the message's data is replaced. Caller frees.
 */
char *smime_ar_value(const char *authserv_id, const struct smime_report *rep);

/**
 * Whether the Authentication-Results value v claims to be from
 * authserv_id (its authserv-id, before the first ';', compared without
 * case and comments): such a field arriving from outside is a forgery
 * (RFC 8601 section 5) and is removed.
 */
int smime_ar_is_ours(const char *v, const char *authserv_id);

/** The report as a JSON object (the audit line's "smime" member). New reference. */
json_t *smime_report_json(const struct smime_report *rep);

#endif
