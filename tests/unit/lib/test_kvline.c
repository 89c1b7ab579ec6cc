/*
 * test_kvline.c - key=value lines as Exim's ${extract} reads them:
 * parsing event lines (quoting, escapes, hostile input) and writing
 * reply values that read back to the same text.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kvline.h"

Test(kvline, plain_and_quoted)
{
	struct kvline l;
	const char *why = NULL;

	cr_assert_eq(kvline_parse("domain=secure.example host=mx1.secure.example ip=192.0.2.1", 64,
	    &l, &why), 0, "%s", why);
	cr_assert_eq(l.n, 3);
	cr_expect_str_eq(l.f[0].key, "domain");
	cr_expect_str_eq(l.f[0].value, "secure.example");
	cr_expect_str_eq(kvline_get(&l, "ip"), "192.0.2.1");
	cr_expect_null(kvline_get(&l, "nope"));
	kvline_free(&l);

	cr_assert_eq(kvline_parse("  msg=\"a \\\"quoted\\\" \\\\ text\"\tempty= x=\"\" odd=\"\\n\" ", 64,
	    &l, &why), 0, "%s", why);
	cr_assert_eq(l.n, 4);
	cr_expect_str_eq(kvline_get(&l, "msg"), "a \"quoted\" \\ text");
	cr_expect_str_eq(kvline_get(&l, "empty"), "");
	cr_expect_str_eq(kvline_get(&l, "x"), "");
	cr_expect_str_eq(kvline_get(&l, "odd"), "\\n", "other escapes are kept");
	kvline_free(&l);

	cr_assert_eq(kvline_parse("", 64, &l, &why), 0);
	cr_expect_eq(l.n, 0);
	kvline_free(&l);
	cr_assert_eq(kvline_parse("k=1 k=2", 64, &l, &why), 0);
	cr_expect_str_eq(kvline_get(&l, "k"), "2", "the last one wins");
	kvline_free(&l);
	cr_assert_eq(kvline_parse("dane:fail=yes tls.cipher=x a-b_c=\xc3\xa9", 64, &l, &why), 0);
	cr_expect_str_eq(kvline_get(&l, "a-b_c"), "\xc3\xa9");
	kvline_free(&l);
}

Test(kvline, hostile)
{
	static const struct { const char *in; const char *why; } cases[] = {
		{ "a=\"unterminated", "unterminated quote" },
		{ "a=\"x\\\"", "unterminated quote" },
		{ "a=\"x\"y", "text after a closing quote" },
		{ "a=x\"y\"", "quote inside a bare value" },
		{ "novalue", "field without '='" },
		{ "a=1 novalue", "field without '='" },
		{ "=x", "empty key" },
		{ "k y=1", "field without '='" },
		{ "k\xff=1", "bad character in a key" },
		{ "a=\x01", "control character" },
		{ "a=\"x\ny\"", "control character" },
		{ "a=\x7f", "control character" },
		{ "a=1 \r", "control character" },
		{ "\"k\"=v", "field without '='" },
	};
	struct kvline l;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;

		cr_expect_eq(kvline_parse(cases[i].in, 64, &l, &why), -1, "case %zu accepted", i);
		cr_expect_eq(l.n, 0);
		cr_expect_null(l.f);
		if (why)
			cr_expect_str_eq(why, cases[i].why, "case %zu", i);
		kvline_free(&l);
	}
}

Test(kvline, limits)
{
	struct buf b;
	struct kvline l;
	const char *why = NULL;
	char key[KVLINE_KEY_MAX + 2];

	buf_init(&b);
	for (int i = 0; i < 65; i++)
		buf_printf(&b, "k%d=v ", i);
	cr_expect_eq(kvline_parse(b.s, 64, &l, &why), -1);
	cr_expect_str_eq(why, "too many fields");
	kvline_free(&l);
	buf_free(&b);

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = 0;
	cr_expect_not(kvline_key_ok(key));
	buf_init(&b);
	buf_printf(&b, "%s=1", key);
	cr_expect_eq(kvline_parse(b.s, 64, &l, &why), -1);
	cr_expect_str_eq(why, "key too long");
	kvline_free(&l);
	key[KVLINE_KEY_MAX] = 0;
	cr_expect(kvline_key_ok(key));
	cr_expect_not(kvline_key_ok(""));
	cr_expect_not(kvline_key_ok("a b"));
	buf_free(&b);
}

/* What kvline_put writes parses back to the same key and value. */
Test(kvline, write_read_back)
{
	static const char *values[] = {
		"secure.example", "", "450 4.7.5 DNSSEC validation failed (bogus.example: x)",
		"a\"b", "back\\slash", "\\\"", "k=v", "trailing\\", "\xc3\xa9t\xc3\xa9",
	};
	struct buf b;
	struct kvline l;
	const char *why = NULL;
	char key[16];

	buf_init(&b);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		kvline_put(&b, key, values[i]);
	}
	cr_assert_eq(kvline_parse(b.s, 64, &l, &why), 0, "%s: %s", b.s, why);
	cr_assert_eq(l.n, sizeof(values) / sizeof(values[0]));
	for (size_t i = 0; i < l.n; i++)
		cr_expect_str_eq(l.f[i].value, values[i], "value %zu in %s", i, b.s);
	kvline_free(&l);
	buf_free(&b);
}

Test(kvline, write_quoting)
{
	struct buf b;

	buf_init(&b);
	kvline_put(&b, "verdict", "require");
	kvline_put(&b, "reply", "450 4.7.5 a \"b\" \\c");
	kvline_put(&b, "empty", "");
	kvline_put(&b, "ctl", "a\nb\tc");
	cr_expect_str_eq(b.s, "verdict=require reply=\"450 4.7.5 a \\\"b\\\" \\\\c\" empty=\"\" "
	    "ctl=\"a?b?c\"");
	buf_free(&b);
}
