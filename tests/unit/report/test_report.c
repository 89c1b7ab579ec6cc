/*
 * test_report.c - unit tests of the RFC 8460 report JSON (report_build())
 * and of the Postfix mail log reader (report_postfix_ingest()).
 *
 * Covers: a report built from a known set of outcomes equals
 * tests/unit/report/golden-report.json byte for byte (and does not depend on
 * the insertion order); every report built here validates against
 * doc/tlsrpt.schema.json through tests/unit/report/validate_report.py
 * (python3-jsonschema); range and configuration errors; report-id unique
 * per (org, domain, range); an empty day. Postfix: the real log lines of
 * tests/unit/report/postfix-maillog*.txt (README-postfix.md) and the
 * hand-written variants give exactly the expected numbers of outcomes and
 * skipped lines, the right result types per domain, nothing new on a
 * second read (dedupe), the time window, hostile lines (over-long, NUL
 * bytes, bad UTF-8), a missing file; a report built from the real lines
 * equals tests/unit/report/golden-postfix.json. MTA-STS: sessions of
 * tests/unit/report/postfix-sts.txt to domains with a kept policy are sts
 * sessions (golden-sts.json), a failed fetch is an sts policy without
 * policy-string.
 *
 * Files are read from $TOP_SRCDIR (make check sets it). Set
 * DANEPOL_UPDATE_GOLDEN=1 to rewrite the golden files (then review the
 * diff by hand). Valgrind: see the head comment of tests/unit/policy/test_policy_cache.c,
 * adding --trace-children-skip='*python3*,/bin/sh' (the schema validator
 * runs through system()); the log of each such fork stops at its exec,
 * without an ERROR SUMMARY line, so check that every log that has one says
 * 0 errors and that no log reports an error:
 *   grep -h 'ERROR SUMMARY' vg/[0-9]*.log | grep -v ' 0 errors'
 *   grep -lE 'Invalid|uninitialised|definitely lost: [1-9]' vg/[0-9]*.log
 * (both print nothing).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "report.h"
#include "stspol.h"

#define DAY 86400
#define D20250301 INT64_C(1740787200)	/* 2025-03-01T00:00:00Z */
#define D20261105 INT64_C(1793836800)	/* 2026-11-05T00:00:00Z */
#define D20261123 INT64_C(1795392000)	/* 2026-11-23T00:00:00Z */

static char dir[64];
static char dbpath[128];
static const char *top;
static struct conf conf;

static void setup(void)
{
	top = getenv("TOP_SRCDIR");
	if (top == NULL)
		top = "..";
	snprintf(dir, sizeof(dir), "/tmp/danepol-report.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/o.db", dir);
	memset(&conf, 0, sizeof(conf));
	conf.report_org_name = "Sender Example Ltd";
	conf.report_contact = "tlsrpt@sender.example";
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* rm -rf dir without a shell (no child processes under valgrind). */
static void teardown(void)
{
	cr_assert_eq(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

TestSuite(report, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ helpers */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long n;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = malloc((size_t)n + 1);
	cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	text[n] = 0;
	fclose(f);
	return text;
}

static void spit(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "cannot write %s", path);
	cr_assert_eq(fwrite(text, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

/* Validate the JSON text with doc/tlsrpt.schema.json (python3-jsonschema). */
static void schema_valid(const char *json, const char *name)
{
	char path[192], cmd[1024];
	int rc;

	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	spit(path, json, strlen(json));
	snprintf(cmd, sizeof(cmd), "python3 '%s/tests/unit/report/validate_report.py' "
	    "'%s/doc/tlsrpt.schema.json' '%s'", top, top, path);
	rc = system(cmd);
	cr_assert(WIFEXITED(rc), "validator did not run");
	if (WEXITSTATUS(rc) == 77)
		cr_skip_test("python3-jsonschema missing");
	cr_assert_eq(WEXITSTATUS(rc), 0, "%s does not validate", name);
}

/* Compare with tests/unit/report/NAME byte for byte (or rewrite it). */
static void golden(const char *json, const char *name)
{
	char path[512], *want;

	snprintf(path, sizeof(path), "%s/tests/unit/report/%s", top, name);
	if (getenv("DANEPOL_UPDATE_GOLDEN") != NULL)
		spit(path, json, strlen(json));
	want = slurp(path);
	cr_assert_str_eq(json, want, "report differs from %s", name);
	free(want);
}

static void add(struct store *s, int64_t t, const char *domain, int have_policy,
    const char *const *ps, size_t nps, const char *mx, const char *ip, const char *sip,
    const char *helo, const char *type, const char *detail)
{
	struct tls_outcome o = { .time = t, .source = OUTCOME_SRC_PROBE,
		.policy_domain = (char *)domain, .policy_type = (enum outcome_policy)have_policy,
		.policy_strings = (char **)ps, .npolicy_strings = nps, .mx_host = (char *)mx,
		.receiving_ip = (char *)ip, .sending_ip = (char *)sip, .mx_helo = (char *)helo,
		.success = type == NULL, .result_type = type, .detail = (char *)detail };
	char *err = NULL;

	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
}

/* The known set: 10 outcomes of recipient.example on 2025-03-01 plus noise. */
static void fill(struct store *s, int reverse)
{
	static const char *const p1[] = { "3 1 1 7DC31C34EF55142306B214C5A68419DA94F69E9EDF06FFEF4655226F0A76F981",
		"2 1 1 A3B5077860B2C4772C481377690DE4C0E39279928BD4431568F57E855D01A845" };
	static const char *const p1r[] = { "2 1 1 A3B5077860B2C4772C481377690DE4C0E39279928BD4431568F57E855D01A845",
		"3 1 1 7DC31C34EF55142306B214C5A68419DA94F69E9EDF06FFEF4655226F0A76F981",
		"2 1 1 A3B5077860B2C4772C481377690DE4C0E39279928BD4431568F57E855D01A845" };
	static const char *const p2[] = { "3 1 1 0123456789ABCDEF0123456789ABCDEF" };
	const int64_t d = D20250301;
	int i, k;

	for (k = 0; k < 12; k++) {
		i = reverse ? 11 - k : k;
		switch (i) {
		case 0: add(s, d + 10, "recipient.example", 1, p1, 2, "mx1.recipient.example",
			    "198.51.100.7", "192.0.2.25", NULL, NULL, NULL); break;
		case 1: add(s, d + 20, "Recipient.Example.", 1, p1r, 3, "mx1.recipient.example",
			    "198.51.100.7", "192.0.2.25", NULL, NULL, NULL); break;
		case 2: add(s, d + 30, "recipient.example", 1, p1, 2, "mx2.recipient.example",
			    "198.51.100.8", "192.0.2.25", NULL, NULL, NULL); break;
		case 3: add(s, d + 40, "recipient.example", 1, p1, 2, "mx1.recipient.example",
			    "198.51.100.7", "192.0.2.25", NULL, "certificate-not-trusted",
			    "X509_V_ERR_DANE_NO_MATCH"); break;
		case 4: add(s, d + 50, "recipient.example", 1, p1r, 3, "mx1.recipient.example",
			    "198.51.100.7", "192.0.2.25", "mx1.recipient.example",
			    "certificate-not-trusted", "X509_V_ERR_DANE_NO_MATCH"); break;
		case 5: add(s, d + 60, "recipient.example", 1, p1, 2, "mx2.recipient.example",
			    "198.51.100.8", NULL, NULL, "certificate-expired",
			    "X509_V_ERR_CERT_HAS_EXPIRED"); break;
		case 6: add(s, d + 70, "recipient.example", 1, p2, 1, "mx3.recipient.example",
			    "2001:db8::3", "192.0.2.25", NULL, "tlsa-invalid",
			    "all-TLSA-records-unusable"); break;
		case 7: add(s, d + 80, "recipient.example", 0, NULL, 0, "mx9.recipient.example",
			    "198.51.100.9", NULL, NULL, NULL, NULL); break;
		case 8: add(s, d + 90, "recipient.example", 0, NULL, 0, "mx9.recipient.example",
			    "198.51.100.9", NULL, NULL, NULL, NULL); break;
		case 9: add(s, d + DAY - 1, "recipient.example", 0, NULL, 0, "mx9.recipient.example",
			    "198.51.100.9", "192.0.2.25", "mx9 h\xc3\xa9lo", "starttls-not-supported",
			    NULL); break;
		case 10: add(s, d - 1, "recipient.example", 1, p1, 2, "mx1.recipient.example",
			    NULL, NULL, NULL, "dnssec-invalid", NULL); break;	/* day before */
		default: add(s, d + 5, "other.example", 0, NULL, 0, NULL, NULL, NULL, NULL,
			    NULL, NULL); break;
		}
	}
}

/* ------------------------------------------------------------ report_build */

Test(report, golden_and_schema)
{
	char *err = NULL, *json;
	size_t n = 0;
	struct store *s = store_open(dbpath, &err);

	cr_assert_not_null(s, "%s", err);
	fill(s, 0);
	json = report_build(s, &conf, "recipient.example", D20250301, D20250301 + DAY, &n, &err);
	cr_assert_not_null(json, "%s", err);
	cr_assert_eq(n, 10);
	golden(json, "golden-report.json");
	schema_valid(json, "golden");
	free(json);
	store_close(s);
}

Test(report, independent_of_insertion_order)
{
	char *err = NULL, *a, *b, path[160];
	size_t n = 0;
	struct store *s = store_open(dbpath, &err), *t;

	fill(s, 0);
	snprintf(path, sizeof(path), "%s/r.db", dir);
	t = store_open(path, &err);
	fill(t, 1);
	a = report_build(s, &conf, "recipient.example", D20250301, D20250301 + DAY, &n, &err);
	b = report_build(t, &conf, "RECIPIENT.example", D20250301, D20250301 + DAY, &n, &err);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	store_close(s);
	store_close(t);
}

static char *report_id(const char *json)
{
	const char *p = strstr(json, "\"report-id\": \"");
	const char *e;

	cr_assert_not_null(p);
	p += strlen("\"report-id\": \"");
	e = strchr(p, '"');
	return strndup(p, (size_t)(e - p));
}

Test(report, report_id_unique_per_org_domain_range)
{
	char *err = NULL, *r[4], *id[4];
	size_t n = 0;
	int i, k;
	struct store *s = store_open(dbpath, &err);

	fill(s, 0);
	r[0] = report_build(s, &conf, "recipient.example", D20250301, D20250301 + DAY, &n, &err);
	r[1] = report_build(s, &conf, "other.example", D20250301, D20250301 + DAY, &n, &err);
	cr_assert_eq(n, 1);
	r[2] = report_build(s, &conf, "recipient.example", D20250301, D20250301 + 2 * DAY, &n, &err);
	cr_assert_eq(n, 10);
	conf.report_org_name = "Another Org";
	r[3] = report_build(s, &conf, "recipient.example", D20250301, D20250301 + DAY, &n, &err);
	for (i = 0; i < 4; i++) {
		cr_assert_not_null(r[i], "%s", err);
		id[i] = report_id(r[i]);
		schema_valid(r[i], "id");
	}
	for (i = 0; i < 4; i++)
		for (k = i + 1; k < 4; k++)
			cr_assert_str_neq(id[i], id[k]);
	cr_assert_not_null(strstr(r[2], "\"end-datetime\": \"2025-03-02T23:59:59Z\""));
	for (i = 0; i < 4; i++) {
		free(r[i]);
		free(id[i]);
	}
	store_close(s);
}

Test(report, empty_day_and_errors)
{
	char *err = NULL, *json;
	size_t n = 99;
	struct store *s = store_open(dbpath, &err);

	fill(s, 0);
	json = report_build(s, &conf, "nothing.example", D20250301, D20250301 + DAY, &n, &err);
	cr_assert_not_null(json, "%s", err);
	cr_assert_eq(n, 0);
	cr_assert_not_null(strstr(json, "\"policies\": []"));
	schema_valid(json, "empty");
	free(json);

	cr_assert_null(report_build(s, &conf, "recipient.example", D20250301 + 1,
	    D20250301 + DAY, &n, &err));
	cr_assert_not_null(strstr(err, "whole UTC days"), "%s", err);
	free(err);
	err = NULL;
	cr_assert_null(report_build(s, &conf, "recipient.example", D20250301, D20250301, &n, &err));
	free(err);
	err = NULL;
	cr_assert_null(report_build(s, &conf, "bad domain!", D20250301, D20250301 + DAY, &n, &err));
	free(err);
	err = NULL;
	conf.report_contact = NULL;
	cr_assert_null(report_build(s, &conf, "recipient.example", D20250301, D20250301 + DAY, &n,
	    &err));
	cr_assert_not_null(strstr(err, "report_contact"), "%s", err);
	free(err);
	err = NULL;
	conf.report_contact = "tlsrpt@sender.example";
	conf.report_org_name = "bad \xff UTF-8";
	cr_assert_null(report_build(s, &conf, "recipient.example", D20250301, D20250301 + DAY, &n,
	    &err));
	free(err);
	store_close(s);
}

/* ------------------------------------------------------------ Postfix log */

static long ingest(struct store *s, const char *name, int64_t from, int64_t to, size_t *skipped)
{
	char path[512], *err = NULL;
	long n;

	snprintf(path, sizeof(path), "%s/tests/unit/report/%s", top, name);
	n = report_postfix_ingest(s, path, from, to, skipped, &err);
	cr_assert_geq(n, 0, "%s: %s", name, err);
	return n;
}

struct tally {
	size_t n, ok, fail, tlsa, strings;
	char types[1024];
};

static int tally_fn(const struct tls_outcome *o, void *arg)
{
	struct tally *t = arg;

	t->n++;
	t->ok += o->success != 0;
	t->fail += o->success == 0;
	t->tlsa += o->policy_type == OUTCOME_POLICY_TLSA;
	t->strings += o->npolicy_strings;
	if (!o->success) {
		strncat(t->types, o->result_type, sizeof(t->types) - strlen(t->types) - 2);
		strncat(t->types, ",", sizeof(t->types) - strlen(t->types) - 1);
	}
	return 0;
}

static struct tally tally(struct store *s, int64_t from, int64_t to, const char *domain)
{
	struct tally t = { 0 };
	char *err = NULL;

	cr_assert_eq(store_each(s, from, to, domain, tally_fn, &t, &err), 0, "%s", err);
	return t;
}

Test(report, postfix_real_log_counts)
{
	char *err = NULL;
	size_t skipped = 0;
	struct store *s = store_open(dbpath, &err);
	struct tally t;

	/* loglevel 1, senders "dane" (14 sessions) and "sm" (11) */
	cr_assert_eq(ingest(s, "postfix-maillog.txt", 0, INT64_MAX, &skipped), 25);
	cr_assert_eq(skipped, 32);
	cr_assert_eq(ingest(s, "postfix-maillog.txt", 0, INT64_MAX, &skipped), 0);	/* dedupe */
	t = tally(s, 0, INT64_MAX, NULL);
	cr_assert_eq(t.n, 25);
	cr_assert_eq(t.ok, 17);
	cr_assert_eq(t.fail, 8);
	t = tally(s, 0, INT64_MAX, "mismatch.example");
	cr_assert_eq(t.n, 2);
	cr_assert_str_eq(t.types, "certificate-not-trusted,certificate-not-trusted,");
	t = tally(s, 0, INT64_MAX, "tlsabogus.example");
	cr_assert_str_eq(t.types, "dnssec-invalid,dnssec-invalid,");
	t = tally(s, 0, INT64_MAX, "unusable.example");
	cr_assert_str_eq(t.types, "tlsa-invalid,tlsa-invalid,");
	cr_assert_eq(t.strings, 4);
	t = tally(s, 0, INT64_MAX, "insecure.example");
	cr_assert_eq(t.ok, 2);
	cr_assert_eq(t.tlsa, 0);
	t = tally(s, 0, INT64_MAX, "secure.example");
	cr_assert_eq(t.ok, 2);
	cr_assert_eq(t.tlsa, 2);
	cr_assert_eq(t.strings, 0);

	/* loglevel 2: the TLSA records are logged too */
	cr_assert_eq(ingest(s, "postfix-maillog-ll2.txt", 0, INT64_MAX, &skipped), 14);
	cr_assert_eq(skipped, 222);
	t = tally(s, 0, INT64_MAX, "secure.example");
	cr_assert_eq(t.n, 3);
	cr_assert_eq(t.strings, 1);
	store_close(s);
}

Test(report, postfix_variants_counts_and_window)
{
	char *err = NULL;
	size_t skipped = 0;
	struct store *s = store_open(dbpath, &err);
	struct tally t;

	/* only 2026-11-05 (syslog stamps; year from the window) */
	cr_assert_eq(ingest(s, "postfix-variants.txt", D20261105, D20261105 + DAY, &skipped), 5);
	cr_assert_eq(skipped, 6);
	cr_assert_eq(ingest(s, "postfix-variants.txt", 0, INT64_MAX, &skipped), 3);
	t = tally(s, 0, INT64_MAX, "ta.example");
	cr_assert_eq(t.n, 2);
	cr_assert_str_eq(t.types, "certificate-host-mismatch,");
	cr_assert_eq(t.strings, 1);
	t = tally(s, 0, INT64_MAX, "twice.example");	/* identical lines, two sessions */
	cr_assert_eq(t.ok, 2);
	t = tally(s, 0, INT64_MAX, "bücher.example");	/* IDN, conn_use=2 adds nothing */
	cr_assert_eq(t.n, 1);
	cr_assert_eq(t.tlsa, 0);
	t = tally(s, D20261123, D20261123 + DAY, NULL);	/* RFC 3339 stamps, +01:00 */
	cr_assert_eq(t.n, 3);
	cr_assert_str_eq(t.types, "certificate-expired,starttls-not-supported,validation-failure,");
	t = tally(s, D20261123 + 10 * 3600, D20261123 + 10 * 3600 + 1, NULL);
	cr_assert_eq(t.n, 2, "10:00:00Z and 11:00:00+01:00");
	store_close(s);
}

Test(report, postfix_hostile_lines_and_missing_file)
{
	char *err = NULL, path[160], *big;
	size_t skipped = 0, len = 20000;
	struct store *s = store_open(dbpath, &err);
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/hostile.log", dir);
	f = fopen(path, "wb");
	big = malloc(len + 1);
	memcpy(big, "Nov  5 10:00:00 h postfix/smtp[1]: Verified TLS connection established to ", 74);
	memset(big + 74, 'a', len - 74);
	big[len] = 0;
	fprintf(f, "%s\n", big);
	fwrite("Nov  5 10:00:00 h postfix/smtp[1]: Ver\0ified\n", 1, 45, f);
	fprintf(f, "Nov  5 10:00:00 h postfix/smtp[1]: Verified TLS connection established to "
	    "mx.a.example[1.2.3.4]:25: x\n");
	fprintf(f, "Nov  5 10:00:01 h postfix/smtp[1]: Q1: to=<x@a.example>, relay=mx.a.example"
	    "[1.2.3.4]:25, status=sent (ok)\n");
	fprintf(f, "Nov  5 10:00:02 h postfix/smtp[1]: mx.a.example[1.2.3.4]:25: Matched DANE EE "
	    "certificate at depth 0: 3 1 1 ABCDEF...123456\n");
	fprintf(f, "Nov  5 10:00:02 h postfix/smtp[1]: Q2: to=<x@\xff.example>, relay=none, "
	    "status=deferred (TLS is required, but was not offered by host a[b])\n");
	fprintf(f, "Nov  5 10:00:03 h postfix/smtp[1]: Q3: to=<x@b.example>, relay=none, "
	    "status=deferred (TLS is required, but was not offered by host \xff[\xfe])\n");
	fprintf(f, "Nov  5 10:00:04 h postfix/smtp[2]: Q4: to=<x@c.example> status=sent\n");
	fclose(f);
	n = report_postfix_ingest(s, path, 0, D20261105 + DAY, &skipped, &err);
	cr_assert_eq(n, 2, "%s", err);	/* a.example session, b.example starttls (no host) */
	cr_assert_eq(skipped, 4);	/* over-long, NUL, bad recipient, no relay/status */
	free(big);

	cr_assert_eq(report_postfix_ingest(s, "/nonexistent/maillog", 0, 1, NULL, &err), -1);
	cr_assert_not_null(strstr(err, "/nonexistent/maillog"));
	free(err);
	store_close(s);
}

/* The deliveries of danepol's own mailed reports are left out (no report about reports). */
Test(report, postfix_skips_report_deliveries)
{
	static const char *const msgs[][2] = {
		{ "ABC123", "TLSRPT@example.org" },	/* a report: sender differs only in case */
		{ "DEF456", "alice@example.org" },	/* ordinary mail */
	};
	char *err = NULL, path[160];
	struct store *s = store_open(dbpath, &err);
	FILE *f;

	cr_assert_not_null(s, "%s", err);
	snprintf(path, sizeof(path), "%s/reports.log", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	for (int i = 0; i < 2; i++) {
		fprintf(f, "Nov  5 10:00:0%d h postfix/qmgr[9]: %s: from=<%s>, size=900, nrcpt=1 "
		    "(queue active)\n", i, msgs[i][0], msgs[i][1]);
		fprintf(f, "Nov  5 10:00:0%d h postfix/smtp[1%d]: Verified TLS connection established "
		    "to mx1.secure.example[127.0.0.1]:25: TLSv1.3\n", i, i);
		fprintf(f, "Nov  5 10:00:0%d h postfix/smtp[1%d]: %s: to=<tlsrpt@secure.example>, "
		    "relay=mx1.secure.example[127.0.0.1]:25, dsn=2.0.0, status=sent (250 ok)\n",
		    i, i, msgs[i][0]);
	}
	fclose(f);
	cr_assert_eq(report_postfix_ingest_skip(s, path, 0, D20261105 + DAY, "tlsrpt@example.org",
	    NULL, &err), 1, "only DEF456 counts: %s", err ? err : "");
	store_close(s);
	unlink(dbpath);
	s = store_open(dbpath, &err);
	cr_assert_eq(report_postfix_ingest(s, path, 0, D20261105 + DAY, NULL, &err), 2,
	    "without skip_sender both count");
	store_close(s);
}

Test(report, postfix_golden_and_schema_for_every_domain)
{
	char *err = NULL, *json;
	size_t n = 0, skipped;
	struct store *s = store_open(dbpath, &err);
	static const char *const domains[] = { "cname.example", "insecure.example",
		"mismatch.example", "tampered.example", "tlsabogus.example", "unusable.example" };
	size_t i;

	ingest(s, "postfix-maillog.txt", 0, INT64_MAX, &skipped);
	ingest(s, "postfix-maillog-ll2.txt", 0, INT64_MAX, &skipped);
	json = report_build(s, &conf, "tampered.example", D20261123, D20261123 + DAY, &n, &err);
	cr_assert_not_null(json, "%s", err);
	cr_assert_eq(n, 3);
	golden(json, "golden-postfix.json");
	free(json);
	for (i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		json = report_build(s, &conf, domains[i], D20261123, D20261123 + DAY, &n, &err);
		cr_assert_not_null(json, "%s", err);
		cr_assert_gt(n, 0, "%s", domains[i]);
		schema_valid(json, domains[i]);
		free(json);
	}
	store_close(s);
}

/* A kept MTA-STS policy of domain (mode, space-separated patterns), fetched at t for a week. */
static void sts_keep(struct store *s, const char *domain, const char *mode, const char *mx,
    int64_t t, int64_t max_age)
{
	struct stspol_row r = { .domain = (char *)domain, .id = "20261123", .mode = (char *)mode,
		.max_age = max_age, .mx = (char *)mx, .fetched = t, .expires = t + max_age };
	char *err = NULL;

	cr_assert_eq(stspol_put(s, &r, &err), 0, "%s", err);
}

/*
 * Postfix logs a Verified session alike for DANE and MTA-STS (level
 * secure): a session to a domain with a kept MTA-STS policy and no DANE
 * line is an sts session; with a DANE line, or a policy that ran out
 * before it, or none, it is what it was. Testing policies report what
 * enforce would have failed (an Untrusted session delivered).
 */
Test(report, postfix_sts_sessions)
{
	char *err = NULL, *json;
	size_t n = 0, skipped = 0;
	struct store *s = store_open(dbpath, &err);
	struct tally t;

	cr_assert_not_null(s, "%s", err);
	sts_keep(s, "sts.example", "enforce", "mx1.sts.example *.sts.example", D20261123 - 3600,
	    7 * DAY);
	sts_keep(s, "testing.example", "testing", "mx.testing.example", D20261123, DAY);
	sts_keep(s, "expiredsts.example", "enforce", "*.expiredsts.example", D20261123 - 2 * DAY,
	    DAY);
	cr_assert_eq(ingest(s, "postfix-sts.txt", 0, INT64_MAX, &skipped), 8);
	cr_assert_eq(skipped, 0);
	t = tally(s, 0, INT64_MAX, "sts.example");
	cr_assert_eq(t.n, 4);
	cr_assert_eq(t.ok, 2);
	cr_assert_str_eq(t.types, "certificate-host-mismatch,starttls-not-supported,");
	cr_assert_eq(t.tlsa, 1, "the session with a DANE line stays a DANE one");
	t = tally(s, 0, INT64_MAX, "testing.example");
	cr_assert_eq(t.ok, 1);
	cr_assert_str_eq(t.types, "certificate-not-trusted,");
	cr_assert_eq(t.strings, 2 * 4);
	t = tally(s, 0, INT64_MAX, "expiredsts.example");
	cr_assert_eq(t.tlsa, 1, "a policy that ran out does not apply");
	cr_assert_eq(t.strings, 0);
	t = tally(s, 0, INT64_MAX, "nosts.example");
	cr_assert_eq(t.tlsa, 1);

	json = report_build(s, &conf, "sts.example", D20261123, D20261123 + DAY, &n, &err);
	cr_assert_not_null(json, "%s", err);
	cr_assert_eq(n, 4);
	golden(json, "golden-sts.json");
	schema_valid(json, "sts");
	free(json);
	json = report_build(s, &conf, "testing.example", D20261123, D20261123 + DAY, &n, &err);
	cr_assert_not_null(json, "%s", err);
	schema_valid(json, "testing");
	cr_assert_not_null(strstr(json, "\"mode: testing\""), "%s", json);
	free(json);
	store_close(s);
}

/* A failed fetch (no policy known yet) is an sts policy without policy-string. */
Test(report, sts_fetch_failure_without_policy)
{
	struct tls_outcome o = { .time = D20261123 + 60, .source = OUTCOME_SRC_STS,
		.policy_domain = "new.example", .policy_type = OUTCOME_POLICY_STS,
		.result_type = "sts-webpki-invalid", .detail = "certificate has expired" };
	char *err = NULL, *json;
	size_t n = 0;
	struct store *s = store_open(dbpath, &err);

	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(store_add(s, &o, &err), 0, "%s", err);
	json = report_build(s, &conf, "new.example", D20261123, D20261123 + DAY, &n, &err);
	cr_assert_not_null(json, "%s", err);
	schema_valid(json, "fetch");
	cr_assert_not_null(strstr(json, "\"policy-type\": \"sts\""), "%s", json);
	cr_assert_null(strstr(json, "policy-string"), "%s", json);
	cr_assert_null(strstr(json, "mx-host"), "%s", json);
	cr_assert_not_null(strstr(json, "\"result-type\": \"sts-webpki-invalid\""), "%s", json);
	free(json);
	store_close(s);
}
