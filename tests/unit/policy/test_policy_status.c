/*
 * test_policy_status.c - unit tests of the status table (policy/policy_status.h).
 *
 * Covers: the built-in table against doc/status-codes.md row for row
 * (every reason once, verdict, reply, enhanced code, TLSRPT type, text)
 * and against tests/world/expected.tsv (the replies the world test
 * expects); reply classes matching verdicts; overrides accepted and
 * refused (unknown reason, class mismatches both ways, leading zeros,
 * malformed codes, 421, text too long / control / non-ASCII / missing),
 * a refused override leaving the row alone; and the composed reply text
 * (format, missing parts, '%' doubling, cleaning of control bytes and
 * UTF-8, trimming to 400 characters without splitting anything).
 *
 * Files are read from $TOP_SRCDIR (make check sets it).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_status.h"

static FILE *
open_src(const char *rel)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[4096];
	FILE *fp;

	cr_assert_not_null(top, "TOP_SRCDIR not set");
	snprintf(path, sizeof(path), "%s/%s", top, rel);
	fp = fopen(path, "r");
	cr_assert_not_null(fp, "cannot open %s", path);
	return fp;
}

/* Trim blanks and one pair of backticks in place. */
static char *
cell(char *s)
{
	size_t n;

	while (*s == ' ')
		s++;
	n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		s[--n] = 0;
	if (n >= 2 && s[0] == '`' && s[n - 1] == '`') {
		s[n - 1] = 0;
		s++;
	}
	return s;
}

static const char *
or_dash(const char *s)
{
	return s ? s : "-";
}

Test(status, doc_table_matches_builtin)
{
	FILE *fp = open_src("doc/status-codes.md");
	char line[1024];
	int seen[POLICY_R_COUNT] = { 0 };
	unsigned rows = 0;
	int header = 0;

	while (fgets(line, sizeof(line), fp)) {
		char *f[8], *s = line;
		int n = 0;
		enum policy_reason r;
		const struct policy_status *st;

		line[strcspn(line, "\n")] = 0;
		if (strncmp(line, "| reason | verdict | reply | enhanced | tlsrpt | text |", 55) == 0)
			header = 1;
		if (strncmp(line, "## ", 3) == 0 && header)
			break;	/* the status table's section ends; later tables are others' */
		if (strncmp(line, "| `", 3) != 0)
			continue;
		for (char *bar; n < 8 && (bar = strchr(s + 1, '|')) != NULL; s = bar) {
			*bar = 0;
			f[n++] = cell(s + 1);
		}
		cr_assert_eq(n, 6, "row with %d cells: %s", n, f[0]);
		cr_assert_eq(policy_reason_parse(f[0], &r), 0, "unknown reason %s in the doc", f[0]);
		cr_expect_eq(seen[r], 0, "%s twice in the doc", f[0]);
		seen[r] = 1;
		st = policy_status_get(NULL, r);
		cr_expect_str_eq(f[1], policy_verdict_name(policy_reason_verdict(r)), "verdict of %s", f[0]);
		cr_expect_str_eq(f[2], or_dash(st->reply), "reply of %s", f[0]);
		cr_expect_str_eq(f[3], or_dash(st->enhanced), "enhanced of %s", f[0]);
		cr_expect_str_eq(f[4], or_dash(st->tlsrpt), "tlsrpt of %s", f[0]);
		cr_expect_str_eq(f[5], st->text, "text of %s", f[0]);
		rows++;
	}
	fclose(fp);
	cr_expect(header, "table header not found");
	cr_expect_eq(rows, POLICY_R_COUNT, "doc has %u rows, there are %d reasons", rows, POLICY_R_COUNT);
	for (int i = 0; i < POLICY_R_COUNT; i++)
		cr_expect(seen[i], "reason %s not in the doc", policy_reason_name((enum policy_reason)i));
}

Test(status, expected_tsv_replies)
{
	FILE *fp = open_src("tests/world/expected.tsv");
	char line[1024];
	unsigned checked = 0;

	while (fgets(line, sizeof(line), fp)) {
		char *f[7], *save = NULL;
		int n = 0;
		enum policy_reason r;
		const struct policy_status *st;

		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#' || line[0] == 0)
			continue;
		for (char *t = strtok_r(line, "\t", &save); t && n < 7; t = strtok_r(NULL, "\t", &save))
			f[n++] = t;
		cr_assert_eq(n, 7, "expected.tsv row with %d fields", n);
		cr_assert_eq(policy_reason_parse(f[4], &r), 0, "reason %s", f[4]);
		st = policy_status_get(NULL, r);
		cr_expect_str_eq(or_dash(st->reply), f[5], "reply of %s", f[4]);
		cr_expect_str_eq(or_dash(st->enhanced), f[6], "enhanced of %s", f[4]);
		checked++;
	}
	fclose(fp);
	cr_expect_gt(checked, 20);
}

Test(status, classes_match_verdicts)
{
	for (int i = 0; i < POLICY_R_COUNT; i++) {
		enum policy_reason r = (enum policy_reason)i;
		const struct policy_status *st = policy_status_get(NULL, r);
		enum policy_verdict v = policy_reason_verdict(r);

		cr_assert_not_null(st->text);
		cr_expect(strlen(st->text) > 0 && strlen(st->text) <= 200);
		cr_expect_null(strchr(st->text, '%'), "%s", st->text);
		if (v == POLICY_REQUIRE || v == POLICY_TRY) {
			cr_expect_null(st->reply, "%s", policy_reason_name(r));
			cr_expect_null(st->enhanced, "%s", policy_reason_name(r));
			continue;
		}
		cr_assert_not_null(st->reply);
		cr_assert_not_null(st->enhanced);
		cr_expect_eq(st->reply[0], v == POLICY_DEFER ? '4' : '5', "%s", policy_reason_name(r));
		cr_expect_eq(st->enhanced[0], st->reply[0], "%s", policy_reason_name(r));
		/* the defaults pass the override rules themselves */
		{
			struct policy_status_table *t = policy_status_table_new();
			char v2[512];
			const char *why;

			snprintf(v2, sizeof(v2), "%s %s %s", st->reply, st->enhanced, st->text);
			cr_expect_eq(policy_status_set(t, policy_reason_name(r), v2, &why), 0,
			    "%s: %s", v2, why);
			policy_status_table_free(t);
		}
	}
	/* out of range: a row, never NULL */
	cr_expect_eq(policy_status_get(NULL, POLICY_R_COUNT),
	    policy_status_get(NULL, POLICY_R_INTERNAL_ERROR));
}

Test(status, table_copy_and_override)
{
	struct policy_status_table *t = policy_status_table_new(), *u = policy_status_table_new();
	const struct policy_status *st;
	const char *why = "x";

	st = policy_status_get(t, POLICY_R_DANE_REQUIRED);
	cr_expect_str_eq(st->reply, "450");
	cr_expect_eq(policy_status_set(t, "dane-required", "451  4.7.5\tDANE required here", &why), 0);
	cr_expect_null(why);
	st = policy_status_get(t, POLICY_R_DANE_REQUIRED);
	cr_expect_str_eq(st->reply, "451");
	cr_expect_str_eq(st->enhanced, "4.7.5");
	cr_expect_str_eq(st->text, "DANE required here");
	cr_expect_str_eq(st->tlsrpt, "dane-required");
	/* other tables and the defaults are untouched */
	cr_expect_str_eq(policy_status_get(u, POLICY_R_DANE_REQUIRED)->reply, "450");
	cr_expect_str_eq(policy_status_get(NULL, POLICY_R_DANE_REQUIRED)->reply, "450");
	/* overriding twice */
	cr_expect_eq(policy_status_set(t, "dane-required", "452 4.7.10 again", &why), 0);
	cr_expect_str_eq(policy_status_get(t, POLICY_R_DANE_REQUIRED)->enhanced, "4.7.10");
	/* reject and text-only rows */
	cr_expect_eq(policy_status_set(t, "null-mx", "550 5.1.10 nothing here", &why), 0);
	cr_expect_str_eq(policy_status_get(t, POLICY_R_NULL_MX)->reply, "550");
	cr_expect_eq(policy_status_set(t, "no-tlsa", "opportunistic TLS, 100%", &why), 0);
	st = policy_status_get(t, POLICY_R_NO_TLSA);
	cr_expect_null(st->reply);
	cr_expect_str_eq(st->text, "opportunistic TLS, 100%");
	/* "0" is a number without leading zeros; 3 digits are the maximum */
	cr_expect_eq(policy_status_set(t, "no-address", "451 4.0.0 x", &why), 0);
	cr_expect_eq(policy_status_set(t, "no-address", "451 4.999.100 x", &why), 0);
	policy_status_table_free(t);
	policy_status_table_free(u);
	policy_status_table_free(NULL);
}

Test(status, override_refused)
{
	static const struct { const char *reason, *value, *why; } bad[] = {
		{ "no-such-reason", "450 4.7.5 x", "unknown reason" },
		{ "", "450 4.7.5 x", "unknown reason" },
		{ "dane-required", "550 4.7.5 x", "class mismatch" },
		{ "dane-required", "550 5.7.5 x", "class mismatch" },
		{ "dane-required", "450 5.7.5 x", "class mismatch" },
		{ "null-mx", "450 4.1.10 x", "class mismatch" },
		{ "null-mx", "556 4.1.10 x", "class mismatch" },
		{ "dane", "250 2.0.0 ok", "class mismatch" },
		{ "no-tlsa", "450 4.7.5 x", "class mismatch" },
		{ "dane-required", "450 4.07.5 x", "leading zero" },
		{ "dane-required", "450 4.7.05 x", "leading zero" },
		{ "dane-required", "450 4.7.00 x", "leading zero" },
		{ "dane-required", "450 4.7 x", "class.subject.detail" },
		{ "dane-required", "450 4.7.5.1 x", "class.subject.detail" },
		{ "dane-required", "450 4.1000.5 x", "class.subject.detail" },
		{ "dane-required", "450 4.7.x y", "class.subject.detail" },
		{ "dane-required", "450 4..5 x", "class.subject.detail" },
		{ "dane-required", "450 4.7. x", "class.subject.detail" },
		{ "dane-required", "45 4.7.5 x", "3 digits" },
		{ "dane-required", "4500 4.7.5 x", "3 digits" },
		{ "dane-required", "4x0 4.7.5 x", "3 digits" },
		{ "dane-required", "460 4.7.5 x", "second digit" },
		{ "dane-required", "421 4.7.5 x", "421" },
		{ "dane-required", "", "missing reply code" },
		{ "dane-required", "450", "missing enhanced" },
		{ "dane-required", "450 4.7.5", "missing reply text" },
		{ "dane-required", "450 4.7.5   ", "missing reply text" },
		{ "dane-required", "450 4.7.5 bell\a", "printable ASCII" },
		{ "dane-required", "450 4.7.5 line\r\nbreak", "printable ASCII" },
		{ "dane-required", "450 4.7.5 caf\xc3\xa9", "printable ASCII" },
		{ "no-tlsa", "tab\there", "printable ASCII" },
		{ "no-tlsa", "", "missing reply text" },
	};
	struct policy_status_table *t = policy_status_table_new();
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		cr_expect_eq(policy_status_set(t, bad[i].reason, bad[i].value, &why), -1,
		    "accepted %s = %s", bad[i].reason, bad[i].value);
		cr_expect(why && strstr(why, bad[i].why), "%s = %s: why \"%s\", want \"%s\"",
		    bad[i].reason, bad[i].value, why ? why : "(null)", bad[i].why);
	}
	/* nothing changed */
	for (int i = 0; i < POLICY_R_COUNT; i++) {
		const struct policy_status *a = policy_status_get(t, (enum policy_reason)i);
		const struct policy_status *b = policy_status_get(NULL, (enum policy_reason)i);

		cr_expect_str_eq(or_dash(a->reply), or_dash(b->reply));
		cr_expect_str_eq(or_dash(a->enhanced), or_dash(b->enhanced));
		cr_expect_str_eq(a->text, b->text);
	}
	policy_status_table_free(t);
}

Test(status, override_text_length)
{
	struct policy_status_table *t = policy_status_table_new();
	char v[300];
	const char *why;

	strcpy(v, "450 4.7.5 ");
	memset(v + 10, 'a', 200);
	v[210] = 0;
	cr_expect_eq(policy_status_set(t, "tlsa-unusable", v, &why), 0);
	cr_expect_eq(strlen(policy_status_get(t, POLICY_R_TLSA_UNUSABLE)->text), 200);
	strcat(v, "b");
	cr_expect_eq(policy_status_set(t, "tlsa-unusable", v, &why), -1);
	cr_expect(strstr(why, "longer than 200") != NULL, "%s", why);
	policy_status_table_free(t);
}

Test(status, reply_text_format)
{
	const struct policy_status *st = policy_status_get(NULL, POLICY_R_TLSA_LOOKUP_FAILED);
	char *s;

	s = policy_status_reply_text(st, "example.net", "TLSA bogus");
	cr_expect_str_eq(s, "TLSA lookup failed (example.net: TLSA bogus)");
	free(s);
	s = policy_status_reply_text(st, "example.net", NULL);
	cr_expect_str_eq(s, "TLSA lookup failed (example.net)");
	free(s);
	s = policy_status_reply_text(st, NULL, "");
	cr_expect_str_eq(s, "TLSA lookup failed");
	free(s);
	s = policy_status_reply_text(st, "a.example", "100% bogus %s");
	cr_expect_str_eq(s, "TLSA lookup failed (a.example: 100%% bogus %%s)");
	free(s);
}

Test(status, reply_text_cleaned)
{
	const struct policy_status *st = policy_status_get(NULL, POLICY_R_INVALID_DOMAIN);
	char *s;

	s = policy_status_reply_text(st, "b\xc3\xbc" "cher.example\r\n", "tab\there\x7f\x01 \xff\xfe end \xe2\x82");
	cr_expect_str_eq(s, "invalid destination domain (b?cher.example??: tab?here?? ?? end ?\?)");
	free(s);
	/* a 4-byte sequence is one '?' */
	s = policy_status_reply_text(st, "x", "\xf0\x9f\x93\xa7 mail");
	cr_expect_str_eq(s, "invalid destination domain (x: ? mail)");
	free(s);
}

/* Length of s with "%%" counted once, and whether every '%' is doubled. */
static size_t
undoubled_len(const char *s, int *ok)
{
	size_t n = 0;

	*ok = 1;
	for (; *s; s++, n++) {
		if (*s == '%') {
			if (s[1] != '%')
				*ok = 0;
			else
				s++;
		}
	}
	return n;
}

Test(status, reply_text_trimmed)
{
	const struct policy_status *st = policy_status_get(NULL, POLICY_R_DNS_TIMEOUT);
	char dom[300], why[3000];
	char *s;
	int ok;
	size_t n;

	memset(why, 'w', sizeof(why) - 1);
	why[sizeof(why) - 1] = 0;
	s = policy_status_reply_text(st, "example.net", why);
	n = strlen(s);
	cr_expect_eq(n, 400, "%zu", n);
	cr_expect(strncmp(s, "DNS lookup timed out, try again later (example.net: www", 55) == 0, "%s", s);
	cr_expect(strcmp(s + n - 4, "...)") == 0, "%s", s + n - 10);
	free(s);

	/* both long: the domain keeps at least half of the room */
	memset(dom, 'd', sizeof(dom) - 1);
	dom[sizeof(dom) - 1] = 0;
	s = policy_status_reply_text(st, dom, why);
	cr_expect_eq(strlen(s), 400);
	cr_expect(strstr(s, "ddd...: www") != NULL, "%s", s);
	cr_expect(strstr(s, "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd") != NULL);
	free(s);

	/* '%' doubled after trimming: 400 characters as sent by Postfix */
	memset(why, '%', sizeof(why) - 1);
	s = policy_status_reply_text(st, "example.net", why);
	n = undoubled_len(s, &ok);
	cr_expect(ok, "lone %% in the result");
	cr_expect_eq(n, 400, "%zu", n);
	cr_expect_lt(strlen(s), 980, "longer than libmilter's line limit");
	free(s);

	/* UTF-8 at the cut: whole sequences only, each one '?' */
	for (size_t i = 0; i + 2 < sizeof(why); i += 2) {
		why[i] = (char)0xc3;
		why[i + 1] = (char)0xa9;
	}
	why[sizeof(why) - 2] = 0;
	s = policy_status_reply_text(st, "example.net", why);
	cr_expect_eq(strlen(s), 400);
	for (const char *p = s; *p; p++)
		cr_expect((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f, "byte %02x",
		    (unsigned char)*p);
	free(s);

	/* an over-long row text (only possible by hand) is cut as well */
	{
		struct policy_status big = { "451", "4.4.3", why, NULL };

		memset(why, 't', 1000);
		why[1000] = 0;
		s = policy_status_reply_text(&big, "example.net", "x");
		cr_expect_leq(strlen(s), 400);
		cr_expect(strstr(s, "... (example.net: x)") != NULL, "%s", s);
		free(s);
	}
}
