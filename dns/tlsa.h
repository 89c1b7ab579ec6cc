/*
 * tlsa.h - TLSA records (RFC 6698) and their usability for SMTP (RFC 7672).
 *
 * A struct tlsa_rr is a plain record. tlsa_parse() fills one from RDATA and
 * allocates rr->data; tlsa_rr_clear() frees it. Usability follows RFC 7672
 * section 3.1 and RFC 7671 section 9: usages 2 (DANE-TA) and 3 (DANE-EE)
 * only; selectors 0/1; matching types 0/1/2; digest data of exactly 32
 * (SHA2-256) or 64 (SHA2-512) octets; Full(0) data that parses as a DER
 * certificate (selector 0) or SubjectPublicKeyInfo (selector 1).
 * Matching a peer's certificate is NOT done here (OpenSSL's DANE API does it).
 */
#ifndef DANEPOL_TLSA_H
#define DANEPOL_TLSA_H

#include <stddef.h>
#include <stdint.h>

enum tlsa_usage { TLSA_PKIX_TA = 0, TLSA_PKIX_EE = 1, TLSA_DANE_TA = 2, TLSA_DANE_EE = 3 };
enum tlsa_selector { TLSA_SEL_CERT = 0, TLSA_SEL_SPKI = 1 };
enum tlsa_mtype { TLSA_MT_FULL = 0, TLSA_MT_SHA256 = 1, TLSA_MT_SHA512 = 2 };

struct tlsa_rr {
	uint8_t usage;
	uint8_t selector;
	uint8_t mtype;
	uint8_t *data; /* association data, owned; NULL if len == 0 */
	size_t len;
	int usable;		  /* set by tlsa_parse() */
	const char *unusable_why; /* static text when !usable, else NULL */
};

/**
 * Parse TLSA RDATA (rdlen octets). Returns 0 with *rr filled (and classified
 * usable/unusable), or -1 when rdlen < 3 (malformed: *rr zeroed, nothing to
 * free). An unusable but well-formed record is not an error.
 */
int tlsa_parse(const uint8_t *rdata, size_t rdlen, struct tlsa_rr *rr);

/** Free rr->data and zero the record. NULL-safe. */
void tlsa_rr_clear(struct tlsa_rr *rr);

/**
 * Presentation form "U S M HEX" (upper-case hex, no spaces: the RFC 8460
 * policy-string form). Caller frees the returned string.
 */
char *tlsa_to_string(const struct tlsa_rr *rr);

/** RFC 7218 mnemonics ("DANE-EE", "SPKI", "SHA2-256"); numbers for others. */
const char *tlsa_usage_name(unsigned usage);
const char *tlsa_selector_name(unsigned selector);
const char *tlsa_mtype_name(unsigned mtype);

/**
 * RFC 7672 3.1 + RFC 7671 9: which of the n records to hand to OpenSSL.
 * keep[i] = 1 for usable DANE-TA/DANE-EE records that survive digest
 * agility (per usage and selector: every Full(0) record, and only the
 * records of the strongest digest present, SHA2-512 over SHA2-256).
 * Returns how many were kept.
 */
size_t tlsa_select(const struct tlsa_rr *rr, size_t n, int *keep);

#endif
