/*
 * faultdns_msg.c - DNS wire format for faultdns: names, query parsing,
 * response building.
 *
 * See faultdns_msg.h for the contracts. Hostile input: fdmsg_parse_query()
 * reads the packet with bounds checks only and never trusts a count or a
 * length byte beyond them; responses (QR set) and runts are dropped;
 * qdcount != 1, compressed or oversized question names and truncated
 * questions get FORMERR; other opcodes NOTIMP. Responses are built into a
 * fixed-size struct fdmsg; a write that does not fit sets its overflow
 * flag instead of writing. No allocation, no I/O, no static state.
 * Standalone like faultdns.c: it links only libc, not lib/.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "faultdns_msg.h"

/* ------------------------------------------------------------ names */

/* "a.b." or "a.b" -> lower-case wire form; contract in faultdns_msg.h. */
size_t
fdmsg_name_to_wire(const char *s, uint8_t *out)
{
	size_t o = 0, slen = strlen(s);
	const char *p = s, *end;

	if (slen > 0 && s[slen - 1] == '.')
		slen--;
	end = s + slen;
	while (slen > 0 && p <= end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t n;

		if (dot == NULL)
			dot = end;
		n = (size_t)(dot - p);
		if (n == 0 || n > 63 || o + n + 2 > 255)
			return 0;
		out[o++] = (uint8_t)n;
		for (size_t i = 0; i < n; i++)
			out[o++] = (uint8_t)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
		p = dot + 1;
	}
	out[o++] = 0;
	return o;
}

/* Is the wire name `sfx` a label-aligned suffix of `name`? Returns prefix length or -1. */
long
fdmsg_name_suffix(const uint8_t *name, size_t nlen, const uint8_t *sfx, size_t slen)
{
	size_t off = 0;

	while (off < nlen) {
		if (nlen - off == slen && memcmp(name + off, sfx, slen) == 0)
			return (long)off;
		if (name[off] == 0)
			break;
		off += (size_t)name[off] + 1;
	}
	return -1;
}

/* ------------------------------------------------------------ parsing */

uint16_t
fdmsg_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/*
 * Parse a query. Returns 0 when well-formed, -1 to drop it silently, or
 * an rcode (FORMERR 1, NOTIMP 4) to answer with; q->id, opcode and rd are
 * set whenever the header was readable.
 */
int
fdmsg_parse_query(const uint8_t *p, size_t n, struct fdmsg_query *q)
{
	size_t off = 12, o = 0;

	memset(q, 0, sizeof(*q));
	if (n < 12 || (p[2] & 0x80))
		return -1;		/* runt, or a response */
	q->id = fdmsg_get16(p);
	q->opcode = (p[2] >> 3) & 0x0f;
	q->rd = p[2] & 0x01;
	if (q->opcode != 0)
		return 4;
	if (fdmsg_get16(p + 4) != 1)
		return 1;
	for (;;) {
		uint8_t len;

		if (off >= n)
			return 1;
		len = p[off];
		if (len & 0xc0)
			return 1;	/* no compression (or extended labels) in a question */
		if (o + (size_t)len + 1 > 255 || off + 1 + len > n)
			return 1;
		q->name[o++] = len;
		if (len == 0)
			break;
		for (size_t i = 0; i < len; i++) {
			uint8_t c = p[off + 1 + i];

			q->name[o++] = (uint8_t)((c >= 'A' && c <= 'Z') ? c + 32 : c);
		}
		off += (size_t)len + 1;
	}
	off++;
	if (off + 4 > n)
		return 1;
	q->namelen = o;
	q->qtype = fdmsg_get16(p + off);
	q->qclass = fdmsg_get16(p + off + 2);
	q->question = p + 12;
	q->qlen = off + 4 - 12;
	off += 4;
	/* EDNS: a lone OPT record (root owner, type 41) in the additional section. */
	if (fdmsg_get16(p + 6) == 0 && fdmsg_get16(p + 8) == 0 && fdmsg_get16(p + 10) == 1 &&
	    off + 11 <= n && p[off] == 0 && fdmsg_get16(p + off + 1) == 41)
		q->edns = 1;
	return 0;
}

/* ------------------------------------------------------------ building */

static void
put(struct fdmsg *m, const void *data, size_t len)
{
	if (m->overflow || len > sizeof(m->b) - m->len) {
		m->overflow = 1;
		return;
	}
	memcpy(m->b + m->len, data, len);
	m->len += len;
}

static void
put16(struct fdmsg *m, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(m, b, 2);
}

static void
put32(struct fdmsg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

/* Header with the given counts; the question is echoed when qd is 1. */
void
fdmsg_start(struct fdmsg *m, const struct fdmsg_query *q, int rcode, int aa, int tc,
    unsigned an, unsigned ns)
{
	int qd = q->question != NULL;

	m->len = 0;
	m->overflow = 0;
	put16(m, q->id);
	put16(m, 0x8000u | (unsigned)q->opcode << 11 | (aa ? 0x0400u : 0) |
	    (tc ? 0x0200u : 0) | (q->rd ? 0x0100u : 0) | ((unsigned)rcode & 0x0f));
	put16(m, (unsigned)qd);
	put16(m, an);
	put16(m, ns);
	put16(m, q->edns && qd ? 1 : 0);
	if (qd)
		put(m, q->question, q->qlen);
}

void
fdmsg_edns(struct fdmsg *m, const struct fdmsg_query *q)
{
	if (!q->edns || q->question == NULL)
		return;
	put(m, "", 1);		/* root owner */
	put16(m, 41);
	put16(m, 1232);
	put32(m, 0);
	put16(m, 0);
}

/* RR header; owner is the question name (pointer) or a wire name. */
static void
rr_head(struct fdmsg *m, const uint8_t *owner, size_t olen, unsigned type, uint32_t ttl)
{
	if (owner == NULL)
		put16(m, 0xc00c);
	else
		put(m, owner, olen);
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
}

/* "label" + zone apex, as wire data. */
static void
put_host(struct fdmsg *m, const char *label, const uint8_t *apex, size_t alen)
{
	uint8_t l = (uint8_t)strlen(label);

	put(m, &l, 1);
	put(m, label, l);
	put(m, apex, alen);
}

static void
rr_soa(struct fdmsg *m, const uint8_t *apex, size_t alen)
{
	size_t mark;

	rr_head(m, apex, alen, 6, 60);
	mark = m->len;
	put16(m, 0);
	put_host(m, "ns", apex, alen);
	put_host(m, "hostmaster", apex, alen);
	put32(m, 1);
	put32(m, 3600);
	put32(m, 600);
	put32(m, 86400);
	put32(m, 60);
	if (!m->overflow) {
		unsigned rdlen = (unsigned)(m->len - mark - 2);

		m->b[mark] = (uint8_t)(rdlen >> 8);
		m->b[mark + 1] = (uint8_t)rdlen;
	}
}

/* One answer RR at the question name: types 1 (A), 2 (NS), 6 (SOA), 15 (MX). */
static void
rr_answer(struct fdmsg *m, const uint8_t *apex, size_t alen, unsigned type)
{
	static const uint8_t lo[4] = { 127, 0, 0, 1 };

	switch (type) {
	case 1:
		rr_head(m, NULL, 0, 1, 300);
		put16(m, 4);
		put(m, lo, 4);
		break;
	case 2:
		rr_head(m, NULL, 0, 2, 300);
		put16(m, (unsigned)(3 + alen));
		put_host(m, "ns", apex, alen);
		break;
	case 15:
		rr_head(m, NULL, 0, 15, 300);
		put16(m, (unsigned)(2 + 4 + alen));
		put16(m, 10);
		put_host(m, "mx1", apex, alen);
		break;
	default:
		rr_soa(m, apex, alen);
		break;
	}
}

/* The zone's data for the question; prefix = bytes of qname above the apex. */
void
fdmsg_build_answer(struct fdmsg *m, const struct fdmsg_query *q, const uint8_t *apex,
    size_t alen, long prefix, int tc)
{
	const uint8_t *n = q->name;
	int at_apex = prefix == 0;
	int host = prefix == 4 && (memcmp(n, "\3mx1", 4) == 0);
	int nshost = prefix == 3 && (memcmp(n, "\2ns", 3) == 0);
	int have;

	if (tc) {
		fdmsg_start(m, q, 0, 1, 1, 0, 0);
		fdmsg_edns(m, q);
		return;
	}
	if (q->qclass != 1) {
		fdmsg_start(m, q, 5, 0, 0, 0, 0);
		fdmsg_edns(m, q);
		return;
	}
	if (!at_apex && !host && !nshost) {
		fdmsg_start(m, q, 3, 1, 0, 0, 1);
		rr_soa(m, apex, alen);
		fdmsg_edns(m, q);
		return;
	}
	have = q->qtype == 1 || (at_apex && (q->qtype == 2 || q->qtype == 6 || q->qtype == 15));
	fdmsg_start(m, q, 0, 1, 0, have ? 1 : 0, have ? 0 : 1);
	if (have)
		rr_answer(m, apex, alen, q->qtype);
	else
		rr_soa(m, apex, alen);
	fdmsg_edns(m, q);
}
