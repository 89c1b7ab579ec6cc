/*
 * smime_mime.h - the MIME side of S/MIME (RFC 8551 section 3, RFC 1847,
 * RFC 2045/2046): find the first signed entity of a message and hand its
 * parts over as bytes, within hard limits. Pure: no I/O, no DNS, no
 * OpenSSL objects (base64 decoding is OpenSSL's EVP_Decode*).
 *
 * The search is depth-first in document order over multipart/ bodies, up
 * to lim->max_depth levels and lim->max_parts entities, and stops at the
 * first of:
 *   - multipart/signed with protocol application/pkcs7-signature (or
 *     application/x-pkcs7-signature): exactly two body parts; the first
 *     is the signed content, handed over byte for byte as it stands
 *     between the boundary delimiters (its MIME headers included, line
 *     ends made CRLF: RFC 8551 section 3.1.1 canonical form), the second
 *     is the signature, base64 (or binary) DER;
 *   - application/pkcs7-mime (or x-pkcs7-mime) with smime-type signed-data
 *     (or no smime-type and the name/filename ending ".p7m" is NOT enough:
 *     only smime-type=signed-data, or no smime-type at all, counts as
 *     signed; enveloped-data, compressed-data, certs-only are "none"): the
 *     body, base64 (or binary) DER, is the whole CMS structure.
 * An enveloped-data (or compressed-data, certs-only) pkcs7-mime entity
 * met first ends the search: kind NONE.
 * Depth: the message is level 0, the body parts of a multipart at level d
 * are at d + 1 (the number of components of their part number); a
 * multipart whose parts would be deeper than lim->max_depth is an error.
 * Every entity looked at (the message, each body part, the two parts of a
 * multipart/signed) counts against lim->max_parts.
 * Only multipart/signed is strict (boundary parameter, close delimiter,
 * two parts); other multiparts without a boundary are not walked into,
 * and one without its close delimiter ends at the end of its body.
 * Also the From: header field's address: exactly one mailbox, its
 * addr-spec (display name, comments, angle brackets removed); a From: with
 * no address or several is kept as NULL with from_why set.
 *
 * Hostile input never crashes and never reads past len: a broken
 * structure (no closing boundary, a multipart/signed without two parts,
 * bad base64, over a limit) is an error with a reason.
 *
 * Ownership: struct smime_mime's buffers are owned by it
 * (smime_mime_clear()). Threads: no shared state.
 */
#ifndef DANEPOL_SMIME_MIME_H
#define DANEPOL_SMIME_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "smime.h"

enum smime_mime_kind {
	SMIME_MIME_NONE,     /* no S/MIME signature found */
	SMIME_MIME_DETACHED, /* multipart/signed */
	SMIME_MIME_OPAQUE,   /* application/pkcs7-mime signed-data */
};

struct smime_mime {
	enum smime_mime_kind kind;
	char part[32];	   /* MIME part number: "" the message itself, "1", "2.1" */
	char *content;	   /* DETACHED: the signed first part, CRLF line ends */
	size_t content_len;
	uint8_t *cms;	   /* DETACHED: the signature; OPAQUE: the whole CMS, DER */
	size_t cms_len;
	char *from;	   /* the From: addr-spec, or NULL */
	const char *from_why; /* static: why from is NULL ("no From: field", "2 From: fields", ...) */
	unsigned parts_seen;
	unsigned depth_seen;
};

/**
 * Parse msg (len bytes, headers then an empty line then the body; CRLF or
 * LF) within lim (max_message, max_depth, max_parts). Returns 0 with *m
 * filled (kind NONE when there is no signature; from filled either way),
 * or -1 with *why (caller frees: "part 2: base64: invalid character at
 * offset 311", "message: multipart/signed with 3 body parts, not 2" ("message"
 * is the top level), "nesting deeper than 8 levels", "more than 100 MIME
 * parts", ...) and *m zeroed (from included). msg may be NULL when len is 0.
 */
int smime_mime_parse(const char *msg, size_t len, const struct smime_limits *lim,
    struct smime_mime *m, char **why);

/** Free m's buffers and zero it. NULL-safe. */
void smime_mime_clear(struct smime_mime *m);

/**
 * The From: field's value v (unfolded or not) to its single addr-spec,
 * without CFWS; a quoted local part keeps its quotes (and escapes), a
 * domain literal its brackets; at most 254 octets. Returns a new string,
 * or NULL with *why set (static text: "several addresses in From:",
 * "group syntax in From:", "no @ in the address of From:", ...).
 */
char *smime_mime_from_addr(const char *v, size_t len, const char **why);

#endif
