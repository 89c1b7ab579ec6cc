/*
 * rrsig.c - RRSIG expirations from a wire-format DNS reply (contract in
 * rrsig.h). Reads only; every offset is checked before it is used.
 */
#include "config.h"

#include "rrsig.h"

#define RRSIG_HDR	 12
#define RRSIG_EXP_OFF	 8  /* type covered 2, algorithm 1, labels 1, original TTL 4 */
#define RRSIG_FIXED	 18 /* the fixed RDATA part before the signer's name */
#define RRSIG_MAX_LABELS 128

int64_t
rrsig_time(uint32_t t, int64_t now)
{
	/* the difference to now's low 32 bits, as a signed 32-bit step */
	uint32_t d = t - (uint32_t)now;
	int64_t step = d < 0x80000000u ? (int64_t)d : (int64_t)d - 0x100000000;

	return now + step;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Skip the owner name at *off: labels, ended by a root label or a
 * compression pointer (whose target is not followed: only the length of
 * the name in place matters). 0, or -1 when it runs past len.
 */
static int
skip_name(const uint8_t *pkt, size_t len, size_t *off)
{
	size_t o = *off;

	for (unsigned n = 0; n < RRSIG_MAX_LABELS; n++) {
		uint8_t l;

		if (o >= len)
			return -1;
		l = pkt[o];
		if (l == 0) {
			*off = o + 1;
			return 0;
		}
		if ((l & 0xc0) == 0xc0) {
			if (len - o < 2)
				return -1;
			*off = o + 2;
			return 0;
		}
		if ((l & 0xc0) != 0) /* 0x40, 0x80: extended label types */
			return -1;
		if (len - o - 1 < l)
			return -1;
		o += 1 + (size_t)l;
	}
	return -1;
}

int64_t
rrsig_min_expire(const uint8_t *pkt, size_t len, int64_t now)
{
	size_t off = RRSIG_HDR;
	unsigned qd, an;
	int64_t best = 0;

	if (pkt == NULL || len < RRSIG_HDR)
		return 0;
	qd = get16(pkt + 4);
	an = get16(pkt + 6);
	for (unsigned i = 0; i < qd; i++) {
		if (skip_name(pkt, len, &off) < 0 || len - off < 4)
			return 0;
		off += 4;
	}
	for (unsigned i = 0; i < an; i++) {
		uint16_t type, rdlen;

		if (skip_name(pkt, len, &off) < 0 || len - off < 10)
			return 0;
		type = get16(pkt + off);
		rdlen = get16(pkt + off + 8);
		off += 10;
		if (len - off < rdlen)
			return 0;
		if (type == RRSIG_T_RRSIG) {
			const uint8_t *e = pkt + off + RRSIG_EXP_OFF;
			int64_t t;

			if (rdlen < RRSIG_FIXED)
				return 0;
			t = rrsig_time((uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 |
				(uint32_t)e[2] << 8 | e[3],
			    now);
			if (best == 0 || t < best)
				best = t;
		}
		off += rdlen;
	}
	return best;
}
