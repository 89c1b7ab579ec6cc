/*
 * report_rua.h - the TLSRPT record of a policy domain (RFC 8460 section 3):
 * "_smtp._tls.<domain>" TXT, its parser (pure, unit-tested and fuzzed with
 * hostile records) and the lookup through the validating resolver (dns.h).
 * Implemented by report_rua.c.
 *
 * Ownership: struct report_rua_set owns its URIs and strings;
 * report_rua_clear() releases them. Errors come back as -1 with *err
 * (caller frees); nothing aborts on outside data. No static state: any
 * thread, one set per caller.
 */
#ifndef DANEPOL_REPORT_RUA_H
#define DANEPOL_REPORT_RUA_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

/* Longest rua URI accepted (bytes); longer ones are ignored. */
#define REPORT_RUA_URI_MAX 2048
/* At most this many rua URIs are kept from one record. */
#define REPORT_RUA_MAX	   16

enum report_rua_scheme { REPORT_RUA_MAILTO, REPORT_RUA_HTTPS };

/* One usable rua URI. */
struct report_rua {
	enum report_rua_scheme scheme;
	char *uri;	   /* as published, without a "!size" suffix */
	char *addr;	   /* mailto: the %-decoded addr-spec; https: NULL */
	uint64_t max_size; /* bytes from a "!10m" style suffix; 0: no limit */
};

/* The TLSRPT endpoints of one policy domain. */
struct report_rua_set {
	struct report_rua *v;
	size_t n;	  /* 0: the domain has no (usable) TLSRPT record */
	enum dns_sec sec; /* DNSSEC state of the TXT answer */
	char *why;	  /* when n == 0: why (no record, two records, ...) */
};

/** Free the members of *set and zero it. NULL-safe. */
void report_rua_clear(struct report_rua_set *set);

/**
 * Parse the text of one TLSRPT record (the TXT strings already joined,
 * len bytes, may contain NUL: then it is invalid). The record must start
 * with "v=TLSRPTv1" and a ';' (RFC 8460 section 3), hold exactly one
 * "rua=" field; other fields are ignored. URIs of unknown schemes and
 * malformed URIs are skipped (counted in *skipped, may be NULL). Returns
 * the number of usable URIs added to set (0 is possible), or -1 with
 * *err when the record itself is not a valid TLSRPT record.
 */
int report_rua_parse_record(const char *txt, size_t len, struct report_rua_set *set,
    size_t *skipped, char **err);

/**
 * Join the character-strings of one TXT RDATA (wire form) without
 * separators. Returns the text (caller frees; *outlen its length, NUL
 * terminated) or NULL when the RDATA is malformed.
 */
char *report_rua_txt_join(const uint8_t *rdata, size_t len, size_t *outlen);

/**
 * From a TXT answer: keep the records starting with "v=TLSRPTv1;" (after
 * joining their strings); exactly one must remain and parse. Fills set
 * (set->n == 0 and set->why when the domain has no usable record).
 * Returns 0 (also when there is no record), or -1 with *err when the
 * lookup failed (SERVFAIL, timeout, bogus: try again later).
 */
int report_rua_from_answer(const struct dns_answer *a, struct report_rua_set *set, char **err);

/**
 * Look up "_smtp._tls.<policy_domain>" TXT through res with a deadline of
 * timeout_ms, then report_rua_from_answer(). Same returns.
 */
int report_rua_discover(struct dns_resolver *res, const char *policy_domain, unsigned timeout_ms,
    struct report_rua_set *set, char **err);

#endif
