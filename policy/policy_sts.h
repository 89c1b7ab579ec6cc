/*
 * policy_sts.h - MTA-STS (RFC 8461) applied by the runtime to a fresh
 * decision that DANE did not decide (policy_sts.c).
 *
 * Precedence (RFC 8461 section 2, doc/engine.md): only a destination
 * whose decision is "try" for lack of DANE (no-tlsa, mx-insecure,
 * address-insecure), by the default level (not a policy table row), of
 * an MX lookup (not "[host]" or an address literal), gets MTA-STS. Any
 * secure TLSA record, any DNSSEC failure, a null MX: DANE's decision
 * stands.
 *
 * Contract: the calling thread (a decision); blocks on DNS and, when the
 * policy must be fetched, on HTTPS, never past deadline. d must not be
 * shared yet (refs 1, not in the cache): it is changed in place.
 */
#ifndef DANEPOL_POLICY_STS_H
#define DANEPOL_POLICY_STS_H

#include <stdint.h>

#include "policy.h"

struct policy_runtime;

/** Consult MTA-STS for d (decided from in) and apply it; see above. */
void policy_sts_apply(struct policy_runtime *rt, const struct policy_input *in,
    struct policy_decision *d, int64_t deadline);

/* What an MTA-STS enforce policy says of one MX host name. */
enum policy_sts_host {
	POLICY_STS_HOST_NO_POLICY, /* d applied no enforce policy: the host is not restricted */
	POLICY_STS_HOST_NAMED,	   /* enforce, and a pattern names the host */
	POLICY_STS_HOST_NOT_NAMED  /* enforce, and no pattern names it: never deliver there */
};

/**
 * Whether the MTA-STS enforce policy that decision d applied names the MX
 * host name host (RFC 8461 section 4.1, sts_policy_mx_match(): the same
 * patterns and matcher that made d's hosts unusable). host is outside
 * data (an MTA's MX host name, any bytes; not a name: NOT_NAMED under an
 * enforce policy). Pure; any thread; d is only read.
 */
enum policy_sts_host policy_sts_host(const struct policy_decision *d, const char *host);

/**
 * The RFC 8460 policy-string lines of the MTA-STS policy s applied
 * (sts_policy_strings(): "version: STSv1", "mode: ...", one "mx: ..." per
 * pattern, "max_age: N") into *lines, one malloc'd string each (caller
 * frees each and the array); their number, 0 (and *lines NULL) when s
 * applied none. Pure; any thread.
 */
size_t policy_sts_lines(const struct policy_sts *s, char ***lines);

#endif
