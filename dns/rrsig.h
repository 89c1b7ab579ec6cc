/*
 * rrsig.h - the earliest RRSIG signature expiration in a DNS reply's
 * answer section (the wire packet libunbound hands back in
 * ub_result.answer_packet), for dns_answer.sig_expire.
 *
 * The packet is outside data: every length is checked against the
 * buffer; a malformed packet yields "none" (0), never a read past the end.
 * Pure functions, no allocation, any thread.
 */
#ifndef DANEPOL_RRSIG_H
#define DANEPOL_RRSIG_H

#include <stddef.h>
#include <stdint.h>

#define RRSIG_T_RRSIG 46

/**
 * The 32-bit RRSIG time t (RFC 4034 3.1.5, serial number arithmetic, RFC
 * 1982) as Unix seconds: the value congruent to t modulo 2^32 that lies
 * within 2^31 seconds of now.
 */
int64_t rrsig_time(uint32_t t, int64_t now);

/**
 * The earliest signature expiration (Unix seconds, see rrsig_time()) of
 * the RRSIG records in the answer section of the DNS message pkt[0..len).
 * Returns it, or 0 when the answer section holds no RRSIG or the message
 * is malformed (truncated header, name or record; compression pointer out
 * of place; more records announced than present).
 */
int64_t rrsig_min_expire(const uint8_t *pkt, size_t len, int64_t now);

#endif
