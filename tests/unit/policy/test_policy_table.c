/*
 * test_policy_table.c - unit tests of the local policy table (policy/policy_table.h).
 *
 * Covers: exact and ".parent" lookup (nearest parent first, exact before
 * parent, ".example.net" not matching example.net itself), every level,
 * normalised keys (case, trailing dot, IDN U-labels to A-labels) and
 * duplicates found after normalisation, comments/blanks/CRLF/tabs, every
 * parse error with its file:line (missing level, extra field, unknown
 * level, invalid domain, duplicate, NUL, control character, invalid
 * UTF-8, over-long line), policy_table_load() on real and missing files,
 * a NULL table, and a 100,000-line table loaded and fully looked up
 * within a generous bound (an accidentally quadratic loader takes minutes).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"
#include "policy_table.h"

static struct policy_table *
parse_ok(const char *text)
{
	char *err = NULL;
	struct policy_table *t = policy_table_parse(text, "p", &err);

	cr_assert_not_null(t, "refused: %s", err ? err : "?");
	cr_assert_null(err);
	return t;
}

static void
expect_err(const char *text, const char *want_prefix, const char *want_part)
{
	char *err = NULL;
	struct policy_table *t = policy_table_parse(text, "p", &err);

	cr_assert_null(t, "accepted: %s", text);
	cr_assert_not_null(err);
	cr_expect(strncmp(err, want_prefix, strlen(want_prefix)) == 0,
	    "error \"%s\" does not start with \"%s\"", err, want_prefix);
	cr_expect(strstr(err, want_part) != NULL, "error \"%s\" lacks \"%s\"", err, want_part);
	free(err);
}

/* Lookup d: the matching key, or NULL; *lvl set on a match. */
static const char *
look(const struct policy_table *t, const char *d, enum tls_level *lvl)
{
	const char *key = NULL;

	if (!policy_table_lookup(t, d, lvl, &key))
		return NULL;
	cr_assert_not_null(key);
	return key;
}

Test(table, exact_and_parent)
{
	struct policy_table *t = parse_ok(
	    "# comment\n"
	    "example.com      dane-only\n"
	    ".example.net     dane\n"
	    ".b.example.net   encrypt\n"
	    "x.b.example.net  may\n"
	    ".org             none\n");
	enum tls_level l = TLS_LEVEL_MAY;

	cr_expect_eq(policy_table_count(t), 5);
	cr_expect_str_eq(look(t, "example.com", &l), "example.com");
	cr_expect_eq(l, TLS_LEVEL_DANE_ONLY);
	/* exact key: not its subdomains */
	cr_expect_null(look(t, "mx.example.com", &l));
	/* ".example.net": every subdomain, not example.net itself */
	cr_expect_null(look(t, "example.net", &l));
	cr_expect_str_eq(look(t, "a.example.net", &l), ".example.net");
	cr_expect_eq(l, TLS_LEVEL_DANE);
	/* nearest parent first */
	cr_expect_str_eq(look(t, "a.b.example.net", &l), ".b.example.net");
	cr_expect_eq(l, TLS_LEVEL_ENCRYPT);
	cr_expect_str_eq(look(t, "b.example.net", &l), ".example.net");
	/* exact before parent */
	cr_expect_str_eq(look(t, "x.b.example.net", &l), "x.b.example.net");
	cr_expect_eq(l, TLS_LEVEL_MAY);
	cr_expect_str_eq(look(t, "y.x.b.example.net", &l), ".b.example.net");
	/* a TLD parent */
	cr_expect_str_eq(look(t, "example.org", &l), ".org");
	cr_expect_eq(l, TLS_LEVEL_NONE);
	cr_expect_null(look(t, "org", &l));
	/* no partial-label matches */
	cr_expect_null(look(t, "myexample.com", &l));
	cr_expect_null(look(t, "aexample.net", &l));
	cr_expect_null(look(t, "[192.0.2.1]", &l));
	cr_expect_null(look(t, "", &l));
	policy_table_free(t);
}

Test(table, null_and_empty)
{
	enum tls_level l;
	const char *key;
	struct policy_table *t;

	cr_expect_eq(policy_table_lookup(NULL, "example.com", &l, &key), 0);
	cr_expect_eq(policy_table_count(NULL), 0);
	policy_table_free(NULL);
	t = parse_ok("");
	cr_expect_eq(policy_table_count(t), 0);
	cr_expect_eq(policy_table_lookup(t, "example.com", &l, &key), 0);
	policy_table_free(t);
	t = parse_ok("\n  \n# only comments\n\t\n");
	cr_expect_eq(policy_table_count(t), 0);
	policy_table_free(t);
}

Test(table, normalised_keys)
{
	struct policy_table *t = parse_ok(
	    "  EXAMPLE.Com.\tdane-only  \r\n"
	    "b\xc3\xbc" "cher.example dane\r\n"
	    ".M\xc3\x9c" "NCHEN.example may\n");
	enum tls_level l;

	cr_expect_str_eq(look(t, "example.com", &l), "example.com");
	cr_expect_eq(l, TLS_LEVEL_DANE_ONLY);
	cr_expect_str_eq(look(t, "xn--bcher-kva.example", &l), "xn--bcher-kva.example");
	cr_expect_eq(l, TLS_LEVEL_DANE);
	cr_expect_str_eq(look(t, "mx.xn--mnchen-3ya.example", &l), ".xn--mnchen-3ya.example");
	cr_expect_eq(l, TLS_LEVEL_MAY);
	policy_table_free(t);
	/* the same key after normalisation is a duplicate */
	expect_err("example.com dane\nExample.COM. may\n", "p:2: ",
	    "duplicate key example.com (first at line 1)");
	expect_err("xn--bcher-kva.example dane\nb\xc3\xbc" "cher.example may\n", "p:2: ",
	    "duplicate key xn--bcher-kva.example");
	expect_err(".a.example dane\n\n.A.example. may\n", "p:3: ", "duplicate key .a.example");
	/* but "a.example" and ".a.example" are different keys */
	t = parse_ok("a.example dane\n.a.example may\n");
	cr_expect_eq(policy_table_count(t), 2);
	policy_table_free(t);
}

Test(table, parse_errors)
{
	expect_err("a.example dane\nb.example\n", "p:2: ", "missing level");
	expect_err("a.example dane extra\n", "p:1: ", "extra field \"extra\"");
	expect_err("# x\na.example dane # comment\n", "p:2: ", "extra field");
	expect_err("a.example strict\n", "p:1: ", "unknown level \"strict\"");
	expect_err("a.example DANE\n", "p:1: ", "unknown level");
	expect_err("a.example dane-only\nb.example d\xc3\xa4ne\n", "p:2: ", "unknown level \"d??ne\"");
	expect_err("exa_mple.com dane\n", "p:1: ", "invalid domain \"exa_mple.com\"");
	expect_err("-bad.example dane\n", "p:1: ", "invalid domain");
	expect_err(". dane\n", "p:1: ", "invalid domain \".\"");
	expect_err("..a.example dane\n", "p:1: ", "invalid domain");
	expect_err("a..example dane\n", "p:1: ", "invalid domain");
	expect_err("\xe2\x80\xa8.example dane\n", "p:1: ", "invalid domain \"???.example\"");
	expect_err("a.example\x01 dane\n", "p:1: ", "control character");
	expect_err("a.example dane\r\r\n", "p:1: ", "control character");
	/* the one policy for hostile lines (lib/lineread.h), as in danepol.conf */
	expect_err("a.example dane\n\xff\xfe.example dane\n", "p:2: ", "invalid UTF-8");
	expect_err("a.example \xc0\xaf\n", "p:1: ", "invalid UTF-8");		/* overlong '/' */
	expect_err("\xed\xa0\x80.example dane\n", "p:1: ", "invalid UTF-8");	/* surrogate */
	expect_err("a.example dane \xe2\x82\n", "p:1: ", "invalid UTF-8");	/* cut */
	{
		char label[100], text[400];

		memset(label, 'a', 64);
		label[64] = 0;
		snprintf(text, sizeof(text), "ok.example may\n%s.example dane\n", label);
		expect_err(text, "p:2: ", "invalid domain");
	}
	{
		char *text = malloc(10100);

		strcpy(text, "a.example dane\n");
		memset(text + 15, 'a', 10000);
		strcpy(text + 10015, " dane\n");
		expect_err(text, "p:2: ", "line too long");
		free(text);
	}
}

/* Write n bytes to a temporary file; caller unlinks and frees. */
static char *
tmp_file(const void *data, size_t n)
{
	char *path = strdup("/tmp/test_table.XXXXXX");
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

Test(table, load_files)
{
	static const char good[] = "a.example dane-only\n.b.example may";
	static const char nul[] = "a.example dane\nb.example may\0\n";
	char *path = tmp_file(good, sizeof(good) - 1), *err = NULL, *want = NULL;
	struct policy_table *t = policy_table_load(path, &err);
	enum tls_level l;

	cr_assert_not_null(t, "%s", err);
	cr_expect_eq(policy_table_count(t), 2);
	cr_expect_str_eq(look(t, "c.b.example", &l), ".b.example");
	policy_table_free(t);
	unlink(path);
	free(path);

	path = tmp_file(nul, sizeof(nul) - 1);
	cr_expect_null(policy_table_load(path, &err));
	cr_assert(asprintf(&want, "%s:2: NUL byte in line", path) > 0);
	cr_expect_str_eq(err, want);
	free(want);
	free(err);
	unlink(path);
	free(path);

	err = NULL;
	cr_expect_null(policy_table_load("/nonexistent/policy", &err));
	cr_expect_str_eq(err, "/nonexistent/policy: cannot open: No such file or directory");
	free(err);
}

/* Issue 11, item 10: whoever may write the table decides the policy. */
Test(table, load_refuses_world_writable_and_foreign)
{
	static const char good[] = "a.example dane-only\n";
	char *path = tmp_file(good, sizeof(good) - 1), *err = NULL;
	struct policy_table *t;

	cr_assert_eq(chmod(path, 0646), 0);
	cr_expect_null(policy_table_load(path, &err));
	cr_assert_not_null(err);
	cr_expect(strstr(err, "writable by every user (mode 0646): refused") != NULL, "%s", err);
	free(err);
	err = NULL;
	cr_assert_eq(chmod(path, 0644), 0);
	t = policy_table_load(path, &err);
	cr_expect_not_null(t, "%s", err);
	policy_table_free(t);
	if (geteuid() == 0) {
		cr_assert_eq(chown(path, 1, (gid_t)-1), 0);
		cr_expect_null(policy_table_load(path, &err));
		cr_assert_not_null(err);
		cr_expect(strstr(err, "owned by uid 1, not root") != NULL, "%s", err);
		free(err);
	}
	unlink(path);
	free(path);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

Test(table, large_table)
{
	enum { N = 100000 };
	static const char *const levels[] = { "none", "may", "encrypt", "dane", "dane-only" };
	size_t cap = (size_t)N * 48, len = 0;
	char *text = malloc(cap), *err = NULL, d[64], want[64];
	struct policy_table *t;
	enum tls_level l;
	double t0 = now_s(), dt;
	size_t misses = 0, wrong = 0;

	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, cap - len, "%sd%d.example%d %s\n",
		    i % 2 ? "." : "", i, i % 97, levels[i % 5]);
	t = policy_table_parse(text, "big", &err);
	cr_assert_not_null(t, "%s", err);
	cr_expect_eq(policy_table_count(t), N);
	for (int i = 0; i < N; i++) {
		const char *key;

		snprintf(want, sizeof(want), "%sd%d.example%d", i % 2 ? "." : "", i, i % 97);
		snprintf(d, sizeof(d), "%sd%d.example%d", i % 2 ? "mx." : "", i, i % 97);
		if (!policy_table_lookup(t, d, &l, &key))
			misses++;
		else if (strcmp(key, want) != 0 || l != (enum tls_level)(i % 5))
			wrong++;
	}
	dt = now_s() - t0;
	cr_expect_eq(misses, 0);
	cr_expect_eq(wrong, 0);
	cr_expect_eq(policy_table_lookup(t, "d1.example1", &l, &(const char *){ NULL }), 0,
	    ".d1.example1 must not match d1.example1");
	cr_expect_lt(dt, 20.0, "100k entries took %.2f s to load and look up", dt);
	cr_log_info("100k entries: load + 100k lookups in %.3f s", dt);
	policy_table_free(t);
	free(text);
}
