/*
 * faultdns_msg.h - DNS message parsing and building for faultdns.
 *
 * The wire-format half of the test responder (tests/world/faultdns.c):
 * presentation names to wire form, label-aligned suffix matching, query
 * parsing with bounds checks only, and response construction into a
 * fixed-size buffer. No I/O, no allocation, no global state: every
 * function works only on the memory its caller passes in, so nothing here
 * needs freeing. Links only libc, like the rest of faultdns.
 */
#ifndef DANEPOL_FAULTDNS_MSG_H
#define DANEPOL_FAULTDNS_MSG_H

#include <stddef.h>
#include <stdint.h>

#define FDMSG_MAX_MSG	1024	/* largest response we build */
#define FDMSG_MAX_NAME	256	/* room for any wire name (<= 255 bytes) */

/*
 * A parsed query. `question` points into the caller's packet buffer (the
 * qname, qtype and qclass exactly as received), so the struct is valid
 * only while that buffer is; the caller may set it to NULL to build a
 * response without a question section.
 */
struct fdmsg_query {
	uint16_t id;
	uint8_t opcode, rd;
	const uint8_t *question;	/* qname + qtype + qclass as received */
	size_t qlen;
	uint8_t name[FDMSG_MAX_NAME];	/* lower-case wire qname */
	size_t namelen;
	uint16_t qtype, qclass;
	int edns;
};

/*
 * A response under construction. Writes that would not fit set `overflow`
 * and are discarded (as are all later writes); a message with overflow
 * set must not be sent. Lives wherever the caller puts it.
 */
struct fdmsg {
	uint8_t b[FDMSG_MAX_MSG];
	size_t len;
	int overflow;
};

/*
 * "a.b." or "a.b" (presentation form, no escapes) to lower-case wire form
 * in out, which must have room for FDMSG_MAX_NAME bytes. Returns the wire
 * length, or 0 if s is not a valid name (empty label, label over 63 bytes,
 * name over 255 bytes). "" and "." give the root name (length 1).
 */
size_t fdmsg_name_to_wire(const char *s, uint8_t *out);

/*
 * Is the wire name sfx (slen bytes) a label-aligned suffix of the wire
 * name `name` (nlen bytes)? Returns the number of bytes of name before the
 * suffix (0: equal), or -1 if it is not a suffix. Both names must be well
 * formed (as produced by fdmsg_name_to_wire() or fdmsg_parse_query()).
 */
long fdmsg_name_suffix(const uint8_t *name, size_t nlen, const uint8_t *sfx, size_t slen);

/* Big-endian 16-bit value at p; the caller guarantees 2 readable bytes. */
uint16_t fdmsg_get16(const uint8_t *p);

/*
 * Parse the untrusted DNS message p[0..n) as a query into *q (always
 * cleared first). Returns 0 when it is a well-formed query, -1 to drop it
 * silently (runt or response), or an rcode to answer with: 1 (FORMERR:
 * qdcount != 1, compressed or oversized name, truncated question) or
 * 4 (NOTIMP: opcode other than QUERY). q->id, opcode and rd are set
 * whenever the header was readable; the other fields only on 0. On 0,
 * q->question points into p (see struct fdmsg_query).
 */
int fdmsg_parse_query(const uint8_t *p, size_t n, struct fdmsg_query *q);

/*
 * Reset m and write a response header for q (QR set, id, opcode and RD
 * copied) with the given rcode, AA and TC flags and answer/authority
 * counts. When q->question is not NULL the question is echoed (qdcount 1)
 * and arcount is 1 if q->edns; the caller then adds an/ns records and
 * calls fdmsg_edns() last.
 */
void fdmsg_start(struct fdmsg *m, const struct fdmsg_query *q, int rcode, int aa, int tc,
    unsigned an, unsigned ns);

/* Append an OPT record (payload 1232) when q had EDNS and a question; else nothing. */
void fdmsg_edns(struct fdmsg *m, const struct fdmsg_query *q);

/*
 * Build the complete response of the synthetic zone at apex (wire form,
 * alen bytes) to the well-formed query q; prefix is the number of bytes of
 * q->name above the apex (from fdmsg_name_suffix()). With tc set: an empty
 * authoritative answer with TC. Otherwise class != IN gives REFUSED; the
 * apex answers SOA, NS ns.ZONE, MX 10 mx1.ZONE and A 127.0.0.1; mx1.ZONE
 * and ns.ZONE answer A 127.0.0.1; other types at those names give NODATA
 * and other names NXDOMAIN, both with the SOA in the authority section.
 * Check m->overflow before sending.
 */
void fdmsg_build_answer(struct fdmsg *m, const struct fdmsg_query *q, const uint8_t *apex,
    size_t alen, long prefix, int tc);

#endif
