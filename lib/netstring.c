/*
 * netstring.c - netstring decoding and encoding (see netstring.h).
 *
 * The header is checked byte by byte as it arrives: the first byte must
 * be a digit; a '0' must be followed by ':' (no leading zeros); digits
 * accumulate into the length, which is compared with the maximum after
 * each digit - the value only grows with more digits, so the first digit
 * that takes it over the maximum decides NETSTRING_TOOLONG, and the
 * length can never overflow (max <= NETSTRING_MAX_LIMIT < SIZE_MAX / 10).
 * Anything but a digit or ':' in the header is NETSTRING_BAD, and so is a
 * byte other than ',' after the data.
 */
#include "config.h"

#include <string.h>

#include "netstring.h"

/* Parse the header: 0 with *hlen (bytes up to and including ':') and
 * *n set, or the status to report. */
static enum netstring_status
netstring_header(const char *buf, size_t len, size_t max, size_t *hlen, size_t *n)
{
	size_t v = 0, i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (ch == ':') {
			if (i == 0)
				return NETSTRING_BAD; /* no digits */
			*hlen = i + 1;
			*n = v;
			return NETSTRING_OK;
		}
		if (ch < '0' || ch > '9')
			return NETSTRING_BAD;
		if (i == 1 && buf[0] == '0')
			return NETSTRING_BAD; /* leading zero */
		v = v * 10 + (size_t)(ch - '0');
		if (v > max)
			return NETSTRING_TOOLONG;
	}
	return NETSTRING_MORE;
}

enum netstring_status
netstring_decode(const char *buf, size_t len, size_t max, const char **data, size_t *dlen,
    size_t *used)
{
	enum netstring_status st;
	size_t hlen = 0, n = 0;

	if (max > NETSTRING_MAX_LIMIT)
		max = NETSTRING_MAX_LIMIT;
	if ((st = netstring_header(buf, len, max, &hlen, &n)) != NETSTRING_OK)
		return st;
	if (len - hlen < n + 1)
		return NETSTRING_MORE;
	if (buf[hlen + n] != ',')
		return NETSTRING_BAD;
	*data = buf + hlen;
	*dlen = n;
	*used = hlen + n + 1;
	return NETSTRING_OK;
}

void
netstring_encode(struct buf *b, const char *data, size_t n)
{
	buf_printf(b, "%zu:", n);
	buf_append(b, data, n);
	buf_putc(b, ',');
}

const char *
netstring_status_name(enum netstring_status s)
{
	switch (s) {
	case NETSTRING_OK:
		return "ok";
	case NETSTRING_MORE:
		return "more";
	case NETSTRING_BAD:
		return "bad";
	case NETSTRING_TOOLONG:
		return "too-long";
	}
	return "?";
}
