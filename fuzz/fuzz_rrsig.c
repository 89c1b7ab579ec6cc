/*
 * fuzz_rrsig.c - libFuzzer target: a DNS reply's answer section as
 * libunbound returns it (ub_result.answer_packet), read by dns/rrsig.h
 * rrsig_min_expire for dns_answer.sig_expire.
 *
 * Input: the octets of a DNS message, any length.
 * Properties checked (abort = bug in danepol):
 *   - no read outside the input (a private copy of exactly size octets,
 *     so ASan sees any overrun);
 *   - the result is 0 or within 2^31 seconds of now (RFC 4034 3.1.5
 *     serial arithmetic), and the same on a second call;
 *   - the same for the message cut short by one octet.
 */
#include "config.h"

#include "fuzz.h"
#include "rrsig.h"

#define NOW 1796648451LL /* fixed, so runs repeat */

static void
check(const uint8_t *p, size_t n)
{
	int64_t t = rrsig_min_expire(p, n, NOW);

	FUZZ_CHECK(t == 0 || (t >= NOW - 0x80000000LL && t <= NOW + 0x7fffffffLL));
	FUZZ_CHECK(rrsig_min_expire(p, n, NOW) == t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pkt = malloc(size ? size : 1);

	if (pkt == NULL)
		abort();
	memcpy(pkt, data, size);
	check(pkt, size);
	if (size > 0)
		check(pkt, size - 1);
	free(pkt);
	return 0;
}
