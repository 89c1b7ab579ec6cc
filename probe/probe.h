/*
 * probe.h - the STARTTLS DANE probe: connect to each MX address of a
 * destination, read the banner, EHLO, STARTTLS, TLS 1.2+ with SNI = the
 * TLSA base domain, verify with OpenSSL's DANE API (RFC 7672), ask for
 * an OCSP staple and check it, QUIT. Never sends MAIL FROM.
 *
 *   probe.c       probe_run(): which hosts, one probe per address,
 *                 classification into RFC 8460 result types, outcomes
 *                 for the store (store/outcome.h), JSON
 *   probe_smtp.c  the SMTP client over a nonblocking socket: connect,
 *                 bounded reply reader and its pure parser
 *   probe_tls.c   the TLS client: DANE set-up, handshake, which record
 *                 matched at which depth, OCSP staple verification
 *
 * Bounds: every step (TCP connect, each SMTP reply, the TLS handshake)
 * gets step_timeout_ms of wall time, measured from the step's start, so a
 * peer that drips one byte at a time cannot stretch it; replies are
 * limited in line length, line count and total size. Hostile input is
 * classified, never trusted: every string taken from the peer is stored
 * as printable ASCII (other bytes become '?').
 *
 * Ownership: probe_run() returns a struct probe_result the caller frees
 * with probe_result_free(); it holds its own copies of everything it
 * took from the decision (the decision may be released right after).
 * Thread safety: no shared state; any number of probes may run at once.
 */
#ifndef DANEPOL_PROBE_H
#define DANEPOL_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "outcome.h"
#include "policy.h"

/* Limits of the reply reader (probe_smtp.c). */
#define PROBE_LINE_MAX	  1000	/* octets of one reply line, CRLF included (RFC 5321: 512) */
#define PROBE_REPLY_LINES 64	/* lines of one multi-line reply */
#define PROBE_REPLY_MAX	  16384 /* octets of one reply */

struct probe_opts {
	unsigned step_timeout_ms; /* bound on each step (probe_step_timeout) */
	const char *helo;	  /* EHLO name, or NULL: the host name */
	unsigned port;		  /* 0: the decision's port (25) */
	size_t max_addrs;	  /* addresses probed per host (0: all) */
	const char *ca_file;	  /* CA bundle for MTA-STS hosts (sts_ca_file), or NULL:
				   * the system store */
};

/* Stage a probe of one address reached. */
enum probe_stage {
	PROBE_ST_NONE,	    /* not attempted (no address, host unusable) */
	PROBE_ST_CONNECT,   /* TCP connect failed */
	PROBE_ST_BANNER,    /* no valid 220 banner */
	PROBE_ST_EHLO,	    /* EHLO refused / broken */
	PROBE_ST_STARTTLS,  /* STARTTLS not offered or refused */
	PROBE_ST_HANDSHAKE, /* TLS handshake failed */
	PROBE_ST_TLS,	    /* TLS established (authenticated or not) */
};

/* The OCSP staple of one TLS session (probe_tls.c). */
enum probe_ocsp {
	PROBE_OCSP_NOT_CHECKED, /* no TLS session */
	PROBE_OCSP_MISSING,	/* no staple sent */
	PROBE_OCSP_GOOD,
	PROBE_OCSP_REVOKED,
	PROBE_OCSP_UNKNOWN, /* responder does not know the certificate */
	PROBE_OCSP_INVALID, /* malformed, unsuccessful, bad signature, unauthorised signer, wrong certificate */
	PROBE_OCSP_EXPIRED,	      /* nextUpdate passed (or thisUpdate in the future) */
	PROBE_OCSP_RESPONDER_EXPIRES, /* signer certificate expires before nextUpdate */
};

/* One certificate the peer presented, with what a TLSA record matches. */
struct probe_cert {
	char *subject;	   /* one line, sanitised, or NULL */
	char *cert_sha256; /* SHA2-256 of the certificate: "x 0 1 HEX" records */
	char *spki_sha256; /* SHA2-256 of its SubjectPublicKeyInfo: "x 1 1 HEX" */
	unsigned char *der; /* the DER certificate (for the operator's own checks:
			     * danepol tlsa --server, selfcheck), or NULL */
	size_t der_len;
	int64_t not_after; /* notAfter in Unix seconds, 0 unknown */
};

#define PROBE_CHAIN_MAX 10 /* certificates of a presented chain kept */

/* One probed address (or one host that could not be probed). */
struct probe_addr {
	char *host; /* MX host name */
	char *addr; /* address probed, or NULL */
	unsigned port;
	enum policy_host_state state; /* the decision's state for the host */
	enum policy_reason reason;    /* the decision's reason for the host (why unusable) */
	char *tlsa_base;	      /* TLSA base domain, or NULL */
	char **tlsa;		      /* the host's TLSA records "U S M HEX" (all, as published) */
	size_t ntlsa;
	size_t nadded; /* records handed to OpenSSL (usable, after digest agility) */
	enum probe_stage stage;
	char *banner;	 /* first banner line, sanitised, or NULL */
	char *helo_name; /* server name from the EHLO reply (else the banner), or NULL */
	int starttls_offered;
	char *tls_version; /* "TLSv1.3", or NULL */
	char *cipher;
	char *peer_subject;	  /* leaf certificate subject (one line), or NULL */
	struct probe_cert *chain; /* the presented chain, leaf first (at most
				   * PROBE_CHAIN_MAX), for "no match" output */
	size_t nchain;
	int authenticated; /* DANE authentication succeeded (MTA-STS: PKIX and the name) */
	int sts;	   /* verified as an MTA-STS host: PKIX against the CA store,
			    * the certificate naming the MX host (RFC 8461 section 4.2) */
	int match_depth;   /* chain depth of the matching certificate, or -1 */
	char *matched;	   /* the record that matched "U S M HEX", or NULL */
	long verify_error; /* X509_V_* result (0 ok), -1: not verified */
	char *verify_text; /* its text, or NULL */
	enum probe_ocsp ocsp;
	char *ocsp_detail;	 /* why, or NULL */
	int success;		 /* policy-compliant TLS (see probe.c) */
	const char *result_type; /* static RFC 8460 result type when !success, or NULL */
	int transient; /* failure before TLS mattered (connect, banner): not a TLSRPT failure */
	char *detail;  /* human / failure-reason-code detail, or NULL */
	unsigned elapsed_ms;
};

struct probe_result {
	char *domain;		     /* the destination (policy domain) */
	enum policy_verdict verdict; /* the decision's */
	enum policy_reason reason;
	enum tls_level level;	  /* the decision's TLS level */
	int no_mx;		  /* the destination was "[host]" (no MX lookup) */
	unsigned port;		  /* the destination's port (the decision's) */
	int64_t time;		  /* Unix seconds at the start */
	struct probe_addr *addrs; /* in the decision's host order */
	size_t naddrs;
	char **sts_lines; /* the MTA-STS policy's lines (enforce or testing: its
			   * hosts are verified as such), or NULL */
	size_t nsts_lines;
	unsigned ndane;	       /* DANE hosts (state dane) */
	unsigned ndane_failed; /* ... whose every probed address failed authentication */
};

/**
 * Probe every usable host of d (state dane, tls, opportunistic; up to
 * o->max_addrs addresses each) one address after the other, and list
 * unusable hosts (DNSSEC/TLSA failures) without connecting. When d has
 * an MTA-STS policy (enforce or testing; DANE did not decide d), its
 * hosts are verified as RFC 8461 section 4.2 says (PKIX against
 * o->ca_file or the system store, the certificate naming the MX host)
 * and their outcomes are sts ones. Never fails:
 * every problem is a classified entry. Returns a result the caller frees.
 */
struct probe_result *probe_run(const struct policy_decision *d, const struct probe_opts *o);

void probe_result_free(struct probe_result *r);

/**
 * 1 when d has at least one DANE host and every one of them failed
 * authentication in r (an authentication failure: STARTTLS refused, the
 * handshake failed, or the peer did not match; an unreachable address is
 * no failure), else 0.
 */
int probe_all_dane_failed(const struct probe_result *r);

/**
 * The RFC 8460 outcome of r->addrs[i] into *o (filled from scratch; the
 * caller clears it with outcome_clear()). Returns 0, or -1 when the
 * entry is no reportable session (transient failure, nothing attempted
 * for a host without a TLSRPT-relevant failure): *o is then zeroed.
 */
int probe_outcome(const struct probe_result *r, size_t i, struct tls_outcome *o);

/**
 * Verify a certificate chain that is not presented in a handshake but
 * read from a file (leaf first: a certificate an MTA is configured to
 * serve) against host h of decision d, exactly as a handshake with h is
 * verified (probe_tls.c: the same DANE set-up, reference names and
 * records, through OpenSSL's X509_verify_cert() with the SSL's DANE
 * state). Fills a->stage (PROBE_ST_TLS), nadded, verify_error,
 * verify_text, match_depth, matched and authenticated; a is the caller's
 * (zeroed by it; probe_addr_clear() frees its fields). Returns 0,
 * or -1 with a->detail when h has no usable records or OpenSSL fails.
 * For danepol selfcheck: a certificate checked before it is deployed.
 * Thread safety: none needed (no shared state).
 */
int probe_tls_chain_verify(const struct policy_decision *d, const struct policy_host *h,
    X509 *const *chain, size_t n, struct probe_addr *a);

/** Free the fields of one probe_addr the caller owns and zero it. NULL-safe. */
void probe_addr_clear(struct probe_addr *a);

/** The result as JSON (doc/probe.schema.json); new reference. */
json_t *probe_result_json(const struct probe_result *r);

const char *probe_stage_name(enum probe_stage s);
const char *probe_ocsp_name(enum probe_ocsp s);

/* ------------------------------------------------ pure parts, for tests */

/**
 * Classify one entry from its stage, state, verify_error and
 * authenticated fields: sets success, result_type, transient (does not
 * touch detail).
 */
void probe_classify(struct probe_addr *a);

/** The X509_V_ERR_* name of a verification error (static), or NULL if unknown. */
const char *probe_x509_name(long err);

#endif
