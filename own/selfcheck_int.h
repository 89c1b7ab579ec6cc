/*
 * selfcheck_int.h - what the selfcheck*.c files share (not a public
 * interface: use selfcheck.h). Same threads and ownership rules.
 */
#ifndef DANEPOL_SELFCHECK_INT_H
#define DANEPOL_SELFCHECK_INT_H

#include "policy.h"
#include "selfcheck.h"

/**
 * 1 when one of chain's certificates (SHA2-256 hex of each certificate
 * and of its public key, n of them) matches a DANE-TA(2) SHA2-256 record
 * of h, 0 when none does, -1 when h has no such record.
 */
int selfcheck_ta_in_chain(const struct policy_host *h, char *const *cert_hex,
    char *const *spki_hex, size_t n);

/** Findings about a leaf's notAfter (expired, within the windows); r->cert_expire. */
void selfcheck_cert_expiry(const char *subject, const char *what, int64_t not_after,
    const struct selfcheck_opts *o, struct selfcheck_result *r);

/** selfcheck_dns.c: RRSIG expiry of MX, A/AAAA, TLSA; the TLSA TTL. */
void selfcheck_dns(struct policy_runtime *rt, const struct policy_decision *d,
    const struct selfcheck_opts *o, struct selfcheck_result *r);

/** selfcheck_files.c: one chain file against every DANE host of d. */
void selfcheck_file(const struct policy_decision *d, const struct selfcheck_chain *c,
    const struct selfcheck_opts *o, struct selfcheck_result *r);

#endif
