/*
 * fuzz_netstring.c - libFuzzer target: the Postfix socketmap stream
 * (lib/netstring.h netstring_decode/encode) and its requests and replies
 * (milter/proto.h proto_sockmap_split, _skip, _reply), as danepold's
 * socketmap_serve() loop sees a peer's bytes.
 *
 * Input: byte 0 picks the decoder's maximum (0, 1, 5, 12, the socketmap
 * maximum, NETSTRING_MAX_LIMIT, SIZE_MAX); byte 1 seeds the chunk sizes
 * of the incremental pass; byte 2 picks the verdict/reason of the
 * decisions the replies are built from; the rest is the stream.
 * Two passes over the stream:
 *   whole:       decode netstring after netstring from the full buffer;
 *   incremental: feed the bytes in pseudo-random chunks (1..64 octets),
 *                decoding after each one, as the daemon does per read().
 * Properties checked (abort = bug in danepol):
 *   - both passes see the same netstrings and end in the same state;
 *   - an OK netstring lies inside the buffer, ends with ',', is no longer
 *     than the maximum, and re-encodes to exactly the bytes consumed;
 *   - a request either splits into a non-empty NAME without NUL and a
 *     KEY, or is refused; the reply built for its key is "OK ...",
 *     "TEMP ..." or "NOTFOUND ", without NUL or line ends, and survives
 *     netstring framing.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "dnsname.h"
#include "fuzz.h"
#include "netstring.h"
#include "policy.h"
#include "proto.h"

#define MAX_ITEMS 4096

struct item {
	size_t off;		/* of the data, from the stream start */
	size_t dlen;
};

struct pass {
	struct item it[MAX_ITEMS];
	size_t n;
	enum netstring_status last;
};

static size_t
pick_max(uint8_t b)
{
	static const size_t maxes[] = {
		0, 1, 5, 12, PROTO_SOCKMAP_MAX, NETSTRING_MAX_LIMIT, (size_t)-1,
	};

	return maxes[b % (sizeof(maxes) / sizeof(maxes[0]))];
}

static void
whole(const char *s, size_t len, size_t max, struct pass *p)
{
	size_t pos = 0;

	p->n = 0;
	for (;;) {
		const char *data = NULL;
		size_t dlen = 0, used = 0;

		p->last = netstring_decode(s + pos, len - pos, max, &data, &dlen, &used);
		if (p->last != NETSTRING_OK || p->n == MAX_ITEMS)
			return;
		FUZZ_CHECK(used >= dlen + 3 && used <= len - pos);
		FUZZ_CHECK(data >= s + pos && data + dlen < s + pos + used);
		FUZZ_CHECK(data[dlen] == ',' && dlen <= max);
		p->it[p->n].off = (size_t)(data - s);
		p->it[p->n].dlen = dlen;
		p->n++;
		pos += used;
	}
}

static void
incremental(const char *s, size_t len, size_t max, unsigned seed, struct pass *p)
{
	size_t fed = 0, pos = 0;

	p->n = 0;
	p->last = NETSTRING_MORE;
	while (p->last == NETSTRING_MORE || p->last == NETSTRING_OK) {
		const char *data = NULL;
		size_t dlen = 0, used = 0;

		p->last = netstring_decode(s + pos, fed - pos, max, &data, &dlen, &used);
		if (p->last == NETSTRING_OK) {
			if (p->n == MAX_ITEMS)
				return;
			p->it[p->n].off = (size_t)(data - s);
			p->it[p->n].dlen = dlen;
			p->n++;
			pos += used;
			continue;
		}
		if (p->last != NETSTRING_MORE || fed == len)
			return;
		seed = seed * 1103515245u + 12345u;
		fed += 1 + (seed >> 16) % 64;
		if (fed > len)
			fed = len;
	}
}

/* The reply danepold would build for a request, and its framing. */
static void
check_request(const char *data, size_t dlen, uint8_t how)
{
	static const enum policy_reason reasons[] = {
		POLICY_R_DANE, POLICY_R_NO_TLSA, POLICY_R_MX_BOGUS, POLICY_R_INVALID_DOMAIN,
		POLICY_R_INTERNAL_ERROR, POLICY_R_NULL_MX, POLICY_R_DANE_REQUIRED,
	};
	enum policy_reason r = reasons[how % (sizeof(reasons) / sizeof(reasons[0]))];
	char *name = NULL, *key = NULL, *reply;
	char canon[DNSNAME_MAX];
	const char *why, *rd;
	struct policy_decision *d;
	struct buf b;
	size_t rlen, used;

	if (proto_sockmap_split(data, dlen, &name, &key) < 0)
		return;
	FUZZ_CHECK(name[0] != 0 && strchr(name, ' ') == NULL);
	FUZZ_CHECK(strlen(name) + 1 + strlen(key) == dlen);
	if (proto_sockmap_skip(key)) {
		free(name);
		free(key);
		return;
	}
	/* as policy_run_decide(): a key that is no domain is invalid-domain */
	if (dnsname_normalize(key, 0, canon, &why) < 0) {
		snprintf(canon, sizeof(canon), "%.200s", key);
		r = POLICY_R_INVALID_DOMAIN;
	}
	d = policy_decision_simple(canon, policy_reason_verdict(r),
	    (how & 0x80) ? TLS_LEVEL_DANE_ONLY : TLS_LEVEL_DANE, r,
	    r == POLICY_R_INVALID_DOMAIN ? why : "a why text naming the domain");
	reply = proto_sockmap_reply(d, NULL, (how & 0x40) != 0, (how & 0x20) != 0);
	FUZZ_CHECK(strncmp(reply, "OK ", 3) == 0 || strncmp(reply, "TEMP ", 5) == 0 ||
	    strcmp(reply, "NOTFOUND ") == 0);
	FUZZ_CHECK(strpbrk(reply, "\r\n") == NULL);
	buf_init(&b);
	netstring_encode(&b, reply, strlen(reply));
	FUZZ_CHECK(netstring_decode(b.s, b.len, PROTO_SOCKMAP_MAX, &rd, &rlen, &used) ==
	    NETSTRING_OK);
	FUZZ_CHECK(used == b.len && rlen == strlen(reply) && memcmp(rd, reply, rlen) == 0);
	buf_free(&b);
	free(reply);
	policy_decision_unref(d);
	free(name);
	free(key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pass a, b;	/* large: kept off the stack */
	struct fuzz_in in = { data, size };
	size_t max = pick_max(fuzz_byte(&in));
	unsigned seed = fuzz_byte(&in);
	uint8_t how = fuzz_byte(&in);
	char *s = malloc(in.n ? in.n : 1);
	struct buf enc;

	if (s == NULL)
		abort();
	memcpy(s, in.p, in.n);
	whole(s, in.n, max, &a);
	incremental(s, in.n, max, seed, &b);
	FUZZ_CHECK(a.n == b.n);
	if (a.n < MAX_ITEMS)
		FUZZ_CHECK(a.last == b.last);
	buf_init(&enc);
	for (size_t i = 0; i < a.n; i++) {
		FUZZ_CHECK(a.it[i].off == b.it[i].off && a.it[i].dlen == b.it[i].dlen);
		buf_reset(&enc);
		netstring_encode(&enc, s + a.it[i].off, a.it[i].dlen);
		/* canonical form: the bytes consumed are exactly the encoding */
		FUZZ_CHECK(a.it[i].off >= enc.len - a.it[i].dlen - 1);
		FUZZ_CHECK(memcmp(enc.s, s + a.it[i].off - (enc.len - a.it[i].dlen - 1),
		    enc.len) == 0);
		if (i < 8)
			check_request(s + a.it[i].off, a.it[i].dlen, how);
	}
	buf_free(&enc);
	(void)netstring_status_name(a.last);
	free(s);
	return 0;
}
