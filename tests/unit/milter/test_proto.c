/*
 * test_proto.c - danepold's pure protocol functions (milter/proto.c):
 * socketmap request splitting and replies, Exim request parsing, event
 * lines and ${extract} replies, for every verdict and level, with
 * quoting of '"' and '\' and '%' in reply texts.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "kvline.h"
#include "mem.h"
#include "policy.h"
#include "policy_status.h"
#include "proto.h"
#include "sts_policy.h"

static struct policy_decision *
mk(const char *dom, enum policy_verdict v, enum tls_level l, enum policy_reason r, const char *why)
{
	return policy_decision_simple(dom, v, l, r, why);
}

/* Check a reply string and free it. */
static void
expect_reply(char *got, const char *want)
{
	cr_expect_str_eq(got, want);
	free(got);
}

Test(proto, sockmap_split)
{
	char *name = NULL, *key = NULL;

	cr_assert_eq(proto_sockmap_split("tlspolicy secure.example", 24, &name, &key), 0);
	cr_expect_str_eq(name, "tlspolicy");
	cr_expect_str_eq(key, "secure.example");
	free(name);
	free(key);
	cr_assert_eq(proto_sockmap_split("x ", 2, &name, &key), 0);
	cr_expect_str_eq(key, "");
	free(name);
	free(key);
	cr_assert_eq(proto_sockmap_split("m a b", 5, &name, &key), 0);
	cr_expect_str_eq(key, "a b", "only the first space splits");
	free(name);
	free(key);
	cr_expect_eq(proto_sockmap_split("nospace", 7, &name, &key), -1);
	cr_expect_eq(proto_sockmap_split(" key", 4, &name, &key), -1);
	cr_expect_eq(proto_sockmap_split("m a\0b", 5, &name, &key), -1);
	cr_expect_eq(proto_sockmap_split("", 0, &name, &key), -1);
	cr_expect(proto_sockmap_skip(""));
	cr_expect(proto_sockmap_skip(".example.com"));
	cr_expect_not(proto_sockmap_skip("example.com"));
	cr_expect_not(proto_sockmap_skip("[mx.example.com]:587"));
}

Test(proto, sockmap_every_verdict_and_level)
{
	struct policy_status_table *st = policy_status_table_new();
	static const struct { enum policy_verdict v; enum tls_level l; enum policy_reason r; const char *want; } c[] = {
		{ POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE, "OK dane-only" },
		{ POLICY_REQUIRE, TLS_LEVEL_DANE_ONLY, POLICY_R_DANE, "OK dane-only" },
		{ POLICY_TRY, TLS_LEVEL_DANE, POLICY_R_DANE_PARTIAL, "OK dane" },
		{ POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA, "OK may" },
		{ POLICY_TRY, TLS_LEVEL_ENCRYPT, POLICY_R_LOCAL_POLICY, "OK encrypt" },
		{ POLICY_TRY, TLS_LEVEL_NONE, POLICY_R_LOCAL_POLICY, "OK none" },
		{ POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_MX_BOGUS,
		  "TEMP DNSSEC validation of the MX records failed (d.example: why)" },
		{ POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_DNS_TIMEOUT,
		  "TEMP DNS lookup timed out, try again later (d.example: why)" },
		{ POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_INVALID_DOMAIN, "NOTFOUND " },
		{ POLICY_REJECT, TLS_LEVEL_DANE, POLICY_R_NULL_MX, "NOTFOUND " },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct policy_decision *d = mk("d.example", c[i].v, c[i].l, c[i].r, "why");
		char *r = proto_sockmap_reply(d, st, 0, 0);

		cr_expect_str_eq(r, c[i].want, "case %zu", i);
		free(r);
		r = proto_sockmap_reply(d, st, 1, 0);
		if (c[i].v == POLICY_DEFER)
			cr_expect_str_eq(r, "NOTFOUND ", "soft defer %zu", i);
		else
			cr_expect_str_eq(r, c[i].want, "soft changes only defers (%zu)", i);
		free(r);
		r = proto_sockmap_reply(d, st, 0, 1);
		cr_expect_str_eq(r, c[i].want, "no MTA-STS: socketmap_tlsrpt adds nothing (%zu)", i);
		free(r);
		policy_decision_unref(d);
	}
	policy_status_table_free(st);
}

/*
 * require with an MX RRset that is not DNSSEC-secure: the level the MTA
 * can honour without deferring forever ("dane": Postfix's dane-only and
 * Exim's hosts_require_dane fail an insecure MX), unless the local policy
 * level is dane-only; a secure MX, or none looked up ("[host]"), keeps
 * dane-only (doc/engine.md, "Front doors").
 */
Test(proto, require_with_insecure_mx)
{
	struct policy_status_table *st = policy_status_table_new();
	static const struct {
		int queried; enum dns_sec sec; enum tls_level pl; const char *level;
	} c[] = {
		{ 1, DNS_SEC_INSECURE, TLS_LEVEL_DANE, "dane" },
		{ 1, DNS_SEC_INDETERMINATE, TLS_LEVEL_DANE, "dane" },
		{ 1, DNS_SEC_SECURE, TLS_LEVEL_DANE, "dane-only" },
		{ 0, DNS_SEC_INDETERMINATE, TLS_LEVEL_DANE, "dane-only" },
		{ 1, DNS_SEC_INSECURE, TLS_LEVEL_DANE_ONLY, "dane-only" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct policy_decision *d = mk("u.example", POLICY_REQUIRE, TLS_LEVEL_DANE,
		    POLICY_R_DANE, "ok");
		char *want;

		d->mx_queried = c[i].queried;
		d->mx_sec = c[i].sec;
		d->policy_level = c[i].pl;
		want = xasprintf("OK %s", c[i].level);
		expect_reply(proto_sockmap_reply(d, st, 0, 0), want);
		free(want);
		want = xasprintf("verdict=require level=%s reason=dane destination=u.example",
		    c[i].level);
		expect_reply(proto_exim_reply(d, st, "u.example", 0), want);
		free(want);
		policy_decision_unref(d);
	}
	policy_status_table_free(st);
}

/* A decision for domain with MTA-STS consulted: mode (enum sts_mode),
 * patterns mx (NULL-terminated; none: no policy applied). */
static struct policy_decision *
mk_sts_d(const char *domain, enum policy_verdict v, enum tls_level l, enum policy_reason r,
    int mode, const char *const *mx)
{
	struct policy_decision *d = mk(domain, v, l, r, "why");
	struct policy_sts *s = d->sts = xcalloc(1, sizeof(*s));

	s->have = mx != NULL;
	s->mode = mode;
	s->max_age = 86400;
	for (; mx && mx[s->nmx]; s->nmx++)
		;
	s->mx = s->nmx ? xcalloc(s->nmx, sizeof(char *)) : NULL;
	for (size_t i = 0; i < s->nmx; i++)
		s->mx[i] = xstrdup(mx[i]);
	return d;
}

/* The same for s.example. */
static struct policy_decision *
mk_sts(enum policy_verdict v, enum tls_level l, enum policy_reason r, int mode,
    const char *const *mx)
{
	return mk_sts_d("s.example", v, l, r, mode, mx);
}

#define STS_LINES(mode)                                                                  \
	" { policy_string = version: STSv1 } { policy_string = mode: " mode " }"          \
	" { policy_string = mx: mx1.s.example } { policy_string = mx: *.s.example }"      \
	" { policy_string = max_age: 86400 }"
#define STS_PATTERNS " mx_host_pattern=mx1.s.example mx_host_pattern=*.s.example"

/*
 * socketmap_tlsrpt: Postfix 3.10's TLSRPT attributes (TLSRPT_README,
 * "MTA-STS Support via smtp_tls_policy_maps"), byte for byte, after the
 * unchanged reply; without the key, the reply of every case is the one
 * danepol gave before the key existed.
 */
Test(proto, sockmap_tlsrpt)
{
	static const char *const pats[] = { "mx1.s.example", "*.s.example", NULL };
	static const char *const none[] = { NULL };
	struct policy_status_table *st = policy_status_table_new();
	static const struct {
		enum policy_verdict v; enum tls_level l; enum policy_reason r; int mode;
		const char *const *mx; const char *fetch_error; const char *plain; const char *attrs;
	} c[] = {
		{ POLICY_REQUIRE, TLS_LEVEL_SECURE, POLICY_R_STS_ENFORCE, STS_MODE_ENFORCE, pats, NULL,
		  "OK secure match=mx1.s.example:.s.example servername=hostname",
		  " policy_type=sts policy_domain=s.example" STS_LINES("enforce") STS_PATTERNS },
		{ POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_STS_TESTING, STS_MODE_TESTING, pats, NULL, "OK may",
		  " policy_type=sts policy_domain=s.example" STS_LINES("testing") STS_PATTERNS },
		/* no policy: no _mta-sts record, or mode none */
		{ POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA, 0, NULL, NULL, "OK may",
		  " policy_type=no-policy-found" },
		{ POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA, STS_MODE_NONE, none, NULL, "OK may",
		  " policy_type=no-policy-found" },
		{ POLICY_TRY, TLS_LEVEL_ENCRYPT, POLICY_R_NO_TLSA, 0, NULL, NULL, "OK encrypt",
		  " policy_type=no-policy-found" },
		/* a failed fetch has no policy lines for policy_type=sts */
		{ POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA, 0, NULL, "sts-policy-invalid", "OK may",
		  "" },
		/* a DANE level: Postfix reports from its own TLSA lookups */
		{ POLICY_TRY, TLS_LEVEL_DANE, POLICY_R_STS_TESTING, STS_MODE_TESTING, pats, NULL,
		  "OK dane", "" },
		{ POLICY_TRY, TLS_LEVEL_DANE, POLICY_R_NO_TLSA, 0, NULL, NULL, "OK dane", "" },
		/* a deferral is answered TEMP: Postfix connects nowhere */
		{ POLICY_DEFER, TLS_LEVEL_SECURE, POLICY_R_STS_MX_MISMATCH, STS_MODE_ENFORCE, pats,
		  NULL, "TEMP no MX host matches the MTA-STS policy (s.example: why)", "" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct policy_decision *d = mk_sts(c[i].v, c[i].l, c[i].r, c[i].mode, c[i].mx);
		char *want = xasprintf("%s%s", c[i].plain, c[i].attrs);
		char *r;

		d->sts->fetch_error = c[i].fetch_error ? xstrdup(c[i].fetch_error) : NULL;
		r = proto_sockmap_reply(d, st, 0, 0);
		cr_expect_str_eq(r, c[i].plain, "case %zu, socketmap_tlsrpt = no", i);
		free(r);
		r = proto_sockmap_reply(d, st, 0, 1);
		cr_expect_str_eq(r, want, "case %zu, socketmap_tlsrpt = yes", i);
		free(r);
		free(want);
		policy_decision_unref(d);
	}
	policy_status_table_free(st);
}

Test(proto, reply_text_percent_and_overrides)
{
	struct policy_status_table *st = policy_status_table_new();
	const char *why = NULL;
	struct policy_decision *d = mk("p.example", POLICY_DEFER, TLS_LEVEL_DANE,
	    POLICY_R_MX_BOGUS, "100% \"bogus\" \\ here");

	cr_assert_eq(policy_status_set(st, "mx-dnssec-bogus", "451 4.7.5 custom 50% text", &why), 0,
	    "%s", why);
	expect_reply(proto_reply_text(st, d), "custom 50% text (p.example: 100% \"bogus\" \\ here)");
	expect_reply(proto_reply_line(st, d), "451 4.7.5 custom 50% text (p.example: 100% \"bogus\" \\ here)");
	expect_reply(proto_sockmap_reply(d, st, 0, 0), "TEMP custom 50% text (p.example: 100% \"bogus\" \\ here)");
	expect_reply(proto_exim_reply(d, st, "p.example", 0),
	    "verdict=defer level=dane reason=mx-dnssec-bogus destination=p.example "
	    "reply=\"451 4.7.5 custom 50% text (p.example: 100% \\\"bogus\\\" \\\\ here)\"");
	policy_decision_unref(d);
	policy_status_table_free(st);
}

Test(proto, exim_every_verdict)
{
	struct policy_decision *d;

	d = mk("secure.example", POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE, "ok");
	expect_reply(proto_exim_reply(d, NULL, "secure.example", 0),
	    "verdict=require level=dane-only reason=dane destination=secure.example");
	policy_decision_unref(d);
	d = mk("notlsa.example", POLICY_TRY, TLS_LEVEL_MAY, POLICY_R_NO_TLSA, "x");
	expect_reply(proto_exim_reply(d, NULL, "notlsa.example", 0),
	    "verdict=try level=may reason=no-tlsa destination=notlsa.example");
	policy_decision_unref(d);
	d = mk("n.example", POLICY_TRY, TLS_LEVEL_NONE, POLICY_R_LOCAL_POLICY, "x");
	expect_reply(proto_exim_reply(d, NULL, "[n.example]:587", 0),
	    "verdict=try level=none reason=local-policy destination=[n.example]:587");
	policy_decision_unref(d);
	d = mk("e.example", POLICY_TRY, TLS_LEVEL_ENCRYPT, POLICY_R_LOCAL_POLICY, "x");
	expect_reply(proto_exim_reply(d, NULL, "e.example", 0),
	    "verdict=try level=encrypt reason=local-policy destination=e.example");
	policy_decision_unref(d);
	d = mk("bogus.example", POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_MX_BOGUS, "bad sig");
	expect_reply(proto_exim_reply(d, NULL, "bogus.example", 0),
	    "verdict=defer level=dane reason=mx-dnssec-bogus destination=bogus.example "
	    "reply=\"450 4.7.5 DNSSEC validation of the MX records failed (bogus.example: bad sig)\"");
	expect_reply(proto_exim_reply(d, NULL, "bogus.example", 1),
	    "verdict=try level=dane reason=mx-dnssec-bogus destination=bogus.example");
	policy_decision_unref(d);
	d = mk("nullmx.example", POLICY_REJECT, TLS_LEVEL_DANE, POLICY_R_NULL_MX, "null MX");
	expect_reply(proto_exim_reply(d, NULL, "nullmx.example", 1),
	    "verdict=reject level=dane reason=null-mx destination=nullmx.example "
	    "reply=\"556 5.1.10 domain does not accept mail (null MX) (nullmx.example: null MX)\"");
	policy_decision_unref(d);
	/* a hostile destination is quoted, control characters masked */
	d = mk("x", POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_INVALID_DOMAIN, "bad");
	expect_reply(proto_exim_reply(d, NULL, "a \"b\"\\\n", 0),
	    "verdict=defer level=dane reason=invalid-domain destination=\"a \\\"b\\\"\\\\?\" "
	    "reply=\"450 4.1.2 invalid destination domain (x: bad)\"");
	policy_decision_unref(d);
	expect_reply(proto_exim_error("too-long", NULL), "verdict=error reason=too-long");
	expect_reply(proto_exim_error("bad-request", "unknown request"),
	    "verdict=error reason=bad-request detail=\"unknown request\"");
}

Test(proto, soft)
{
	struct conf c;
	struct policy_decision *d = mk("x", POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_INTERNAL_ERROR, "e");
	struct policy_decision *b = mk("x", POLICY_DEFER, TLS_LEVEL_DANE, POLICY_R_MX_BOGUS, "e");
	struct policy_decision *r = mk("x", POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE, "e");

	memset(&c, 0, sizeof(c));
	c.on_error_tempfail = 1;
	cr_expect_not(proto_soft(&c, d));
	c.on_error_tempfail = 0;
	cr_expect(proto_soft(&c, d), "internal error, on_error = accept");
	cr_expect_not(proto_soft(&c, b));
	c.audit_only = 1;
	cr_expect(proto_soft(&c, b));
	cr_expect_not(proto_soft(&c, r), "only defers are soft");
	policy_decision_unref(d);
	policy_decision_unref(b);
	policy_decision_unref(r);
}

Test(proto, exim_parse)
{
	static const struct { const char *in; enum proto_exim_kind k; const char *arg; } c[] = {
		{ "rcpt user@secure.example", PROTO_EXIM_RCPT, "user@secure.example" },
		{ "rcpt \t user@secure.example \t ", PROTO_EXIM_RCPT, "user@secure.example" },
		{ "domain [mx1.secure.example]:587", PROTO_EXIM_DOMAIN, "[mx1.secure.example]:587" },
		{ "event msg:delivery domain=x", PROTO_EXIM_EVENT, "msg:delivery domain=x" },
		{ "host stsok.example  mx1.stsok.example ", PROTO_EXIM_HOST,
		    "stsok.example  mx1.stsok.example" },
		{ "host", PROTO_EXIM_BAD, "missing argument" },
		{ "hostx a b", PROTO_EXIM_BAD, "unknown request" },
		{ "rcpt", PROTO_EXIM_BAD, "missing argument" },
		{ "rcpt   ", PROTO_EXIM_BAD, "missing argument" },
		{ "rcptx a@b", PROTO_EXIM_BAD, "unknown request" },
		{ "RCPT a@b", PROTO_EXIM_BAD, "unknown request" },
		{ "", PROTO_EXIM_BAD, "unknown request" },
		{ "hello", PROTO_EXIM_BAD, "unknown request" },
		{ "domain a\x01" "b", PROTO_EXIM_BAD, "control character" },
		{ "domain a\rb", PROTO_EXIM_BAD, "control character" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *line = strdup(c[i].in);
		const char *arg = NULL;

		cr_expect_eq(proto_exim_parse(line, &arg), c[i].k, "case %zu", i);
		cr_expect_str_eq(arg, c[i].arg, "case %zu", i);
		free(line);
	}
}

Test(proto, exim_event)
{
	struct kvline f;
	char *name = NULL;
	const char *why = NULL;

	cr_assert_eq(proto_exim_event("msg:delivery domain=secure.example host=\"mx 1\"", &name, &f,
	    &why), 0, "%s", why);
	cr_expect_str_eq(name, "msg:delivery");
	cr_expect_eq(f.n, 2);
	cr_expect_str_eq(kvline_get(&f, "host"), "mx 1");
	free(name);
	kvline_free(&f);
	cr_assert_eq(proto_exim_event("tls:cert", &name, &f, &why), 0);
	cr_expect_eq(f.n, 0);
	free(name);
	kvline_free(&f);
	cr_expect_eq(proto_exim_event("bad\"name x=1", &name, &f, &why), -1);
	cr_expect_str_eq(why, "bad event name");
	cr_expect_eq(proto_exim_event("dane:fail host=\"open", &name, &f, &why), -1);
	cr_expect_str_eq(why, "unterminated quote");
	cr_expect_eq(f.n, 0);
	kvline_free(&f);
}

Test(proto, exim_host_split)
{
	static const struct { const char *in; const char *dom, *host, *why; } c[] = {
		{ "stsok.example mx1.stsok.example", "stsok.example", "mx1.stsok.example", NULL },
		{ "a.example \t mx.b.example.", "a.example", "mx.b.example.", NULL },
		{ "a.example", NULL, NULL, "host needs DOMAIN and HOSTNAME" },
		/* blanks in HOSTNAME: kept, the matcher then names nothing */
		{ "a.example mx1.stsok.example x", "a.example", "mx1.stsok.example x", NULL },
	};
	char *dom, *host, *long_host;
	const char *why;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		dom = host = NULL;
		why = NULL;
		cr_expect_eq(proto_exim_host(c[i].in, &dom, &host, &why), c[i].why ? -1 : 0,
		    "case %zu", i);
		if (c[i].why) {
			cr_expect_str_eq(why, c[i].why, "case %zu", i);
			cr_expect_null(dom);
			cr_expect_null(host);
			continue;
		}
		cr_expect_str_eq(dom, c[i].dom, "case %zu", i);
		cr_expect_str_eq(host, c[i].host, "case %zu", i);
		free(dom);
		free(host);
	}
	long_host = xasprintf("a.example %0256d", 0);
	dom = host = NULL;
	cr_expect_eq(proto_exim_host(long_host, &dom, &host, &why), -1);
	cr_expect_str_eq(why, "DOMAIN or HOSTNAME longer than 255 octets");
	cr_expect_null(host);
	free(long_host);
}

/* A decision for stsok.example to which an MTA-STS policy of mode m with patterns mx1 (and mx2) applied. */
static struct policy_decision *
mk_sts_host(enum policy_verdict v, enum policy_reason r, int mode, const char *mx1, const char *mx2)
{
	const char *mx[] = { mx1, mx2, NULL };

	return mk_sts_d("stsok.example", v, TLS_LEVEL_SECURE, r, mode, mx);
}

Test(proto, exim_host_reply)
{
	/* enforce, mx: mx1.stsok.example, *.stsok.example: host -> verdict, host= as written */
	static const struct { const char *host, *verdict, *out; } c[] = {
		{ "mx1.stsok.example", "allow", "mx1.stsok.example" },
		{ "MX2.StsOK.example.", "allow", "MX2.StsOK.example." },
		/* "*." stands for exactly one label */
		{ "a.b.stsok.example", "deny", "a.b.stsok.example" },
		{ "mx1.insecure.example", "deny", "mx1.insecure.example" },
		/* not a host name (an address, a blank, hostile bytes): not named */
		{ "127.0.0.1", "deny", "127.0.0.1" },
		{ "mx1.stsok.example x", "deny", "\"mx1.stsok.example x\"" },
		{ "a\"b", "deny", "\"a\\\"b\"" },
	};
	struct policy_decision *d = mk_sts_host(POLICY_REQUIRE, POLICY_R_STS_ENFORCE, STS_MODE_ENFORCE,
	    "mx1.stsok.example", "*.stsok.example");

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *want = xasprintf("verdict=%s reason=%s destination=stsok.example host=%s",
		    c[i].verdict, c[i].verdict[0] == 'a' ? "sts-enforce" : "sts-mx-mismatch", c[i].out);

		expect_reply(proto_exim_host_reply(d, "stsok.example", c[i].host), want);
		free(want);
	}
	policy_decision_unref(d);
	/* the policy names no MX host: the decision is a defer, every host denied */
	d = mk_sts_host(POLICY_DEFER, POLICY_R_STS_MX_MISMATCH, STS_MODE_ENFORCE, "mail.elsewhere.example",
	    NULL);
	expect_reply(proto_exim_host_reply(d, "stsmismatch.example", "mx1.stsmismatch.example"),
	    "verdict=deny reason=sts-mx-mismatch destination=stsmismatch.example "
	    "host=mx1.stsmismatch.example");
	policy_decision_unref(d);
	/* testing and none restrict nothing */
	d = mk_sts_host(POLICY_TRY, POLICY_R_STS_TESTING, STS_MODE_TESTING, "mx1.stsok.example", NULL);
	expect_reply(proto_exim_host_reply(d, "stscrlf.example", "other.example"),
	    "verdict=allow reason=sts-testing destination=stscrlf.example host=other.example");
	policy_decision_unref(d);
	/* no policy (DANE decided, or none fetched): allow with the decision's reason */
	d = mk("secure.example", POLICY_REQUIRE, TLS_LEVEL_DANE, POLICY_R_DANE, "ok");
	expect_reply(proto_exim_host_reply(d, "secure.example", "mx1.secure.example"),
	    "verdict=allow reason=dane destination=secure.example host=mx1.secure.example");
	policy_decision_unref(d);
	d = mk_sts_host(POLICY_TRY, POLICY_R_MX_INSECURE, STS_MODE_ENFORCE, "mx1.stsok.example", NULL);
	d->sts->have = 0;
	expect_reply(proto_exim_host_reply(d, "stsbad.example", "elsewhere.example"),
	    "verdict=allow reason=mx-insecure destination=stsbad.example host=elsewhere.example");
	policy_decision_unref(d);
}

/* ---- the control socket's request line (proto_control_parse) ---- */

/* Parse the C string s (its strlen): the kind, with arg and why as set. */
static enum proto_control_kind
ctl(const char *s, char **arg, const char **why)
{
	*why = NULL;
	return proto_control_parse(s, strlen(s), arg, why);
}

Test(proto, control_good)
{
	const char *why;
	char *arg;

	cr_expect_eq(ctl("stats", &arg, &why), PROTO_CONTROL_STATS);
	cr_expect_null(arg);
	cr_expect_eq(ctl("stats\r", &arg, &why), PROTO_CONTROL_STATS);
	cr_assert_eq(ctl("query secure.example", &arg, &why), PROTO_CONTROL_QUERY);
	cr_expect_str_eq(arg, "secure.example");
	free(arg);
	cr_assert_eq(ctl("query [192.0.2.1]:25\r", &arg, &why), PROTO_CONTROL_QUERY);
	cr_expect_str_eq(arg, "[192.0.2.1]:25");
	free(arg);
	/* 8-bit bytes are the engine's to judge (U-labels) */
	cr_assert_eq(ctl("query b\xc3\xbc" "cher.example", &arg, &why), PROTO_CONTROL_QUERY);
	free(arg);
	/* the data need not be NUL-terminated: only n bytes count */
	cr_assert_eq(proto_control_parse("query a.example\nstats", 15, &arg, &why),
	    PROTO_CONTROL_QUERY);
	cr_expect_str_eq(arg, "a.example");
	free(arg);
}

Test(proto, control_bad)
{
	static const struct {
		const char *line;
		const char *why;
	} bad[] = {
		{ "", "empty request" },
		{ "\r", "empty request" },
		{ "hello", "unknown request" },
		{ "STATS", "unknown request" },
		{ "querysecure.example", "unknown request" },
		{ "query", "query needs one DOMAIN" },
		{ "query ", "query needs one DOMAIN" },
		{ "query  a.example", "query needs one DOMAIN" },
		{ "query a.example b.example", "query takes one DOMAIN" },
		{ "query a.example ", "query takes one DOMAIN" },
		{ "stats now", "stats takes no argument" },
		{ "stats ", "stats takes no argument" },
		{ "query a\tb", "control character" },
		{ "query a\x1b[2Jb", "control character" },
		{ "query a\x7f", "control character" },
		{ "query a.example\r\r", "control character" },
	};
	const char *why;
	char *arg;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(ctl(bad[i].line, &arg, &why), PROTO_CONTROL_BAD, "%zu", i);
		cr_expect_null(arg, "%zu", i);
		cr_expect(why && strncmp(why, bad[i].why, strlen(bad[i].why)) == 0,
		    "%zu: why \"%s\", want \"%s...\"", i, why ? why : "(null)", bad[i].why);
	}
	/* a NUL byte inside the line */
	cr_expect_eq(proto_control_parse("query a\0b", 9, &arg, &why), PROTO_CONTROL_BAD);
}

Test(proto, control_bounds)
{
	char line[PROTO_CONTROL_LINE_MAX + 2], dom[300];
	const char *why;
	char *arg;

	memset(dom, 'a', sizeof(dom));
	/* DOMAIN of 255 octets: fine; 256: too long */
	snprintf(line, sizeof(line), "query %.255s", dom);
	cr_assert_eq(ctl(line, &arg, &why), PROTO_CONTROL_QUERY);
	cr_expect_eq(strlen(arg), 255);
	free(arg);
	snprintf(line, sizeof(line), "query %.256s", dom);
	cr_expect_eq(ctl(line, &arg, &why), PROTO_CONTROL_BAD);
	cr_expect_str_eq(why, "DOMAIN longer than 255 octets");
	/* the line: PROTO_CONTROL_LINE_MAX octets (plus a \r) is read, one more is too long */
	memset(line, 'x', sizeof(line));
	cr_expect_eq(proto_control_parse(line, PROTO_CONTROL_LINE_MAX, &arg, &why),
	    PROTO_CONTROL_BAD);
	cr_expect_str_eq(why, "unknown request: expected \"query DOMAIN\" or \"stats\"");
	line[PROTO_CONTROL_LINE_MAX] = '\r';
	cr_expect_eq(proto_control_parse(line, PROTO_CONTROL_LINE_MAX + 1, &arg, &why),
	    PROTO_CONTROL_BAD);
	cr_expect_str_eq(why, "unknown request: expected \"query DOMAIN\" or \"stats\"");
	line[PROTO_CONTROL_LINE_MAX] = 'x';
	cr_expect_eq(proto_control_parse(line, PROTO_CONTROL_LINE_MAX + 1, &arg, &why),
	    PROTO_CONTROL_BAD);
	cr_expect_str_eq(why, "request line too long");
}
