/*
 * dns.h - the DNSSEC-validating resolver: one long-lived libunbound context
 * driven asynchronously, with answers classified for RFC 7672.
 *
 * Model: one struct dns_resolver per process (per config snapshot), shared
 * by all threads. A decision creates a struct dns_batch, adds lookups to it
 * as it learns what it needs, and takes answers one at a time with
 * dns_batch_next() until it is done or its deadline passes; lookups still
 * in flight at the deadline are cancelled and come back as DNS_TIMEOUT
 * answers. Many batches (and many lookups per batch) run at once over the
 * one context; a single dispatcher thread runs libunbound's callbacks, so
 * there is no thread per lookup.
 *
 * Classification of a libunbound result (bogus is tested first, because a
 * bogus answer still carries rcode 0 and data; that data is discarded):
 *   bogus                      -> status DNS_FAIL,     sec DNS_SEC_BOGUS (why = unbound's reason)
 *   rcode not NOERROR/NXDOMAIN -> status DNS_FAIL,     sec DNS_SEC_INDETERMINATE
 *   cancelled at deadline      -> status DNS_TIMEOUT,  sec DNS_SEC_INDETERMINATE
 *   NXDOMAIN                   -> status DNS_NXDOMAIN, sec SECURE/INSECURE
 *   NOERROR with data          -> status DNS_DATA,     sec SECURE/INSECURE
 *   NOERROR without data       -> status DNS_NODATA,   sec SECURE/INSECURE
 */
#ifndef DANEPOL_DNS_H
#define DANEPOL_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_T_A	     1
#define DNS_T_CNAME  5
#define DNS_T_MX     15
#define DNS_T_TXT    16
#define DNS_T_AAAA   28
#define DNS_T_TLSA   52
#define DNS_T_SMIMEA 53 /* RFC 8162: the TLSA wire format (dns/tlsa.h parses it) */

enum dns_sec { DNS_SEC_SECURE, DNS_SEC_INSECURE, DNS_SEC_BOGUS, DNS_SEC_INDETERMINATE };
enum dns_status { DNS_DATA, DNS_NODATA, DNS_NXDOMAIN, DNS_FAIL, DNS_TIMEOUT };

struct dns_rdata {
	uint8_t *data; /* wire-format RDATA, owned */
	size_t len;
};

/** One classified answer. Owned by whoever holds it; free with dns_answer_free(). */
struct dns_answer {
	char *qname; /* as asked */
	uint16_t qtype;
	enum dns_status status;
	enum dns_sec sec;
	int rcode;	 /* DNS rcode as reported (0 for timeouts) */
	char *why;	 /* bogus reason / failure text, or NULL */
	char *canonname; /* final name when a CNAME chain was followed, else NULL */
	uint32_t ttl;	 /* TTL of the answer (0 when unknown / failure) */
	int64_t sig_expire; /* earliest expiration (Unix seconds) of the RRSIGs
			     * in the answer section (the RRset and any CNAME
			     * on the way), 0 when none: insecure, failure */
	size_t count;	 /* RDATA items; 0 unless status == DNS_DATA */
	struct dns_rdata *rr;
	unsigned elapsed_ms; /* time from submission to answer */
};

struct dns_options {
	const char *trust_anchor_file; /* DNSKEY/DS file (read-only use), or NULL */
	const char *trust_anchor;      /* one DS/DNSKEY RR string, or NULL */
	const char *forward;	       /* "addr[@port]" of a local resolver, or NULL */
	const char *unbound_config;    /* extra unbound config file (auth-zones, stubs), or NULL */
	unsigned max_rtt_ms;	       /* infra-cache-max-rtt; 0 = library default */
	unsigned retries;	       /* outbound-msg-retry; 0 = library default */
	const char *override_date;     /* val-override-date (tests only), or NULL */
	int no_trust_anchor; /* 1: allow running without any anchor (everything insecure) */
	unsigned fd_share;   /* resolvers sharing the descriptor budget (0 = 1) */
};

struct dns_resolver;
struct dns_batch;

/**
 * Create a resolver. Returns NULL and sets *err (caller frees) on failure:
 * unreadable trust anchor, bad unbound config, thread start failure. With
 * no trust anchor at all and !no_trust_anchor, creation fails, because an
 * anchorless resolver reports everything "insecure".
 */
struct dns_resolver *dns_resolver_new(const struct dns_options *opt, char **err);

/** Stop the dispatcher and free everything. All batches must be freed first. */
void dns_resolver_free(struct dns_resolver *res);

/** New empty batch on res. Free with dns_batch_free(). */
struct dns_batch *dns_batch_new(struct dns_resolver *res);

/**
 * Start a lookup of (name, type) in the batch; tag comes back with the
 * answer. name is copied. Returns 0, or -1 if libunbound refused the query
 * (an answer with status DNS_FAIL is then queued for that tag instead, so
 * callers need no special path).
 */
int dns_batch_add(struct dns_batch *b, const char *name, uint16_t type, unsigned tag);

/** Lookups added and not yet returned by dns_batch_next(). */
size_t dns_batch_pending(const struct dns_batch *b);

/**
 * Wait for the next answer until deadline_ms (CLOCK_MONOTONIC, see
 * clock_now_ms(), lib/clock.h). Returns 1 with *tag and *ans set (caller owns *ans), or 0
 * when nothing is pending. When the deadline passes, every lookup still in
 * flight is cancelled and returned, one per call, as a DNS_TIMEOUT answer,
 * so a caller that loops until 0 always terminates by the deadline.
 */
int dns_batch_next(struct dns_batch *b, int64_t deadline_ms, unsigned *tag,
    struct dns_answer **ans);

/** Cancel whatever is in flight and free the batch. NULL-safe. */
void dns_batch_free(struct dns_batch *b);

/**
 * A synthetic failed answer (status DNS_FAIL or DNS_TIMEOUT, sec
 * indeterminate) for lookups that never reached the resolver. Caller owns.
 */
struct dns_answer *dns_answer_new_fail(const char *qname, uint16_t qtype, enum dns_status st,
    const char *why);

/** Free an answer. NULL-safe. */
void dns_answer_free(struct dns_answer *a);

/** Deep copy of an answer (used by tests and caches). */
struct dns_answer *dns_answer_dup(const struct dns_answer *a);

/** Names for logs and JSON: "secure", "insecure", "bogus", "indeterminate". */
const char *dns_sec_name(enum dns_sec s);
/** "data", "nodata", "nxdomain", "fail", "timeout". */
const char *dns_status_name(enum dns_status s);

/**
 * The text form of the address in item j of a, an A or AAAA answer, into
 * text (size >= 46, INET6_ADDRSTRLEN). 0, or -1 when j is out of range or
 * the RDATA is not 4 (A) or 16 (AAAA) octets.
 */
int dns_answer_addr(const struct dns_answer *a, size_t j, char *text, size_t size);
/** "A", "MX", ... or "TYPEnnn". Returns a static string for known types, else writes into buf (>= 16). */
const char *dns_type_name(uint16_t type, char *buf);

#endif
