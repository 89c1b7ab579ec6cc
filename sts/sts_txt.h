/*
 * sts_txt.h - RFC 8461 section 3.1 policy discovery: the TXT records at
 * _mta-sts.<domain>, from wire RDATA to the policy id.
 *
 * Input is outside data (DNS answers of the receiving domain).
 * Contract: no shared state, any thread; nothing allocated but *why.
 */
#ifndef DANEPOL_STS_TXT_H
#define DANEPOL_STS_TXT_H

#include <stddef.h>
#include <stdint.h>

#define STS_ID_MAX 32 /* characters of an id (1*32 ALPHA / DIGIT) */

/**
 * The text of one TXT RDATA (rdata[0..len): <length><bytes> strings,
 * concatenated, RFC 7208-style) into out (size outsz, NUL-terminated).
 * -1 on malformed RDATA, a NUL byte, or text that does not fit.
 */
int sts_txt_text(const uint8_t *rdata, size_t len, char *out, size_t outsz);

/**
 * Pick the policy id from the n TXT texts of _mta-sts.<domain>: texts
 * that do not begin with "v=STSv1" and ";" are discarded; exactly one
 * must remain and be valid (fields "id=" 1*32 alnum exactly once,
 * extensions name=value). Returns 1 with id (STS_ID_MAX + 1 bytes) set,
 * or 0 with *why (static): the domain has no usable MTA-STS policy.
 */
int sts_txt_select(char *const *texts, size_t n, char *id, const char **why);

#endif
