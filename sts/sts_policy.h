/*
 * sts_policy.h - RFC 8461 MTA-STS policies: the policy text (section 3.2)
 * parsed and checked, and the MX host patterns matched (section 4.1).
 *
 * Input is outside data (an HTTPS body of a receiving domain): any bytes.
 * Every refusal comes with a reason; nothing here asserts on it.
 * Contract: no shared state, any thread. A struct sts_policy is its
 * owner's; sts_policy_clear() frees what sts_policy_parse() allocated.
 */
#ifndef DANEPOL_STS_POLICY_H
#define DANEPOL_STS_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define STS_POLICY_MAX	   65536    /* bytes of a policy (section 3.3: 64 KB) */
#define STS_MAX_AGE_MAX	   31557600 /* seconds (section 3.2: about one year) */
#define STS_POLICY_MX_MAX  64	    /* mx patterns kept */

enum sts_mode { STS_MODE_NONE = 0, STS_MODE_TESTING, STS_MODE_ENFORCE };

struct sts_policy {
	enum sts_mode mode;
	uint32_t max_age; /* seconds, 0 .. STS_MAX_AGE_MAX */
	char **mx;	  /* patterns, canonical (dnsname.h), "*." kept; owned */
	size_t nmx;
};

/**
 * Parse the policy text body[0..len) (CRLF or LF lines "key: value").
 * version must be STSv1; mode enforce, testing or none; max_age digits up
 * to STS_MAX_AGE_MAX; at least one mx unless mode is none. Unknown keys
 * are ignored; of a repeated key other than mx the first counts. Returns
 * 0 with *p filled, or -1 with *p zeroed and *err ("line N: reason" or
 * "reason", caller frees): the RFC 8460 result sts-policy-invalid.
 */
int sts_policy_parse(const char *body, size_t len, struct sts_policy *p, char **err);

/** Free what p holds and zero it. NULL-safe. */
void sts_policy_clear(struct sts_policy *p);

/** A copy of src into dst (dst's old contents are not freed). */
void sts_policy_copy(struct sts_policy *dst, const struct sts_policy *src);

/**
 * 1 when the MX host name host (any case, one trailing dot allowed)
 * matches one of p's patterns (section 4.1: "*.example.com" stands for
 * exactly one left-most label), else 0.
 */
int sts_policy_mx_match(const struct sts_policy *p, const char *host);

/** "enforce", "testing" or "none". */
const char *sts_policy_mode_name(enum sts_mode m);

/**
 * The RFC 8460 policy-string lines of p ("version: STSv1", "mode: ...",
 * one "mx: ..." per pattern, "max_age: N"), one malloc'd string each in
 * *lines (caller frees each and the array); returns their number.
 */
size_t sts_policy_strings(const struct sts_policy *p, char ***lines);

#endif
