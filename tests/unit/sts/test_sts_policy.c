/*
 * test_sts_policy.c - RFC 8461 policy text (sts/sts_policy.c): the
 * RFC's own example, CRLF and LF, case, repeated keys, extensions, and
 * hostile policies (every refusal names its reason); MX pattern matching
 * (section 4.1); the RFC 8460 policy-string lines.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sts_policy.h"

/* parse text; expect success */
static void
ok(const char *text, struct sts_policy *p)
{
	char *err = NULL;
	int rc = sts_policy_parse(text, strlen(text), p, &err);

	cr_assert_eq(rc, 0, "refused: %s\n%s", err ? err : "?", text);
	cr_assert_null(err);
}

/* parse text (len bytes; 0: strlen); expect a refusal whose reason contains want */
static void
bad(const char *text, size_t len, const char *want)
{
	struct sts_policy p;
	char *err = NULL;
	int rc = sts_policy_parse(text, len ? len : strlen(text), &p, &err);

	cr_assert_eq(rc, -1, "accepted: %.60s", text);
	cr_assert_not_null(err);
	cr_expect(strstr(err, want) != NULL, "reason \"%s\" lacks \"%s\"", err, want);
	cr_expect_eq(p.nmx, 0);
	cr_expect_null(p.mx);
	free(err);
}

Test(sts_policy, rfc_example_crlf)
{
	struct sts_policy p;

	ok("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
	   "mx: backupmx.example.com\r\nmax_age: 604800\r\n",
	    &p);
	cr_expect_eq(p.mode, STS_MODE_ENFORCE);
	cr_expect_eq(p.max_age, 604800);
	cr_assert_eq(p.nmx, 3);
	cr_expect_str_eq(p.mx[1], "*.example.net");
	sts_policy_clear(&p);
	cr_expect_null(p.mx);
}

Test(sts_policy, lf_case_blanks_extensions_first_wins)
{
	struct sts_policy p;

	ok("Version:STSv1\nMODE:\tTesting  \nmx: MX1.Example.COM.\nfoo_bar: anything\n\n"
	   "mode: enforce\nmax_age: 0\nmax_age: 99\nmx: mx1.example.com\n",
	    &p);
	cr_expect_eq(p.mode, STS_MODE_TESTING, "first mode counts");
	cr_expect_eq(p.max_age, 0, "first max_age counts");
	cr_assert_eq(p.nmx, 1, "the same pattern twice is kept once");
	cr_expect_str_eq(p.mx[0], "mx1.example.com");
	sts_policy_clear(&p);
	ok("version: STSv1\nmode: none\nmax_age: 86400", &p);
	cr_expect_eq(p.mode, STS_MODE_NONE, "mode none needs no mx, no final line end");
	sts_policy_clear(&p);
}

Test(sts_policy, hostile)
{
	static const char big_head[] = "version: STSv1\nmode: enforce\nmax_age: 1\nmx: a.example\n";
	size_t biglen = STS_POLICY_MAX + 1;
	char *big = malloc(biglen);

	bad("mode: enforce\nmx: a.example\nmax_age: 1\n", 0, "no version");
	bad("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", 0, "not STSv1");
	bad("version: STSv1\nmode: enforced\nmx: a.example\nmax_age: 1\n", 0, "mode");
	bad("version: STSv1\nmode: enforce\nmax_age: 86400\n", 0, "no mx");
	bad("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", 0, "above");
	bad("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", 0, "digits");
	bad("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n", 0, "digits");
	bad("version: STSv1\nmode: enforce\nmx: a.example\n", 0, "no max_age");
	bad("version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n", 0, "wildcard");
	bad("version: STSv1\nmode: enforce\nmx: *.com\nmax_age: 1\n", 0, "top-level");
	bad("version: STSv1\nmode: enforce\nmx: bad_name.example\nmax_age: 1\n", 0, "mx");
	bad("version: STSv1\nmode\x01: enforce\n", 0, "line:2");
	bad("version: STSv1\nmode: enf\x1borce\n", 0, "line:2");
	bad("version: STSv1\0mode: enforce\n", 29, "line:1");
	bad("<html>redirect</html>\n", 0, "line:1: not a");
	bad("version: STSv1\nmode: enforce\nmx: caf\xc3\xa9.example\nmax_age: 1\nx: \xc3\xa9\n", 0, "ASCII");
	bad("version:\nmode: enforce\n", 0, "no value");
	memcpy(big, big_head, sizeof(big_head) - 1);
	memset(big + sizeof(big_head) - 1, 'x', biglen - (sizeof(big_head) - 1));
	bad(big, biglen, "larger than");
	free(big);
}

Test(sts_policy, mx_match)
{
	struct sts_policy p;

	ok("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 1\n", &p);
	cr_expect_eq(sts_policy_mx_match(&p, "mail.example.com"), 1);
	cr_expect_eq(sts_policy_mx_match(&p, "MAIL.Example.com."), 1, "case, trailing dot");
	cr_expect_eq(sts_policy_mx_match(&p, "x.mail.example.com"), 0);
	cr_expect_eq(sts_policy_mx_match(&p, "mx1.example.net"), 1, "one label");
	cr_expect_eq(sts_policy_mx_match(&p, "a.b.example.net"), 0, "two labels");
	cr_expect_eq(sts_policy_mx_match(&p, "example.net"), 0, "no label");
	cr_expect_eq(sts_policy_mx_match(&p, ""), 0);
	cr_expect_eq(sts_policy_mx_match(&p, "bad..name"), 0);
	sts_policy_clear(&p);
}

Test(sts_policy, strings_and_copy)
{
	struct sts_policy p, q;
	char **l = NULL;
	size_t n;

	ok("version: STSv1\nmode: testing\nmx: *.example.net\nmax_age: 604800\n", &p);
	sts_policy_copy(&q, &p);
	sts_policy_clear(&p);
	n = sts_policy_strings(&q, &l);
	cr_assert_eq(n, 4);
	cr_expect_str_eq(l[0], "version: STSv1");
	cr_expect_str_eq(l[1], "mode: testing");
	cr_expect_str_eq(l[2], "mx: *.example.net");
	cr_expect_str_eq(l[3], "max_age: 604800");
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
	sts_policy_clear(&q);
}
