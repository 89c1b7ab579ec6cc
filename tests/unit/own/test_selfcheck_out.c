/*
 * test_selfcheck_out.c - the findings list (own/finding.c) and the
 * self-check's outputs (own/selfcheck_out.c): the monitoring-plugin
 * state order, the plugin text with perfdata, JSON against the fields of
 * doc/selfcheck.schema.json, the Prometheus textfile written atomically,
 * and the reading of postconf's output (selfcheck_postconf_parse).
 * Pure: no DNS, no network.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "finding.h"
#include "selfcheck.h"

Test(finding, worst_order_is_critical_warning_unknown_ok)
{
	struct findings f = { 0 };

	cr_assert_eq(findings_worst(&f), FINDING_OK);
	findings_add(&f, FINDING_OK, "dane-ok", "a", NULL, "fine");
	cr_assert_eq(findings_worst(&f), FINDING_OK);
	findings_add(&f, FINDING_UNKNOWN, "dns-timeout", "b", "x", "no answer");
	cr_assert_eq(findings_worst(&f), FINDING_UNKNOWN);
	findings_add(&f, FINDING_WARNING, "cert-expiring", "c", "renew", "soon");
	cr_assert_eq(findings_worst(&f), FINDING_WARNING, "WARNING outranks UNKNOWN");
	findings_add(&f, FINDING_CRITICAL, "dane-mismatch", "d", "fix", "broken %d", 42);
	cr_assert_eq(findings_worst(&f), FINDING_CRITICAL);
	cr_assert_eq(findings_count(&f, FINDING_WARNING), 1);
	cr_assert_str_eq(f.v[3].text, "broken 42");
	cr_assert_null(f.v[0].action);
	findings_clear(&f);
	cr_assert_eq(f.n, 0);
	findings_clear(NULL);
}

Test(finding, append_copies)
{
	struct findings a = { 0 }, b = { 0 };

	findings_add(&a, FINDING_WARNING, "x", "s", NULL, "t");
	findings_append(&b, &a);
	findings_append(&b, NULL);
	findings_clear(&a);
	cr_assert_eq(b.n, 1);
	cr_assert_str_eq(b.v[0].code, "x");
	findings_clear(&b);
}

static struct selfcheck_result
result(const char *domain)
{
	struct selfcheck_result r;

	memset(&r, 0, sizeof(r));
	r.domain = strdup(domain);
	r.time = 1764892800; /* 2025-12-05T00:00:00Z */
	r.mx_hosts = 2;
	r.dane_hosts = 1;
	r.addrs = 2;
	r.addrs_ok = 1;
	r.tlsa_ttl = 3600;
	r.sig_expire = r.time + 3 * 86400;
	return r;
}

Test(selfcheck_out, plugin_text_and_exit)
{
	struct selfcheck_result r[2] = { result("a.example"), result("b.example") };
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	int ex;

	findings_add(&r[0].f, FINDING_OK, "dane-ok", "mx1[192.0.2.1]:25", NULL, "ok");
	findings_add(&r[1].f, FINDING_WARNING, "rrsig-expiring", "b.example", "re-sign",
	    "the RRSIG | expires\nsoon");
	ex = selfcheck_print_text(fp, r, 2);
	fclose(fp);
	cr_assert_eq(ex, 1);
	cr_assert(strncmp(text, "DANE SELFCHECK WARNING - 2 domains: 0 critical, 1 warning, "
				"0 unknown | 'a.example dane_hosts'=1 ",
		      strlen("DANE SELFCHECK WARNING - 2 domains: 0 critical, 1 warning, "
			     "0 unknown | 'a.example dane_hosts'=1 ")) == 0,
	    "%s", text);
	cr_assert(strstr(text, "'b.example rrsig_days'=3 ") != NULL, "%s", text);
	cr_assert(strstr(text, "'b.example tlsa_ttl'=3600s") != NULL, "%s", text);
	cr_assert(strstr(text, "\nOK a.example dane-ok mx1[192.0.2.1]:25: ok\n") != NULL, "%s", text);
	/* '|' would start perfdata, a line break a new finding: both replaced */
	cr_assert(strstr(text, "\nWARNING b.example rrsig-expiring b.example: the RRSIG / expires "
			       "soon -> re-sign\n") != NULL,
	    "%s", text);
	free(text);
	selfcheck_result_clear(&r[0]);
	selfcheck_result_clear(&r[1]);
}

Test(selfcheck_out, json_fields)
{
	struct selfcheck_result r = result("a.example");
	json_t *j, *d, *f;

	findings_add(&r.f, FINDING_CRITICAL, "tlsa-missing", "mx2.a.example", "publish", "none");
	j = selfcheck_json(&r, 1);
	cr_assert_str_eq(json_string_value(json_object_get(j, "state")), "CRITICAL");
	cr_assert_eq(json_integer_value(json_object_get(j, "exit")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(j, "time")), "2025-12-05T00:00:00Z");
	d = json_array_get(json_object_get(j, "domains"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(d, "rrsig_expires")),
	    "2025-12-08T00:00:00Z");
	cr_assert(json_is_null(json_object_get(d, "cert_expires")));
	cr_assert_eq(json_integer_value(json_object_get(d, "tlsa_ttl")), 3600);
	f = json_array_get(json_object_get(d, "findings"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "code")), "tlsa-missing");
	cr_assert_str_eq(json_string_value(json_object_get(f, "action")), "publish");
	json_decref(j);
	selfcheck_result_clear(&r);
}

Test(selfcheck_out, prometheus_atomic)
{
	struct selfcheck_result r = result("a\"b.example");
	char dir[] = "/tmp/danepol-prom.XXXXXX", path[128], *err = NULL, buf[4096];
	FILE *fp;
	size_t n;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/danepol.prom", dir);
	findings_add(&r.f, FINDING_WARNING, "x", "y", NULL, "z");
	cr_assert_eq(selfcheck_write_prometheus(path, &r, 1, &err), 0, "%s", err ? err : "");
	fp = fopen(path, "r");
	cr_assert_not_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	cr_assert(strstr(buf, "danepol_selfcheck_state{domain=\"a\\\"b.example\"} 1\n") != NULL, "%s",
	    buf);
	cr_assert(strstr(buf, "danepol_selfcheck_findings{domain=\"a\\\"b.example\",severity="
			      "\"WARNING\"} 1\n") != NULL,
	    "%s", buf);
	cr_assert(strstr(buf, "# TYPE danepol_selfcheck_tlsa_ttl_seconds gauge\n") != NULL);
	/* a directory that is not there: an error, nothing half-written */
	snprintf(path, sizeof(path), "%s/no/such.prom", dir);
	cr_assert_eq(selfcheck_write_prometheus(path, &r, 1, &err), -1);
	cr_assert_not_null(err);
	free(err);
	snprintf(path, sizeof(path), "%s/danepol.prom", dir);
	unlink(path);
	cr_assert_eq(rmdir(dir), 0, "only the one file was left");
	selfcheck_result_clear(&r);
}

/* parse a copy of text; the names joined by '|' (caller frees) */
static char *
postconf_names(const char *text, size_t max)
{
	char *in = strdup(text), *paths[8] = { 0 }, *out = calloc(1, 512);
	size_t n = selfcheck_postconf_parse(in, paths, max);

	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(out, "|");
		strcat(out, paths[i]);
		free(paths[i]);
	}
	free(in);
	return out;
}

Test(postconf, chain_files_take_precedence)
{
	/* Debian: snakeoil in cert_file, the operator's chain_files first */
	char *a = postconf_names("/etc/postfix/tls/key.pem, /etc/postfix/tls/chain.pem\n"
				 "/etc/ssl/certs/ssl-cert-snakeoil.pem\n\n", 8);
	char *b = postconf_names("\n/etc/ssl/certs/ssl-cert-snakeoil.pem\n/etc/ssl/ec.pem\n", 8);
	char *c = postconf_names(" , \n/a.pem\n/a.pem\n", 8);

	cr_expect_str_eq(a, "/etc/postfix/tls/key.pem|/etc/postfix/tls/chain.pem");
	cr_expect_str_eq(b, "/etc/ssl/certs/ssl-cert-snakeoil.pem|/etc/ssl/ec.pem");
	cr_expect_str_eq(c, "/a.pem", "a blank first line is no chain_files; duplicates once");
	free(a);
	free(b);
	free(c);
}

Test(postconf, hostile_output)
{
	char *a = postconf_names("/ok.pem /bad\x1b[31m.pem,/also.pem\n", 8);
	char *b = postconf_names("1 2 3 4 5 6 7 8 9 10\n", 3);
	char *c = postconf_names("", 8);

	cr_expect_str_eq(a, "/ok.pem|/also.pem", "a name with a control byte is left out");
	cr_expect_str_eq(b, "1|2|3", "at most max names");
	cr_expect_str_eq(c, "");
	free(a);
	free(b);
	free(c);
}
