/*
 * test_rrsig.c - dns/rrsig.h on hand-built DNS messages: RFC 4034 3.1.5
 * serial arithmetic around now and across the 2^32 wrap, the earliest of
 * several RRSIGs, compression pointers, and malformed messages (every
 * truncation, a bad label type, too few records, a short RRSIG) giving 0.
 * No world, no resolver.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "rrsig.h"

/* A message builder: header, one question, answer records. */
struct msg {
	uint8_t b[1024];
	size_t n;
};

static void
put(struct msg *m, const void *p, size_t len)
{
	cr_assert_leq(m->n + len, sizeof(m->b));
	memcpy(m->b + m->n, p, len);
	m->n += len;
}

static void
put16(struct msg *m, unsigned v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(m, x, 2);
}

static void
put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

/* "\3www\7example\0" style owner names, given already in wire form. */
#define OWNER "\2mx\7example"

static void
header(struct msg *m, unsigned an)
{
	static const uint8_t q[] = OWNER; /* + the root label from the literal's NUL */

	m->n = 0;
	put16(m, 0x1234);
	put16(m, 0x8180);
	put16(m, 1);  /* qdcount */
	put16(m, an); /* ancount */
	put16(m, 0);
	put16(m, 0);
	put(m, q, sizeof(q));
	put16(m, 1);
	put16(m, 1);
}

/* An A record with a compressed owner (pointer to the question name). */
static void
rr_a(struct msg *m)
{
	put16(m, 0xc00c);
	put16(m, 1);
	put16(m, 1);
	put32(m, 3600);
	put16(m, 4);
	put32(m, 0x7f000001);
}

/* An RRSIG over A expiring at exp (32-bit), owner in full. */
static void
rr_sig(struct msg *m, uint32_t exp)
{
	static const uint8_t owner[] = OWNER, signer[] = "\7example";
	uint8_t sig[64] = { 0 };

	put(m, owner, sizeof(owner));
	put16(m, RRSIG_T_RRSIG);
	put16(m, 1);
	put32(m, 3600);
	put16(m, 18 + sizeof(signer) + sizeof(sig));
	put16(m, 1);  /* type covered */
	put(m, "\x0d\x02", 2); /* algorithm 13, labels 2 */
	put32(m, 3600);
	put32(m, exp);
	put32(m, exp - 86400); /* inception */
	put16(m, 4711);
	put(m, signer, sizeof(signer));
	put(m, sig, sizeof(sig));
}

Test(rrsig, serial_time)
{
	int64_t now = 1796648451; /* 2026-12-07 */

	cr_expect_eq(rrsig_time((uint32_t)now, now), now);
	cr_expect_eq(rrsig_time((uint32_t)(now + 172800), now), now + 172800);
	cr_expect_eq(rrsig_time((uint32_t)(now - 86400), now), now - 86400);
	/* after 2106 the 32-bit value wraps: still near now */
	now = 0x100000000LL + 1000;
	cr_expect_eq(rrsig_time(5000, now), 0x100000000LL + 5000);
	cr_expect_eq(rrsig_time(0xffffff00u, now), 0xffffff00LL);
	/* just before the wrap, a small value is in the future */
	now = 0xffffff00LL;
	cr_expect_eq(rrsig_time(0x100, now), 0x100000100LL);
	/* 2^31 - 1 ahead is the future, 2^31 + 1 ahead the past */
	now = 1000000000;
	cr_expect_eq(rrsig_time((uint32_t)(now + 0x7fffffff), now), now + 0x7fffffffLL);
	cr_expect_eq(rrsig_time((uint32_t)(now + 0x80000001LL), now), now - 0x7fffffffLL);
}

Test(rrsig, earliest_of_the_answer_section)
{
	struct msg m;
	int64_t now = 1796648451;

	header(&m, 4);
	rr_a(&m);
	rr_sig(&m, (uint32_t)(now + 30 * 86400));
	rr_sig(&m, (uint32_t)(now + 2 * 86400));
	rr_sig(&m, (uint32_t)(now + 10 * 86400));
	cr_expect_eq(rrsig_min_expire(m.b, m.n, now), now + 2 * 86400);
	/* no RRSIG: 0 */
	header(&m, 1);
	rr_a(&m);
	cr_expect_eq(rrsig_min_expire(m.b, m.n, now), 0);
	/* records after the answer section (authority) are not read */
	header(&m, 1);
	rr_a(&m);
	rr_sig(&m, (uint32_t)(now + 86400));
	m.b[9] = 1; /* nscount 1 */
	cr_expect_eq(rrsig_min_expire(m.b, m.n, now), 0);
}

Test(rrsig, malformed_messages_give_zero)
{
	struct msg m;
	int64_t now = 1796648451;
	size_t full;

	header(&m, 2);
	rr_a(&m);
	rr_sig(&m, (uint32_t)(now + 86400));
	full = m.n;
	cr_expect_eq(rrsig_min_expire(m.b, full, now), now + 86400);
	/* every truncation: 0 (the RRSIG is the last record) */
	for (size_t len = 0; len < full; len++) {
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, m.b, len);
		cr_expect_eq(rrsig_min_expire(copy, len, now), 0, "truncated at %zu", len);
		free(copy);
	}
	cr_expect_eq(rrsig_min_expire(NULL, 100, now), 0);
	/* more answers announced than present */
	m.b[7] = 3;
	cr_expect_eq(rrsig_min_expire(m.b, full, now), 0);
	m.b[7] = 2;
	/* an extended label type (0x40) in the question */
	m.b[12] = 0x42;
	cr_expect_eq(rrsig_min_expire(m.b, full, now), 0);
	m.b[12] = 2;
	/* a label length running past the end (of a 20-octet message) */
	m.b[12] = 0x3f;
	cr_expect_eq(rrsig_min_expire(m.b, 20, now), 0);
	m.b[12] = 2;
	cr_expect_eq(rrsig_min_expire(m.b, full, now), now + 86400, "restored");
	/* an RRSIG whose RDATA is shorter than its fixed part */
	header(&m, 1);
	put16(&m, 0xc00c);
	put16(&m, RRSIG_T_RRSIG);
	put16(&m, 1);
	put32(&m, 3600);
	put16(&m, 10);
	put(&m, "\0\1\x0d\2\0\0\x0e\x10\x6b\x16", 10);
	cr_expect_eq(rrsig_min_expire(m.b, m.n, now), 0);
	/* 200 labels of length 1: a name longer than any DNS name */
	header(&m, 1);
	m.n = 12;
	for (int i = 0; i < 200; i++)
		put(&m, "\1a", 2);
	put(&m, "\0\0\1\0\1", 5);
	cr_expect_eq(rrsig_min_expire(m.b, m.n, now), 0);
}
