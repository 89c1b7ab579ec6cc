/*
 * test_tlsrpt_class.c - one RFC 8460 classification of certificate
 * failures for all three outcome sources (store/tlsrpt_class.c).
 *
 * same_failure_same_type: one X509 verification error fed through each
 * source's own entry point - the probe's classification (probe_classify()
 * and probe_outcome()), the Postfix mail log reader (a
 * "server certificate verification failed ... num=N" session read by
 * report_postfix_ingest()) and an Exim event line ("event dane:fail ...
 * data=X509_V_ERR_..." split by proto_exim_event(), outcome_exim_event())
 * - lands in the built RFC 8460 report (report_build()) under the same
 * result type, the expected one.
 * table_complete: every row is a registered negotiation result type, no
 * error twice, names match OpenSSL's numbers, and the table in
 * doc/status-codes.md ("TLS report result types ...") equals the code's.
 *
 * Files are read from $TOP_SRCDIR (make check sets it).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "kvline.h"
#include "outcome.h"
#include "probe.h"
#include "proto.h"
#include "report.h"
#include "store.h"
#include "tlsrpt_class.h"

#define DAY	86400
#define D20261105 INT64_C(1793836800)	/* 2026-11-05T00:00:00Z */

static char dir[64];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/danepol-tlsrpt.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(tlsrpt, .init = setup, .fini = teardown);

/* The probe: one DANE host whose certificate failed with err. */
static void
via_probe(struct store *s, long err)
{
	struct probe_addr a = { .host = "mx.probe.example", .addr = "192.0.2.1", .port = 25,
		.state = POLICY_HOST_DANE, .nadded = 1, .stage = PROBE_ST_TLS,
		.verify_error = err, .match_depth = -1 };
	struct probe_result r = { .domain = "probe.example", .time = D20261105 + 3600,
		.addrs = &a, .naddrs = 1 };
	struct tls_outcome o;
	char *e = NULL;

	probe_classify(&a);
	cr_assert_eq(probe_outcome(&r, 0, &o), 0);
	cr_assert_eq(store_add(s, &o, &e), 0, "%s", e);
	outcome_clear(&o);
}

/* Postfix: the three log lines of a delivery whose verification failed. */
static void
via_postfix(struct store *s, long err)
{
	char path[128], *e = NULL;
	FILE *f;
	size_t skipped = 0;

	snprintf(path, sizeof(path), "%s/maillog", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "2026-11-05T10:00:00Z mta postfix/smtp[4242]: server certificate "
	    "verification failed for mx.postfix.example[192.0.2.2]:25: num=%ld:%s\n",
	    err, X509_verify_cert_error_string(err));
	fprintf(f, "2026-11-05T10:00:00Z mta postfix/smtp[4242]: Untrusted TLS connection "
	    "established to mx.postfix.example[192.0.2.2]:25: TLSv1.3 with cipher "
	    "TLS_AES_256_GCM_SHA384 (256/256 bits)\n");
	fprintf(f, "2026-11-05T10:00:00Z mta postfix/smtp[4242]: 4F2A1B3C: "
	    "to=<u@postfix.example>, relay=mx.postfix.example[192.0.2.2]:25, delay=0.3, "
	    "delays=0.1/0/0.2/0, dsn=4.7.5, status=deferred (Server certificate not verified)\n");
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(report_postfix_ingest(s, path, D20261105, D20261105 + DAY, &skipped, &e), 1,
	    "%s (skipped %zu)", e ? e : "not one outcome", skipped);
}

/* Exim: the event line danepold's Exim socket takes for a DANE failure. */
static void
via_exim(struct store *s, long err)
{
	char arg[256], *name = NULL, *e = NULL;
	const char *why = NULL;
	struct kvline f;
	struct tls_outcome o;

	snprintf(arg, sizeof(arg), "dane:fail domain=exim.example host=mx.exim.example "
	    "ip=192.0.2.3 port=25 data=\"%s: %s\" dane=no cipher=", tlsrpt_class_x509_name(err),
	    X509_verify_cert_error_string(err));
	cr_assert_eq(proto_exim_event(arg, &name, &f, &why), 0, "%s", why);
	cr_assert_eq(outcome_exim_event(name, &f, D20261105 + 3600, &o), 0);
	cr_assert_eq(store_add(s, &o, &e), 0, "%s", e);
	outcome_clear(&o);
	kvline_free(&f);
	free(name);
}

/* The result type of the one failure in the report for domain. */
static char *
report_type(struct store *s, const char *domain)
{
	struct conf c = { .report_org_name = "Sender", .report_contact = "tlsrpt@sender.example" };
	char *json, *e = NULL, *type;
	size_t n = 0;
	json_t *r, *fd;

	json = report_build(s, &c, domain, D20261105, D20261105 + DAY, &n, &e);
	cr_assert_not_null(json, "%s: %s", domain, e);
	cr_assert_eq(n, 1, "%s: %zu outcomes", domain, n);
	cr_assert_not_null(r = json_loads(json, 0, NULL));
	fd = json_object_get(json_array_get(json_object_get(r, "policies"), 0), "failure-details");
	cr_assert_eq(json_array_size(fd), 1, "%s: %s", domain, json);
	type = strdup(json_string_value(json_object_get(json_array_get(fd, 0), "result-type")));
	json_decref(r);
	free(json);
	return type;
}

Test(tlsrpt, same_failure_same_type)
{
	static const struct {
		long err;
		const char *type;
	} cases[] = {
		{ X509_V_ERR_CERT_SIGNATURE_FAILURE, "certificate-not-trusted" },
		{ X509_V_ERR_CERT_HAS_EXPIRED, "certificate-expired" },
		{ X509_V_ERR_HOSTNAME_MISMATCH, "certificate-host-mismatch" },
		{ X509_V_ERR_DANE_NO_MATCH, "certificate-not-trusted" },
		{ X509_V_ERR_INVALID_CA, "certificate-not-trusted" },
		{ X509_V_ERR_CERT_REVOKED, "certificate-not-trusted" },
		{ X509_V_ERR_CERT_NOT_YET_VALID, "validation-failure" },
	};
	static const char *const domains[] = { "probe.example", "postfix.example", "exim.example" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char db[128], *e = NULL;
		struct store *s;

		snprintf(db, sizeof(db), "%s/o%zu.db", dir, i);
		cr_assert_not_null(s = store_open(db, &e), "%s", e);
		via_probe(s, cases[i].err);
		via_postfix(s, cases[i].err);
		via_exim(s, cases[i].err);
		for (size_t k = 0; k < 3; k++) {
			char *t = report_type(s, domains[k]);

			cr_expect_str_eq(t, cases[i].type, "%s via %s: %s, expected %s",
			    tlsrpt_class_x509_name(cases[i].err), domains[k], t, cases[i].type);
			free(t);
		}
		store_close(s);
	}
}

/* The rows of the doc table "| `X509_V_ERR_...` | num | type |". */
static size_t
doc_rows(long *errs, char (*types)[40], size_t max)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[512], line[512], name[80];
	size_t n = 0;
	long num;
	FILE *f;

	snprintf(path, sizeof(path), "%s/doc/status-codes.md", top ? top : "..");
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	while (fgets(line, sizeof(line), f) && n < max)
		if (sscanf(line, "| `%79[A-Z0-9_]` | %ld | %39[a-z-] |", name, &num, types[n]) == 3) {
			cr_expect_str_eq(tlsrpt_class_x509_name(num), name, "doc: %s is not %ld", name, num);
			errs[n++] = num;
		}
	fclose(f);
	return n;
}

Test(tlsrpt, table_complete)
{
	static const char *const negotiation[] = { "certificate-expired",
		"certificate-host-mismatch", "certificate-not-trusted", "validation-failure" };
	long derr[64];
	char dtype[64][40];
	size_t n = tlsrpt_class_count(), nd = doc_rows(derr, dtype, 64);
	long err, err2;
	const char *name, *type, *name2, *type2;

	cr_assert_gt(n, 0);
	cr_expect_eq(nd, n, "doc/status-codes.md lists %zu errors, the table %zu", nd, n);
	for (size_t i = 0; i < n; i++) {
		int neg = 0;

		cr_assert_eq(tlsrpt_class_row(i, &err, &name, &type), 0);
		cr_expect_not_null(outcome_result_type(type), "%s: %s unregistered", name, type);
		for (size_t k = 0; k < 4; k++)
			neg |= strcmp(type, negotiation[k]) == 0;
		cr_expect(neg, "%s: %s is no certificate failure type", name, type);
		cr_expect_str_eq(tlsrpt_class_x509(err), type);
		cr_expect_str_eq(tlsrpt_class_text(name, NULL), type);
		for (size_t k = i + 1; k < n; k++) {
			cr_assert_eq(tlsrpt_class_row(k, &err2, &name2, &type2), 0);
			cr_expect_neq(err, err2, "%s twice", name);
		}
		for (size_t k = 0; k < nd; k++)
			if (derr[k] == err)
				cr_expect_str_eq(dtype[k], type, "doc: %s", name);
	}
	cr_expect_eq(tlsrpt_class_row(n, &err, &name, &type), -1);
	/* not in the table, and the texts an Exim event carries */
	cr_expect_str_eq(tlsrpt_class_x509(X509_V_ERR_UNSPECIFIED), "validation-failure");
	cr_expect_null(tlsrpt_class_x509_name(X509_V_ERR_UNSPECIFIED));
	int known = -1;
	cr_expect_str_eq(tlsrpt_class_text("dnssec-invalid", &known), "dnssec-invalid");
	cr_expect_eq(known, 1);
	cr_expect_str_eq(tlsrpt_class_text("X509_V_ERR_CERT_HAS_EXPIREDX", &known),
	    "validation-failure");
	cr_expect_eq(known, 0);
	cr_expect_str_eq(tlsrpt_class_text(NULL, &known), "validation-failure");
}
