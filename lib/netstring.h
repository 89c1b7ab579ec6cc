/*
 * netstring.h - netstrings (D. J. Bernstein, "Netstrings", 1997): the
 * framing of Postfix's socketmap protocol (socketmap_table(5)).
 *
 *     12:hello world!,
 *
 * A decimal length (no sign, no leading zeros except the length "0"
 * itself), ':', that many bytes of data, ','. Pure functions: no I/O,
 * no allocation except the caller's struct buf.
 *
 * Decoding is incremental: the caller collects bytes from the peer in a
 * buffer and calls netstring_decode() after every read. The answer is as
 * early as the bytes allow: a length over the caller's maximum is
 * NETSTRING_TOOLONG as soon as its digits show it (before the data
 * arrives), a bad header byte NETSTRING_BAD at once.
 */
#ifndef DANEPOL_NETSTRING_H
#define DANEPOL_NETSTRING_H

#include <stddef.h>

#include "buf.h"

/* Longest maximum netstring_decode() accepts (keeps length arithmetic exact). */
#define NETSTRING_MAX_LIMIT (1024UL * 1024 * 1024)

enum netstring_status {
	NETSTRING_OK,	   /* a complete netstring: *data, *dlen, *used set */
	NETSTRING_MORE,	   /* a valid prefix: read more bytes and call again */
	NETSTRING_BAD,	   /* not a netstring (syntax): the stream is lost */
	NETSTRING_TOOLONG, /* a valid header announcing more than max bytes */
};

/**
 * Decode the netstring at the start of buf[0..len). max: the largest data
 * length accepted (capped at NETSTRING_MAX_LIMIT). On NETSTRING_OK, *data
 * points INTO buf (not NUL-terminated, dlen bytes) and *used is the
 * number of bytes the netstring occupies (the caller drops them); the out
 * parameters are untouched otherwise.
 */
enum netstring_status netstring_decode(const char *buf, size_t len, size_t max, const char **data,
    size_t *dlen, size_t *used);

/** Append data[0..n) to b as one netstring. */
void netstring_encode(struct buf *b, const char *data, size_t n);

/** The name of a status ("ok", "more", "bad", "too-long") for logs and tests. */
const char *netstring_status_name(enum netstring_status s);

#endif
