/*
 * test_rcpt.c - recipient parsing, well-formed and hostile.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "rcpt.h"

struct rcase {
	const char *in;
	enum rcpt_kind want_kind;
	const char *want_domain;	/* for DOMAIN / LITERAL */
};

static const struct rcase cases[] = {
	{ .in = "<user@example.com>", .want_kind = RCPT_DOMAIN, .want_domain = "example.com" },
	{ .in = "user@Example.COM.", .want_kind = RCPT_DOMAIN, .want_domain = "example.com" },
	{ .in = "  <user@example.com>  ", .want_kind = RCPT_DOMAIN, .want_domain = "example.com" },
	{ .in = "<@relay1.example,@relay2.example:user@dest.example>", .want_kind = RCPT_DOMAIN, .want_domain = "dest.example" },
	{ .in = "<\"odd@local part\"@example.org>", .want_kind = RCPT_DOMAIN, .want_domain = "example.org" },
	{ .in = "<\"q\\\"uote\"@example.org>", .want_kind = RCPT_DOMAIN, .want_domain = "example.org" },
	{ .in = "<user@[192.0.2.1]>", .want_kind = RCPT_LITERAL, .want_domain = "[192.0.2.1]" },
	{ .in = "<user@[IPv6:2001:db8::1]>", .want_kind = RCPT_LITERAL, .want_domain = "[IPv6:2001:db8::1]" },
	{ .in = "<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", .want_kind = RCPT_DOMAIN, .want_domain = "xn--bcher-kva.example" },
	{ .in = "<postmaster>", .want_kind = RCPT_LOCAL },
	{ .in = "postmaster", .want_kind = RCPT_LOCAL },
	/* hostile */
	{ .in = "", .want_kind = RCPT_INVALID },
	{ .in = "<>", .want_kind = RCPT_INVALID },
	{ .in = "<user@example.com", .want_kind = RCPT_INVALID },
	{ .in = "user@example.com>", .want_kind = RCPT_INVALID },
	{ .in = "<@relay.example user@x.example>", .want_kind = RCPT_INVALID },
	{ .in = "<\"unterminated@example.com>", .want_kind = RCPT_INVALID },
	{ .in = "<\"q\"x@example.com>", .want_kind = RCPT_INVALID },
	{ .in = "<us er@example.com>", .want_kind = RCPT_INVALID },
	{ .in = "<user@>", .want_kind = RCPT_INVALID },
	{ .in = "<@example.com>", .want_kind = RCPT_INVALID },
	{ .in = "<user@exa mple.com>", .want_kind = RCPT_INVALID },
	{ .in = "<user@a..b>", .want_kind = RCPT_INVALID },
	{ .in = "<user@[999.0.0.1]>", .want_kind = RCPT_INVALID },
	{ .in = "<user@[192.0.2.1>", .want_kind = RCPT_INVALID },
	{ .in = "<user@example.com\r\nRCPT TO:<x@y>>", .want_kind = RCPT_INVALID },
	{ .in = "<u\x01@example.com>", .want_kind = RCPT_INVALID },
	{ .in = "<user@\xff\xfe.example>", .want_kind = RCPT_INVALID },
};

Test(rcpt, table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rcpt got;
		enum rcpt_kind k = rcpt_parse(cases[i].in, &got);

		cr_expect_eq(k, cases[i].want_kind, "case %zu \"%s\": kind %d want %d (%s)", i,
		    cases[i].in, k, cases[i].want_kind, got.why ? got.why : "");
		cr_expect_eq(got.kind, k);
		if (k == RCPT_INVALID)
			cr_expect_not_null(got.why, "case %zu gives a reason", i);
		if (cases[i].want_domain && k == cases[i].want_kind)
			cr_expect_str_eq(got.domain, cases[i].want_domain, "case %zu", i);
	}
}

Test(rcpt, oversized)
{
	static char big[RCPT_MAX_LEN + 100];
	struct rcpt r;

	memset(big, 'a', sizeof(big) - 1);
	big[0] = '<';
	big[200] = '@';
	cr_expect_eq(rcpt_parse(big, &r), RCPT_INVALID);
	cr_expect_str_eq(r.why, "address too long");
	/* a domain of 300 characters */
	memset(big, 'a', 400);
	big[0] = '<';
	big[5] = '@';
	for (int i = 20; i < 400; i += 20)
		big[i] = '.';
	big[400] = '>';
	big[401] = 0;
	cr_expect_eq(rcpt_parse(big, &r), RCPT_INVALID);
	cr_expect_eq(rcpt_parse(NULL, &r), RCPT_INVALID);
}
