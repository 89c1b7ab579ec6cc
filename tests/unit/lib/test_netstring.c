/*
 * test_netstring.c - netstring decoding and encoding, well-formed and
 * hostile: huge lengths, leading zeros, signs, missing ':' or ',',
 * and input arriving byte by byte.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "netstring.h"

static enum netstring_status
dec(const char *s, size_t max, char **out, size_t *used)
{
	const char *data = NULL;
	size_t dlen = 0;
	enum netstring_status st = netstring_decode(s, strlen(s), max, &data, &dlen, used);

	*out = st == NETSTRING_OK ? strndup(data, dlen) : NULL;
	return st;
}

Test(netstring, complete)
{
	char *d;
	size_t used = 0;

	cr_assert_eq(dec("12:hello world!,", 100, &d, &used), NETSTRING_OK);
	cr_expect_str_eq(d, "hello world!");
	cr_expect_eq(used, 16);
	free(d);
	cr_assert_eq(dec("0:,", 100, &d, &used), NETSTRING_OK);
	cr_expect_str_eq(d, "");
	cr_expect_eq(used, 3);
	free(d);
	/* two back to back: only the first is consumed */
	cr_assert_eq(dec("3:abc,2:de,", 100, &d, &used), NETSTRING_OK);
	cr_expect_str_eq(d, "abc");
	cr_expect_eq(used, 6);
	free(d);
	/* the data may hold anything, ':' and ',' included */
	cr_assert_eq(dec("5:a,b:c,", 100, &d, &used), NETSTRING_OK);
	cr_expect_str_eq(d, "a,b:c");
	free(d);
}

Test(netstring, binary_data_with_nul)
{
	const char in[] = "3:a\0b,";
	const char *data = NULL;
	size_t dlen = 0, used = 0;

	cr_assert_eq(netstring_decode(in, sizeof(in) - 1, 10, &data, &dlen, &used), NETSTRING_OK);
	cr_expect_eq(dlen, 3);
	cr_expect(memcmp(data, "a\0b", 3) == 0);
	cr_expect_eq(used, 6);
}

Test(netstring, need_more)
{
	const char *cases[] = { "", "1", "12", "12:", "12:hello", "12:hello world!", "0:" };
	char *d;
	size_t used = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(dec(cases[i], 100, &d, &used), NETSTRING_MORE, "\"%s\"", cases[i]);
}

Test(netstring, malformed)
{
	const char *cases[] = {
		":", ":abc,", "01:a,", "00:,", "-1:", "+1:a,", " 1:a,", "1 :a,", "a:", "1a:",
		"3:abc;", "3:abcd,", "0:x", "1:a", "\x00:", "0x1:a,",
	};
	char *d;
	size_t used = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum netstring_status st = dec(cases[i], 100, &d, &used);

		/* "1:a" is a valid prefix; everything else is broken at once */
		if (strcmp(cases[i], "1:a") == 0)
			cr_expect_eq(st, NETSTRING_MORE);
		else if (cases[i][0] == 0)
			cr_expect_eq(st, NETSTRING_MORE, "empty input");
		else
			cr_expect_eq(st, NETSTRING_BAD, "case %zu \"%s\": %s", i, cases[i],
			    netstring_status_name(st));
	}
}

Test(netstring, too_long_is_known_early)
{
	char *d;
	size_t used = 0;

	cr_expect_eq(dec("10:0123456789,", 10, &d, &used), NETSTRING_OK);
	free(d);
	cr_expect_eq(dec("11:", 10, &d, &used), NETSTRING_TOOLONG);
	cr_expect_eq(dec("11", 10, &d, &used), NETSTRING_TOOLONG, "before the ':'");
	cr_expect_eq(dec("10001:", 10000, &d, &used), NETSTRING_TOOLONG);
	cr_expect_eq(dec("10000", 10000, &d, &used), NETSTRING_MORE);
	cr_expect_eq(dec("99999999999999999999999999999999999999:", 10000, &d, &used),
	    NETSTRING_TOOLONG, "a length that would overflow size_t");
	cr_expect_eq(dec("18446744073709551617:", (size_t)-1, &d, &used), NETSTRING_TOOLONG,
	    "max above the limit is capped");
}

/* Feed "N:data," one byte at a time: MORE until the last byte. */
Test(netstring, byte_by_byte)
{
	const char *in = "24:tlspolicy secure.example,";
	size_t n = strlen(in), used = 0, dlen = 0;
	const char *data = NULL;

	for (size_t i = 0; i < n; i++) {
		enum netstring_status st = netstring_decode(in, i, 10000, &data, &dlen, &used);

		cr_assert_eq(st, NETSTRING_MORE, "prefix of %zu bytes: %s", i, netstring_status_name(st));
	}
	cr_assert_eq(netstring_decode(in, n, 10000, &data, &dlen, &used), NETSTRING_OK);
	cr_expect_eq(dlen, 24);
	cr_expect(memcmp(data, "tlspolicy secure.example", 24) == 0);
	cr_expect_eq(used, n);
}

Test(netstring, encode_round_trip)
{
	struct buf b;
	const char *data = NULL;
	size_t dlen = 0, used = 0;
	const char *msgs[] = { "", "OK dane-only", "NOTFOUND ", "x,y:z" };

	buf_init(&b);
	for (size_t i = 0; i < 4; i++)
		netstring_encode(&b, msgs[i], strlen(msgs[i]));
	cr_expect_str_eq(b.s, "0:,12:OK dane-only,9:NOTFOUND ,5:x,y:z,");
	for (size_t i = 0, off = 0; i < 4; i++, off += used) {
		cr_assert_eq(netstring_decode(b.s + off, b.len - off, 100, &data, &dlen, &used),
		    NETSTRING_OK);
		cr_expect_eq(dlen, strlen(msgs[i]));
		cr_expect(memcmp(data, msgs[i], dlen) == 0);
	}
	buf_free(&b);
}

Test(netstring, status_names)
{
	cr_expect_str_eq(netstring_status_name(NETSTRING_OK), "ok");
	cr_expect_str_eq(netstring_status_name(NETSTRING_TOOLONG), "too-long");
}
