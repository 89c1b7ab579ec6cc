/*
 * test_probe.c - the pure parts of the STARTTLS probe (probe/probe*.c):
 * the SMTP reply parser (valid, multi-line, partial, hostile), EHLO
 * keyword lookup, sanitising, the classification table, TLSA selection
 * (usages, digest agility), outcomes for the store, the JSON shape, and
 * probes of unreachable or unusable hosts (no network beyond a closed
 * loopback port).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/x509_vfy.h>

#include "mem.h"
#include "probe.h"
#include "probe_int.h"
#include "tlsa.h"

/* ------------------------------------------------------------ reply parser */

static int
parse(const char *s, struct probe_reply *r, size_t *used, const char **why)
{
	*why = NULL;
	return probe_smtp_reply_parse(s, strlen(s), r, used, why);
}

Test(reply, single_line)
{
	struct probe_reply r;
	const char *why;
	size_t used;

	cr_assert_eq(parse("220 mx.example ESMTP\r\nrest", &r, &used, &why), 1);
	cr_expect_eq(r.code, 220);
	cr_expect_eq(r.nlines, 1);
	cr_expect_str_eq(r.lines[0], "mx.example ESMTP");
	cr_expect_eq(used, strlen("220 mx.example ESMTP\r\n"));
	probe_smtp_reply_free(&r);
}

Test(reply, multi_line_and_ext)
{
	const char *s = "250-mx.example hello\r\n250-PIPELINING\r\n250-starttls\r\n250 SIZE 1000\r\n";
	struct probe_reply r;
	const char *why;
	size_t used;

	cr_assert_eq(parse(s, &r, &used, &why), 1);
	cr_expect_eq(r.code, 250);
	cr_expect_eq(r.nlines, 4);
	cr_expect_eq(used, strlen(s));
	cr_expect(probe_smtp_reply_has_ext(&r, "STARTTLS"), "keywords are case-insensitive");
	cr_expect(probe_smtp_reply_has_ext(&r, "SIZE"));
	cr_expect_not(probe_smtp_reply_has_ext(&r, "PIPE"), "a prefix is no keyword");
	cr_expect_not(probe_smtp_reply_has_ext(&r, "MX.EXAMPLE"), "the first line is no keyword");
	probe_smtp_reply_free(&r);
}

Test(reply, bare_code_and_lf_only)
{
	struct probe_reply r;
	const char *why;
	size_t used;

	cr_assert_eq(parse("221\n", &r, &used, &why), 1);
	cr_expect_eq(r.code, 221);
	cr_expect_str_eq(r.lines[0], "");
	probe_smtp_reply_free(&r);
}

Test(reply, needs_more)
{
	struct probe_reply r;
	const char *why;
	size_t used = 99;

	cr_expect_eq(parse("", &r, &used, &why), 0);
	cr_expect_eq(parse("220 no line end", &r, &used, &why), 0);
	cr_expect_eq(parse("250-first\r\n250-second\r\n", &r, &used, &why), 0);
	cr_expect_eq(r.nlines, 0, "nothing kept on 0");
	cr_expect_null(r.lines);
}

Test(reply, malformed)
{
	static const char *const bad[] = {
		"hello\r\n", "22 x\r\n", "2200 x\r\n", "620 x\r\n", "120 x\r\n", "220x\r\n",
		"22a x\r\n", "\x16\x03\x01\r\n", "250-a\r\n220 b\r\n", "\r\n",
	};
	struct probe_reply r;
	const char *why;
	size_t used;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(parse(bad[i], &r, &used, &why), -1, "case %zu", i);
		cr_expect_not_null(why, "case %zu has a reason", i);
	}
	cr_expect_eq(parse("250-a\r\n220 b\r\n", &r, &used, &why), -1);
	cr_expect_str_eq(why, "reply code changes between lines");
}

Test(reply, bounds)
{
	struct probe_reply r;
	const char *why;
	size_t used;
	char *s = xmalloc(PROBE_LINE_MAX + 10);
	struct buf b;

	memset(s, 'x', PROBE_LINE_MAX + 9);
	memcpy(s, "220 ", 4);
	s[PROBE_LINE_MAX + 9] = 0;
	cr_expect_eq(probe_smtp_reply_parse(s, strlen(s), &r, &used, &why), -1, "long line without end");
	cr_expect_str_eq(why, "reply line too long");
	s[PROBE_LINE_MAX - 3] = '\n';
	cr_expect_eq(probe_smtp_reply_parse(s, PROBE_LINE_MAX - 2, &r, &used, &why), 1, "just fits");
	probe_smtp_reply_free(&r);
	free(s);
	buf_init(&b);
	for (int i = 0; i < PROBE_REPLY_LINES + 1; i++)
		buf_puts(&b, "250-x\r\n");
	cr_expect_eq(probe_smtp_reply_parse(b.s, b.len, &r, &used, &why), -1, "too many lines");
	cr_expect_str_eq(why, "reply too long");
	buf_free(&b);
}

Test(reply, sanitised)
{
	struct probe_reply r;
	const char *why;
	size_t used;
	const char s[] = "220 a\x1b[2Jb\x7f\xff\r\n";

	cr_assert_eq(probe_smtp_reply_parse(s, sizeof(s) - 1, &r, &used, &why), 1);
	cr_expect_str_eq(r.lines[0], "a?[2Jb??");
	probe_smtp_reply_free(&r);
}

/* ------------------------------------------------------------ classification */

static struct probe_addr
addr(enum probe_stage st, enum policy_host_state hs, size_t nadded, int auth, long err)
{
	struct probe_addr a;

	memset(&a, 0, sizeof(a));
	a.stage = st;
	a.state = hs;
	a.nadded = nadded;
	a.authenticated = auth;
	a.verify_error = err;
	a.match_depth = auth ? 0 : -1;
	probe_classify(&a);
	return a;
}

#define TYPE(a) ((a).success ? "success" : (a).result_type ? (a).result_type : "transient")

Test(classify, dane_verify_errors)
{
	static const struct {
		long err;
		const char *type;
	} t[] = {
		{ X509_V_ERR_CERT_HAS_EXPIRED, "certificate-expired" },
		{ X509_V_ERR_HOSTNAME_MISMATCH, "certificate-host-mismatch" },
		{ X509_V_ERR_DANE_NO_MATCH, "certificate-not-trusted" },
		{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "certificate-not-trusted" },
		{ X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "certificate-not-trusted" },
		{ X509_V_ERR_CERT_NOT_YET_VALID, "validation-failure" },
		{ X509_V_ERR_OUT_OF_MEM, "validation-failure" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct probe_addr a = addr(PROBE_ST_TLS, POLICY_HOST_DANE, 1, 0, t[i].err);

		cr_expect_str_eq(TYPE(a), t[i].type, "error %ld", t[i].err);
		cr_expect_not(a.transient);
	}
	cr_expect_str_eq(probe_x509_name(X509_V_ERR_DANE_NO_MATCH), "X509_V_ERR_DANE_NO_MATCH");
	cr_expect_null(probe_x509_name(X509_V_ERR_OUT_OF_MEM));
}

Test(classify, stages)
{
	struct probe_addr a;

	a = addr(PROBE_ST_TLS, POLICY_HOST_DANE, 2, 1, X509_V_OK);
	cr_expect_str_eq(TYPE(a), "success");
	a = addr(PROBE_ST_TLS, POLICY_HOST_DANE, 0, 0, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
	cr_expect_str_eq(TYPE(a), "tlsa-invalid", "no record added: TLS without authentication");
	a = addr(PROBE_ST_TLS, POLICY_HOST_TLS, 0, 0, 19);
	cr_expect_str_eq(TYPE(a), "tlsa-invalid");
	a = addr(PROBE_ST_TLS, POLICY_HOST_OPPORTUNISTIC, 0, 0, 19);
	cr_expect_str_eq(TYPE(a), "success", "opportunistic: any TLS is fine");
	a = addr(PROBE_ST_STARTTLS, POLICY_HOST_DANE, 1, 0, -1);
	cr_expect_str_eq(TYPE(a), "starttls-not-supported");
	a = addr(PROBE_ST_EHLO, POLICY_HOST_OPPORTUNISTIC, 0, 0, -1);
	cr_expect_str_eq(TYPE(a), "starttls-not-supported");
	a = addr(PROBE_ST_HANDSHAKE, POLICY_HOST_DANE, 1, 0, -1);
	cr_expect_str_eq(TYPE(a), "validation-failure");
	a = addr(PROBE_ST_CONNECT, POLICY_HOST_DANE, 1, 0, -1);
	cr_expect(a.transient && !a.success && a.result_type == NULL);
	a = addr(PROBE_ST_BANNER, POLICY_HOST_DANE, 1, 0, -1);
	cr_expect(a.transient);
}

/* An MTA-STS host: PKIX and its name decide, and its outcome is the policy's. */
Test(classify, sts_hosts)
{
	char *lines[] = { "version: STSv1", "mode: enforce", "mx: *.example.test", "max_age: 60" };
	struct probe_addr a[2];
	struct probe_result r = { .domain = "example.test", .addrs = a, .naddrs = 2,
		.sts_lines = lines, .nsts_lines = 4 };
	struct tls_outcome o;

	a[0] = addr(PROBE_ST_TLS, POLICY_HOST_OPPORTUNISTIC, 0, 0, X509_V_ERR_HOSTNAME_MISMATCH);
	a[0].sts = 1;
	probe_classify(&a[0]);
	cr_expect_str_eq(TYPE(a[0]), "certificate-host-mismatch", "opportunistic TLS is not enough");
	a[1] = addr(PROBE_ST_TLS, POLICY_HOST_OPPORTUNISTIC, 0, 0, X509_V_OK);
	a[1].sts = a[1].authenticated = 1;
	probe_classify(&a[1]);
	cr_expect_str_eq(TYPE(a[1]), "success");
	cr_assert_eq(probe_outcome(&r, 0, &o), 0);
	cr_expect_eq(o.policy_type, OUTCOME_POLICY_STS);
	cr_assert_eq(o.npolicy_strings, 4);
	cr_expect_str_eq(o.policy_strings[2], "mx: *.example.test");
	cr_expect_str_eq(o.result_type, "certificate-host-mismatch");
	outcome_clear(&o);
	a[1].state = POLICY_HOST_DANE; /* never: DANE decides such destinations */
	a[1].ntlsa = 0;
	cr_assert_eq(probe_outcome(&r, 1, &o), 0);
	cr_expect_neq(o.policy_type, OUTCOME_POLICY_STS);
	outcome_clear(&o);
}

Test(classify, unusable_hosts)
{
	static const struct {
		enum policy_reason r;
		const char *type;
	} t[] = {
		{ POLICY_R_TLSA_LOOKUP_FAILED, "dnssec-invalid" },
		{ POLICY_R_ADDRESS_BOGUS, "dnssec-invalid" },
		{ POLICY_R_MX_BOGUS, "dnssec-invalid" },
		{ POLICY_R_DANE_REQUIRED, "dane-required" },
		{ POLICY_R_TLSA_UNUSABLE, "tlsa-invalid" },
		{ POLICY_R_NO_ADDRESS, "transient" },
		{ POLICY_R_ADDRESS_LOOKUP_FAILED, "transient" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct probe_addr a;

		memset(&a, 0, sizeof(a));
		a.stage = PROBE_ST_NONE;
		a.state = POLICY_HOST_UNUSABLE;
		a.reason = t[i].r;
		probe_classify(&a);
		cr_expect_str_eq(TYPE(a), t[i].type, "reason %s", policy_reason_name(t[i].r));
	}
}

/* ------------------------------------------------------------ TLSA selection */

static struct tlsa_rr
rr(unsigned u, unsigned s, unsigned m, int usable)
{
	struct tlsa_rr r;

	memset(&r, 0, sizeof(r));
	r.usage = (uint8_t)u;
	r.selector = (uint8_t)s;
	r.mtype = (uint8_t)m;
	r.usable = usable;
	return r;
}

Test(tlsa, usages_and_usability)
{
	struct tlsa_rr r[] = { rr(0, 1, 1, 1), rr(1, 1, 1, 1), rr(3, 1, 1, 0), rr(2, 1, 1, 1),
	    rr(3, 1, 1, 1), rr(255, 1, 1, 1) };
	int keep[6];

	cr_expect_eq(tlsa_select(r, 6, keep), 2);
	cr_expect(!keep[0] && !keep[1] && !keep[2] && keep[3] && keep[4] && !keep[5]);
}

Test(tlsa, digest_agility)
{
	/* RFC 7671 9: with 3 1 1 A, 3 1 2 B, 3 1 0 C only B and C count. */
	struct tlsa_rr r[] = { rr(3, 1, 1, 1), rr(3, 1, 2, 1), rr(3, 1, 0, 1), rr(3, 0, 1, 1),
	    rr(2, 1, 1, 1) };
	int keep[5];

	cr_expect_eq(tlsa_select(r, 5, keep), 4);
	cr_expect_not(keep[0], "SHA2-256 dropped next to SHA2-512 for 3 1");
	cr_expect(keep[1] && keep[2]);
	cr_expect(keep[3], "3 0 is its own pair");
	cr_expect(keep[4], "2 1 is its own pair");
	cr_expect_eq(tlsa_select(r, 0, keep), 0);
}

/* ------------------------------------------------------------ probe_run on unreachable hosts */

/* A decision with one DANE host at 127.0.0.1:port (nothing listens) and one unusable host. */
static struct policy_decision *
mkdecision(unsigned port)
{
	struct policy_decision *d = policy_decision_simple("example.test", POLICY_REQUIRE,
	    TLS_LEVEL_DANE, POLICY_R_DANE, "test");
	static const uint8_t rdata[] = { 3, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
	struct policy_host *h;

	d->port = port;
	d->hosts = xcalloc(2, sizeof(*d->hosts));
	d->nhosts = 2;
	h = &d->hosts[0];
	h->name = xstrdup("mx1.example.test");
	h->state = POLICY_HOST_DANE;
	h->reason = POLICY_R_DANE;
	h->addrs = xcalloc(1, sizeof(char *));
	h->addrs[0] = xstrdup("127.0.0.1");
	h->naddrs = 1;
	h->tlsa_state = POLICY_TLSA_FOUND;
	h->tlsa_base = xstrdup("mx1.example.test");
	h->tlsa = xcalloc(1, sizeof(*h->tlsa));
	cr_assert_eq(tlsa_parse(rdata, sizeof(rdata), &h->tlsa[0]), 0);
	h->ntlsa = h->nusable = 1;
	h = &d->hosts[1];
	h->name = xstrdup("mx2.example.test");
	h->state = POLICY_HOST_UNUSABLE;
	h->reason = POLICY_R_TLSA_LOOKUP_FAILED;
	return d;
}

/* A loopback port nobody listens on. */
static unsigned
closed_port(void)
{
	char *why = NULL;
	int fd;

	for (unsigned p = 1; p < 1024; p += 37) {
		if ((fd = probe_smtp_connect("127.0.0.1", p, 500, &why)) < 0) {
			free(why);
			return p;
		}
		close(fd);
	}
	return 0;
}

Test(run, unreachable_and_unusable)
{
	unsigned port = closed_port();
	struct policy_decision *d;
	struct probe_opts o = { 500, "probe.test", 0, 0, NULL };
	struct probe_result *r;
	struct tls_outcome out;
	json_t *j;

	cr_assert_neq(port, 0);
	d = mkdecision(port);
	r = probe_run(d, &o);
	policy_decision_unref(d);
	cr_assert_eq(r->naddrs, 2);
	cr_expect_eq(r->addrs[0].stage, PROBE_ST_CONNECT);
	cr_expect(r->addrs[0].transient);
	cr_expect_eq(r->addrs[0].port, port);
	cr_expect_str_eq(r->addrs[0].tlsa[0], "3 1 1 0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20");
	cr_expect_eq(r->addrs[1].stage, PROBE_ST_NONE);
	cr_expect_str_eq(r->addrs[1].result_type, "dnssec-invalid");
	cr_expect_eq(r->ndane, 1);
	cr_expect_eq(r->ndane_failed, 0, "an unreachable host is no authentication failure");
	cr_expect_not(probe_all_dane_failed(r));
	cr_expect_eq(probe_outcome(r, 0, &out), -1, "transient: no outcome");
	cr_expect_null(out.policy_domain);
	cr_assert_eq(probe_outcome(r, 1, &out), 0);
	cr_expect_str_eq(out.policy_domain, "example.test");
	cr_expect_str_eq(out.mx_host, "mx2.example.test");
	cr_expect_eq(out.success, 0);
	cr_expect_str_eq(out.result_type, "dnssec-invalid");
	cr_expect_eq(out.policy_type, OUTCOME_POLICY_TLSA);
	cr_expect_eq(out.source, OUTCOME_SRC_PROBE);
	outcome_clear(&out);
	cr_expect_eq(probe_outcome(r, 7, &out), -1, "out of range");
	j = probe_result_json(r);
	cr_assert_not_null(j);
	cr_expect_eq(json_array_size(json_object_get(j, "results")), 2);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j, "results"), 0),
	    "stage")), "connect");
	json_decref(j);
	probe_result_free(r);
}

Test(run, all_failed_counts)
{
	struct probe_result r;
	struct probe_addr a[2];

	memset(&r, 0, sizeof(r));
	memset(a, 0, sizeof(a));
	r.addrs = a;
	r.naddrs = 2;
	cr_expect_not(probe_all_dane_failed(&r), "no DANE host");
	r.ndane = 2;
	r.ndane_failed = 1;
	cr_expect_not(probe_all_dane_failed(&r));
	r.ndane_failed = 2;
	cr_expect(probe_all_dane_failed(&r));
	cr_expect_not(probe_all_dane_failed(NULL));
}

Test(names, stable)
{
	cr_expect_str_eq(probe_stage_name(PROBE_ST_TLS), "tls");
	cr_expect_str_eq(probe_stage_name((enum probe_stage)99), "unknown");
	cr_expect_str_eq(probe_ocsp_name(PROBE_OCSP_RESPONDER_EXPIRES), "responder-expires");
	cr_expect_str_eq(probe_ocsp_name(PROBE_OCSP_MISSING), "missing");
}
