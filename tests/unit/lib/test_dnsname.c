/*
 * test_dnsname.c - unit tests of lib/dnsname.h.
 *
 * Covers: dnsname_normalize() on well-formed names (case, trailing dot,
 * U-labels and A-labels, UTS #46 mapping, underscores only when allowed)
 * and on hostile ones (empty labels, the root, hyphens at label ends,
 * 63/64-octet labels, 253/254-character names, invalid UTF-8 of every
 * kind, controls and spaces, invalid "xn--" labels, huge input),
 * idempotence of the canonical form, dnsname_from_wire() (offsets, root,
 * compression pointers, extended label types, truncation, bad octets,
 * over-long names), dnsname_equal() and dnsname_is_address_literal(),
 * plus concurrent use from several threads.
 *
 * Long names are built at run time from label lengths, so the boundary
 * each case tests is visible in the code. Valgrind recipe: see
 * test_policy_cache.c.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dnsname.h"

/* ------------------------------------------------------------- helpers */

/* Write labels of the given lengths (filled with 'a'+i) joined by dots. */
static void
make_name(char *dst, size_t cap, const size_t *lens, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && o + 1 < cap)
			dst[o++] = '.';
		for (size_t k = 0; k < lens[i] && o + 1 < cap; k++)
			dst[o++] = (char)('a' + (i % 26));
	}
	dst[o] = 0;
}

/* Encode a dotted name as uncompressed wire format; returns its length. */
static size_t
to_wire(const char *name, uint8_t *w, size_t cap)
{
	size_t o = 0;
	const char *p = name;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		cr_assert_lt(o + l + 1, cap);
		w[o++] = (uint8_t)l;
		memcpy(w + o, p, l);
		o += l;
		p += l;
		if (*p == '.')
			p++;
	}
	cr_assert_lt(o, cap);
	w[o++] = 0;
	return o;
}

/* --------------------------------------------------------- normalize */

struct ncase {
	const char *in;
	int underscore;
	const char *want;	/* canonical form, or NULL when refused */
	const char *want_why;	/* exact reason, or NULL for "any" */
	const char *why_prefix;	/* reason prefix, or NULL */
};

static const struct ncase ncases[] = {
	/* well-formed */
	{ .in = "example.com", .want = "example.com" },
	{ .in = "Example.COM", .want = "example.com" },
	{ .in = "MiXeD.CaSe.ExAmPlE.", .want = "mixed.case.example" },
	{ .in = "a", .want = "a" },
	{ .in = "a.", .want = "a" },
	{ .in = "mx-1.example", .want = "mx-1.example" },
	{ .in = "0.9.example", .want = "0.9.example" },
	{ .in = "ab--c.example", .want = "ab--c.example" },
	{ .in = "B\xc3\xbc" "cher.EXAMPLE.", .want = "xn--bcher-kva.example" },
	{ .in = "b\xc3\xbc" "cher.example", .want = "xn--bcher-kva.example" },
	{ .in = "XN--BCHER-KVA.example", .want = "xn--bcher-kva.example" },
	{ .in = "xn--bcher-kva.Example.", .want = "xn--bcher-kva.example" },
	/* nontransitional: sharp s is kept, not mapped to "ss" */
	{ .in = "stra\xc3\x9f" "e.de", .want = "xn--strae-oqa.de" },
	/* UTS #46 maps FULLWIDTH LATIN CAPITAL LETTER A to "a" */
	{ .in = "\xef\xbc\xa1.example", .want = "a.example" },
	/* NFC: u + COMBINING DIAERESIS composes to u-umlaut */
	{ .in = "bu\xcc\x88" "cher.example", .want = "xn--bcher-kva.example" },
	{ .in = "_25._tcp.mx.Example", .underscore = 1, .want = "_25._tcp.mx.example" },
	{ .in = "_25._tcp.B\xc3\xbc" "cher.example.", .underscore = 1,
	  .want = "_25._tcp.xn--bcher-kva.example" },
	{ .in = "123.example", .want = "123.example" },
	{ .in = "host.b1", .want = "host.b1" },
	/* all-numeric top-level label (RFC 3696 2): an address, not a name */
	{ .in = "192.0.2.1", .want_why = "all-numeric top-level label" },
	{ .in = "999.1.1.1", .want_why = "all-numeric top-level label" },
	{ .in = "example.123.", .want_why = "all-numeric top-level label" },
	{ .in = "7", .want_why = "all-numeric top-level label" },
	/* the root and empty labels */
	{ .in = "", .want_why = "empty name" },
	{ .in = ".", .want_why = "empty name" },
	{ .in = "..", .want_why = "empty label" },
	{ .in = ".example", .want_why = "empty label" },
	{ .in = "a..b", .want_why = "empty label" },
	{ .in = "example.com..", .want_why = "empty label" },
	/* characters */
	{ .in = "exa mple.example", .want_why = "invalid character" },
	{ .in = " example.com", .want_why = "invalid character" },
	{ .in = "example.com ", .want_why = "invalid character" },
	{ .in = "a\tb.example", .want_why = "invalid character" },
	{ .in = "a\rb.example", .want_why = "invalid character" },
	{ .in = "a\x01" "b.example", .want_why = "invalid character" },
	{ .in = "a\x7f" "b.example", .want_why = "invalid character" },
	{ .in = "example.com\r\nRCPT TO:<x@y>", .want_why = "invalid character" },
	{ .in = "*.example", .want_why = "invalid character" },
	{ .in = "a/b.example", .want_why = "invalid character" },
	{ .in = "a@b.example", .want_why = "invalid character" },
	{ .in = "a:25", .want_why = "invalid character" },
	{ .in = "[192.0.2.1]", .want_why = "invalid character" },
	{ .in = "a\\.b.example", .want_why = "invalid character" },
	{ .in = "_25._tcp.mx.example", .want_why = "invalid character" },
	{ .in = "_t\xc3\xbc" "cp.example", .want_why = "invalid character" },
	/* hyphens */
	{ .in = "-lead.example", .want_why = "label begins or ends with a hyphen" },
	{ .in = "trail-.example", .want_why = "label begins or ends with a hyphen" },
	{ .in = "example.-", .want_why = "label begins or ends with a hyphen" },
	{ .in = "-", .want_why = "label begins or ends with a hyphen" },
	/* invalid UTF-8 */
	{ .in = "\xff\xfe.example", .want_why = "invalid IDN: invalid UTF-8" },
	{ .in = "\xc3.example", .want_why = "invalid IDN: invalid UTF-8" },
	{ .in = "a\xc3", .want_why = "invalid IDN: invalid UTF-8" },
	{ .in = "\xc0\xaf.example", .want_why = "invalid IDN: invalid UTF-8" },
	{ .in = "\xe0\x80\xaf.example", .want_why = "invalid IDN: invalid UTF-8" },
	{ .in = "\xed\xa0\x80.example", .want_why = "invalid IDN: invalid UTF-8" },
	{ .in = "\xf4\x90\x80\x80.example", .want_why = "invalid IDN: invalid UTF-8" },
	{ .in = "\xf8\x88\x80\x80\x80.example", .want_why = "invalid IDN: invalid UTF-8" },
	{ .in = "\x80.example", .want_why = "invalid IDN: invalid UTF-8" },
	{ .in = "\xe2\x82.example", .want_why = "invalid IDN: invalid UTF-8" },
	/* invalid IDN */
	{ .in = "xn--.example", .why_prefix = "invalid IDN: " },
	{ .in = "XN--.example", .why_prefix = "invalid IDN: " },
	{ .in = "xn--zz-.example", .why_prefix = "invalid IDN: " },
	{ .in = "xn--abc.example", .why_prefix = "invalid IDN: " },
	{ .in = "xn--a.example", .why_prefix = "invalid IDN: " },
	{ .in = "xn--ls8h.example", .why_prefix = "invalid IDN: " },	/* emoji */
	{ .in = "xn--bcher-kvb.example", .why_prefix = "invalid IDN: " },
	{ .in = "\xf0\x9f\x92\xa9.example", .why_prefix = "invalid IDN: " },
	{ .in = "\xe2\x80\x8d.example", .why_prefix = "invalid IDN: " },	/* lone ZWJ */
	{ .in = "\xcc\x88" "a.example", .why_prefix = "invalid IDN: " },	/* leading mark */
	{ .in = "a\xef\xbc\x8e" "b.example", .want_why = "invalid character" },	/* FULLWIDTH FULL STOP */
	{ .in = "\xc2\xad.example" },	/* SOFT HYPHEN alone maps to nothing */
};

Test(normalize, table)
{
	for (size_t i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
		const struct ncase *c = &ncases[i];
		char out[DNSNAME_MAX];
		const char *why = "unset";
		int rc;

		memset(out, 'X', sizeof(out));
		rc = dnsname_normalize(c->in, c->underscore, out, &why);
		if (c->want) {
			cr_expect_eq(rc, 0, "case %zu \"%s\": %s", i, c->in, why ? why : "");
			if (rc == 0)
				cr_expect_str_eq(out, c->want, "case %zu", i);
			continue;
		}
		cr_expect_eq(rc, -1, "case %zu \"%s\" accepted as \"%s\"", i, c->in, rc ? "" : out);
		cr_expect_not_null(why, "case %zu gives a reason", i);
		if (rc != -1 || why == NULL)
			continue;
		cr_expect_str_eq(out, "", "case %zu leaves no partial output", i);
		if (c->want_why)
			cr_expect_str_eq(why, c->want_why, "case %zu \"%s\"", i, c->in);
		if (c->why_prefix)
			cr_expect(strncmp(why, c->why_prefix, strlen(c->why_prefix)) == 0,
			    "case %zu \"%s\": reason \"%s\"", i, c->in, why);
	}
}

Test(normalize, idempotent)
{
	for (size_t i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
		char once[DNSNAME_MAX], twice[DNSNAME_MAX];
		const char *why;

		if (ncases[i].want == NULL)
			continue;
		cr_assert_eq(dnsname_normalize(ncases[i].in, ncases[i].underscore, once, &why), 0);
		cr_expect_eq(dnsname_normalize(once, ncases[i].underscore, twice, &why), 0,
		    "case %zu", i);
		cr_expect_str_eq(twice, once, "case %zu", i);
		/* the canonical form is what dnsname_equal() sees as the same */
		cr_expect(dnsname_equal(once, ncases[i].want));
	}
}

Test(normalize, label_length)
{
	char in[512], out[DNSNAME_MAX];
	const char *why;
	size_t ok[] = { 63, 7 }, bad[] = { 64, 7 }, bad_last[] = { 7, 64 };

	make_name(in, sizeof(in), ok, 2);
	cr_expect_eq(dnsname_normalize(in, 0, out, &why), 0);
	cr_expect_str_eq(out, in);
	make_name(in, sizeof(in), bad, 2);
	cr_expect_eq(dnsname_normalize(in, 0, out, &why), -1);
	cr_expect_str_eq(why, "label too long");
	make_name(in, sizeof(in), bad_last, 2);
	cr_expect_eq(dnsname_normalize(in, 0, out, &why), -1);
	cr_expect_str_eq(why, "label too long");
}

Test(normalize, name_length)
{
	char in[4096], out[DNSNAME_MAX];
	const char *why;
	size_t l253[] = { 63, 63, 63, 61 }, l254[] = { 63, 63, 63, 62 };

	make_name(in, sizeof(in), l253, 4);
	cr_assert_eq(strlen(in), 253);
	cr_expect_eq(dnsname_normalize(in, 0, out, &why), 0);
	cr_expect_str_eq(out, in);
	strcat(in, ".");	/* 254 characters with the trailing dot */
	cr_expect_eq(dnsname_normalize(in, 0, out, &why), 0);
	cr_expect_eq(strlen(out), 253);

	make_name(in, sizeof(in), l254, 4);
	cr_assert_eq(strlen(in), 254);
	cr_expect_eq(dnsname_normalize(in, 0, out, &why), -1);
	cr_expect_str_eq(why, "name too long");
	strcat(in, ".");
	cr_expect_eq(dnsname_normalize(in, 0, out, &why), -1);
	cr_expect_str_eq(why, "name too long");

	/* huge input: refused without reading it all into a fixed buffer */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = 0;
	for (size_t i = 50; i < sizeof(in) - 1; i += 50)
		in[i] = '.';
	cr_expect_eq(dnsname_normalize(in, 0, out, &why), -1);
	cr_expect_str_eq(why, "name too long");
}

Test(normalize, idn_length)
{
	char in[1024], out[DNSNAME_MAX];
	const char *why;
	size_t o = 0;

	/* 4 labels of 20 x U+00FC: each A-label is short enough... */
	for (int l = 0; l < 4; l++) {
		for (int k = 0; k < 20; k++) {
			in[o++] = (char)0xc3;
			in[o++] = (char)0xbc;
		}
		in[o++] = '.';
	}
	memcpy(in + o, "example", 8);
	cr_expect_eq(dnsname_normalize(in, 0, out, &why), 0, "%s", why);
	cr_expect(strlen(out) <= DNSNAME_MAX - 1);
	cr_expect_eq(strncmp(out, "xn--", 4), 0);

	/* ...but 60 U+00FC in one label give an A-label over 63 octets */
	o = 0;
	for (int k = 0; k < 60; k++) {
		in[o++] = (char)0xc3;
		in[o++] = (char)0xbc;
	}
	memcpy(in + o, ".example", 9);
	cr_expect_eq(dnsname_normalize(in, 0, out, &why), -1);

	/* 9 labels of 25 x U+00FC: 225 characters, but 9 x 31 + 8 as A-labels */
	o = 0;
	for (int l = 0; l < 9; l++) {
		for (int k = 0; k < 25; k++) {
			in[o++] = (char)0xc3;
			in[o++] = (char)0xbc;
		}
		in[o++] = l < 8 ? '.' : 0;
	}
	cr_expect_eq(dnsname_normalize(in, 0, out, &why), -1);
	cr_expect_str_eq(why, "name too long");
}

Test(normalize, null_arguments)
{
	char out[DNSNAME_MAX];
	const char *why = NULL;

	cr_expect_eq(dnsname_normalize(NULL, 0, out, &why), -1);
	cr_expect_str_eq(why, "empty name");
	cr_expect_eq(dnsname_normalize("Example.com", 0, out, NULL), 0);
	cr_expect_str_eq(out, "example.com");
	cr_expect_eq(dnsname_normalize("a..b", 0, out, NULL), -1);
}

/* -------------------------------------------------------------- wire */

Test(wire, simple_and_offsets)
{
	static const uint8_t w[] = "\x0a\x14\x03www\x07" "Example\x03" "COM\x00\xff";
	char out[DNSNAME_MAX];
	size_t off = 2, len = sizeof(w) - 1;

	cr_expect_eq(dnsname_from_wire(w, len, &off, out), 0);
	cr_expect_str_eq(out, "www.example.com");
	cr_expect_eq(off, len - 1, "offset points past the name, at the trailing octet");
}

Test(wire, root)
{
	static const uint8_t w[] = { 0, 10, 0 };
	char out[DNSNAME_MAX];
	size_t off = 2;

	memset(out, 'X', sizeof(out));
	cr_expect_eq(dnsname_from_wire(w, sizeof(w), &off, out), 0);
	cr_expect_str_eq(out, "");
	cr_expect_eq(off, 3);
}

Test(wire, underscore_and_case)
{
	uint8_t w[64];
	char out[DNSNAME_MAX];
	size_t off = 0, n = to_wire("_25._TCP.Mx.Example", w, sizeof(w));

	cr_expect_eq(dnsname_from_wire(w, n, &off, out), 0);
	cr_expect_str_eq(out, "_25._tcp.mx.example");
	cr_expect_eq(off, n);
}

struct wcase {
	const char *what;
	const uint8_t *w;
	size_t len;
};

#define W(s) (const uint8_t *)(s), sizeof(s) - 1

static const struct wcase wbad[] = {
	{ "empty input", W("") },
	{ "no terminating root label", W("\x03www") },
	{ "label runs past the end", W("\x03ww") },
	{ "label length past the end", W("\x03www\x07" "exam") },
	{ "compression pointer", W("\x03www\xc0\x0c") },
	{ "compression pointer first", W("\xc0\x0c") },
	{ "extended label type 0x40", W("\x41" "a\x00") },
	{ "reserved label type 0x80", W("\x81" "a\x00") },
	{ "space in label", W("\x03w w\x00") },
	{ "dot in label", W("\x03w.w\x00") },
	{ "NUL in label", W("\x03w\x00w\x00") },
	{ "high octet", W("\x02\xc3\xbc\x00") },
	{ "control", W("\x03w\x01w\x00") },
	{ "backslash", W("\x03w\\w\x00") },
	{ "asterisk", W("\x01*\x07" "example\x00") },
	{ "leading hyphen", W("\x04-abc\x00") },
	{ "trailing hyphen", W("\x04" "abc-\x00") },
	{ "invalid A-label", W("\x04xn--\x07" "example\x00") },
	{ "invalid A-label 2", W("\x07xn--zz-\x00") },
};

Test(wire, hostile)
{
	for (size_t i = 0; i < sizeof(wbad) / sizeof(wbad[0]); i++) {
		char out[DNSNAME_MAX];
		size_t off = 0;

		memset(out, 'X', sizeof(out));
		cr_expect_eq(dnsname_from_wire(wbad[i].w, wbad[i].len, &off, out), -1, "%s",
		    wbad[i].what);
		cr_expect_eq(off, 0, "%s: offset unchanged on failure", wbad[i].what);
		cr_expect_str_eq(out, "", "%s", wbad[i].what);
	}
}

Test(wire, offset_out_of_range)
{
	static const uint8_t w[] = { 1, 'a', 0 };
	char out[DNSNAME_MAX];
	size_t off = 3;

	cr_expect_eq(dnsname_from_wire(w, sizeof(w), &off, out), -1);
	off = 1000;
	cr_expect_eq(dnsname_from_wire(w, sizeof(w), &off, out), -1);
	off = 0;
	cr_expect_eq(dnsname_from_wire(NULL, 3, &off, out), -1);
	cr_expect_eq(dnsname_from_wire(w, sizeof(w), NULL, out), -1);
}

Test(wire, lengths)
{
	char name[600], out[DNSNAME_MAX];
	uint8_t w[600];
	size_t off, n;
	size_t l253[] = { 63, 63, 63, 61 }, l254[] = { 63, 63, 63, 62 }, l255[] = { 63, 63, 63, 63 };

	make_name(name, sizeof(name), l253, 4);
	n = to_wire(name, w, sizeof(w));
	cr_assert_eq(n, 255, "the longest legal wire name");
	off = 0;
	cr_expect_eq(dnsname_from_wire(w, n, &off, out), 0);
	cr_expect_str_eq(out, name);
	cr_expect_eq(off, n);

	make_name(name, sizeof(name), l254, 4);
	n = to_wire(name, w, sizeof(w));
	off = 0;
	cr_expect_eq(dnsname_from_wire(w, n, &off, out), -1, "256 octets on the wire");

	make_name(name, sizeof(name), l255, 4);
	n = to_wire(name, w, sizeof(w));
	off = 0;
	cr_expect_eq(dnsname_from_wire(w, n, &off, out), -1);

	/* many short labels: 2 octets each, 128 labels = 255 characters */
	for (n = 0; n < 256; n += 2) {
		w[n] = 1;
		w[n + 1] = 'a';
	}
	w[n++] = 0;
	off = 0;
	cr_expect_eq(dnsname_from_wire(w, n, &off, out), -1);
	/* 127 such labels: 253 characters, accepted */
	off = 2;
	cr_expect_eq(dnsname_from_wire(w, n, &off, out), 0);
	cr_expect_eq(strlen(out), 253);
}

Test(wire, roundtrip_normalize)
{
	static const char *names[] = {
		"example.com", "xn--bcher-kva.example", "_443._tcp.www.example", "a.b.c.d.e.f",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint8_t w[DNSNAME_MAX + 2];
		char out[DNSNAME_MAX], norm[DNSNAME_MAX];
		size_t off = 0, n = to_wire(names[i], w, sizeof(w));
		const char *why;

		cr_expect_eq(dnsname_from_wire(w, n, &off, out), 0, "%s", names[i]);
		cr_expect_eq(dnsname_normalize(out, 1, norm, &why), 0, "%s", names[i]);
		cr_expect_str_eq(norm, out);
	}
}

/* ------------------------------------------------------------- equal */

Test(equal, cases)
{
	cr_expect(dnsname_equal("example.com", "example.com"));
	cr_expect(dnsname_equal("Example.COM.", "example.com"));
	cr_expect(dnsname_equal("example.com", "EXAMPLE.com."));
	cr_expect(dnsname_equal("", "."));
	cr_expect(dnsname_equal(".", "."));
	cr_expect_not(dnsname_equal("example.com", "example.org"));
	cr_expect_not(dnsname_equal("example.com", "example.co"));
	cr_expect_not(dnsname_equal("a", "ab"));
	cr_expect_not(dnsname_equal("a..", "a"), "only one trailing dot is ignored");
	cr_expect_not(dnsname_equal("a", ""));
	cr_expect_not(dnsname_equal(NULL, "a"));
	cr_expect_not(dnsname_equal("a", NULL));
	/* no locale games: only ASCII letters fold */
	cr_expect_not(dnsname_equal("\xc3\x9c", "\xc3\xbc"));
	cr_expect_not(dnsname_equal("[", "{"));
}

/* ------------------------------------------------------ address literal */

Test(literal, good)
{
	static const char *good[] = {
		"[192.0.2.1]", "[0.0.0.0]", "[255.255.255.255]", "[10.1.2.3]",
		"[192.000.002.001]",	/* RFC 5321 Snum: 1*3DIGIT */
		"[IPv6:2001:db8::1]", "[ipv6:::1]", "[IPV6:::]", "[IPv6:::ffff:192.0.2.1]",
		"[IPv6:2001:0db8:0000:0000:0000:0000:0000:0001]",
		"[IPv6:ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect_eq(dnsname_is_address_literal(good[i]), 1, "%s", good[i]);
}

Test(literal, bad)
{
	static const char *bad[] = {
		"", "[", "]", "[]", "[ ]", "192.0.2.1", "[192.0.2.1", "192.0.2.1]",
		"[999.1.1.1]", "[256.0.0.1]", "[1.2.3]", "[1.2.3.4.5]", "[1.2.3.4.]",
		"[.1.2.3.4]", "[1..2.3]", "[1.2.3.0004]", "[ 1.2.3.4]", "[1.2.3.4 ]",
		"[+1.2.3.4]", "[-1.2.3.4]", "[0x1.2.3.4]", "[1.2.3.4]x", "[1.2.3.4]:25",
		"[[1.2.3.4]]", "[1.2.3.4\n]", "[example.com]", "[mx.example]",
		"[IPv6:]", "[IPv6:zz::1]", "[IPv6:1.2.3.4]", "[IPv6::::1]",
		"[IPv6:2001:db8::1%eth0]", "[IPv6:::1]:25", "[IPv6:::1", "[IPv6 ::1]",
		"[IPv6:2001:db8::1 ]", "[IPv6:1:2:3:4:5:6:7:8:9]", "[IPv4:1.2.3.4]",
		"[x:y]", "[::1]", "[2001:db8::1]",
		"[IPv6:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(dnsname_is_address_literal(bad[i]), 0, "\"%s\"", bad[i]);
	cr_expect_eq(dnsname_is_address_literal(NULL), 0);
}

Test(literal, huge)
{
	static char big[10000];

	memset(big, '1', sizeof(big) - 1);
	big[0] = '[';
	big[sizeof(big) - 2] = ']';
	cr_expect_eq(dnsname_is_address_literal(big), 0);
	memcpy(big, "[IPv6:", 6);
	cr_expect_eq(dnsname_is_address_literal(big), 0);
}

/* ------------------------------------------------------------ threads */

#define NTHREADS 4
#define ROUNDS 300

static atomic_int thread_failures;

static void *
worker(void *arg)
{
	const char *const *in = arg;

	for (int r = 0; r < ROUNDS; r++) {
		char out[DNSNAME_MAX];
		const char *why;

		if (dnsname_normalize(in[0], 1, out, &why) != 0 || strcmp(out, in[1]) != 0)
			atomic_fetch_add(&thread_failures, 1);
		if (dnsname_normalize("xn--.example", 0, out, &why) != -1)
			atomic_fetch_add(&thread_failures, 1);
	}
	return NULL;
}

Test(threads, concurrent_normalize)
{
	static const char *work[NTHREADS][2] = {
		{ "B\xc3\xbc" "cher.EXAMPLE.", "xn--bcher-kva.example" },
		{ "stra\xc3\x9f" "e.de", "xn--strae-oqa.de" },
		{ "_25._tcp.MX.example", "_25._tcp.mx.example" },
		{ "\xef\xbc\xa1.example", "a.example" },
	};
	pthread_t t[NTHREADS];

	for (int i = 0; i < NTHREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, worker, (void *)work[i]), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	cr_expect_eq(atomic_load(&thread_failures), 0);
}

Test(addr_internal, classes)
{
	static const char *const internal[] = { "127.0.0.1", "10.1.2.3", "172.16.0.1",
		"172.31.255.255", "192.168.1.1", "169.254.1.1", "100.64.0.1", "0.0.0.0",
		"224.0.0.1", "255.255.255.255", "::", "::1", "fc00::1", "fd12::1", "fe80::1",
		"ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1" };
	static const char *const public[] = { "192.0.2.1", "8.8.8.8", "172.32.0.1", "172.15.0.1",
		"100.128.0.1", "193.168.1.1", "2001:db8::1", "2a00::1", "::ffff:192.0.2.1" };

	for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++)
		cr_expect_eq(dnsname_addr_internal(internal[i]), 1, "%s is internal", internal[i]);
	for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++)
		cr_expect_eq(dnsname_addr_internal(public[i]), 0, "%s is public", public[i]);
	cr_expect_eq(dnsname_addr_internal("ocsp.example"), -1);
	cr_expect_eq(dnsname_addr_internal("1.2.3"), -1);
	cr_expect_eq(dnsname_addr_internal(""), -1);
}
