/*
 * test_sts_fetch.c - the HTTPS fetch of MTA-STS policies (sts/sts_fetch.c)
 * against a real TLS server on loopback: policy_server.py (next to this
 * file) with the offline world's STS certificates (WORLD_DIR/pki), the
 * addresses given to libcurl (no DNS). Good policies (LF, CRLF, media
 * type parameters, mode none) and every RFC 8461 section 3.3 refusal with
 * its RFC 8460 result type: wrong name, expired certificate, unknown CA,
 * redirect, status, media type, none, size, slow server (time bound),
 * invalid texts, nothing listening.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "policy_server.h"
#include "sts_fetch.h"

static struct policy_server srv;

static void
start(void)
{
	policy_server_start(&srv);
	cr_assert_eq(sts_fetch_global_init(), 0);
}

static void
stop(void)
{
	policy_server_stop(&srv);
}

TestSuite(sts_fetch, .init = start, .fini = stop);

/* fetch d's policy; the status, *p and the error (caller frees) */
static enum sts_fetch_status
fetch(const char *d, const char *cafile, unsigned timeout_ms, struct sts_policy *p, char **err)
{
	static const char *const lo[] = { "127.0.0.1" };
	struct sts_fetch_opts o = { cafile, timeout_ms, srv.port, lo, 1 };

	return sts_fetch(d, &o, p, err);
}

static void
expect_fail(const char *d, const char *cafile, enum sts_fetch_status want, const char *why)
{
	struct sts_policy p;
	char *err = NULL;
	enum sts_fetch_status st = fetch(d, cafile, 3000, &p, &err);

	cr_expect_eq(st, want, "%s: %s, not %s (%s)", d, sts_fetch_status_name(st),
	    sts_fetch_status_name(want), err ? err : "no error");
	cr_expect(err != NULL && strstr(err, why) != NULL, "%s: error '%s' lacks '%s'", d,
	    err ? err : "", why);
	cr_expect(err != NULL && strstr(err, "https://mta-sts.") == err, "the error names the URL");
	cr_expect_eq(p.nmx, 0);
	free(err);
}

Test(sts_fetch, good_policies)
{
	struct sts_policy p;
	char *err = NULL;

	cr_assert_eq(fetch("stsok.example", srv.ca, 3000, &p, &err), STS_FETCH_OK, "%s", err);
	cr_expect_eq(p.mode, STS_MODE_ENFORCE);
	cr_expect_eq(p.max_age, 604800);
	cr_assert_eq(p.nmx, 2);
	cr_expect_eq(sts_policy_mx_match(&p, "mx2.stsok.example"), 1);
	sts_policy_clear(&p);
	cr_assert_eq(fetch("stscrlf.example", srv.ca, 3000, &p, &err), STS_FETCH_OK, "%s", err);
	cr_expect_eq(p.mode, STS_MODE_TESTING);
	sts_policy_clear(&p);
	cr_assert_eq(fetch("stsparam.example", srv.ca, 3000, &p, &err), STS_FETCH_OK,
	    "text/plain with a charset: %s", err);
	sts_policy_clear(&p);
	cr_assert_eq(fetch("stsnone.example", srv.ca, 3000, &p, &err), STS_FETCH_OK, "%s", err);
	cr_expect_eq(p.mode, STS_MODE_NONE);
	sts_policy_clear(&p);
}

Test(sts_fetch, webpki)
{
	expect_fail("stswrongname.example", srv.ca, STS_FETCH_WEBPKI, "certificate");
	expect_fail("stsexpired.example", srv.ca, STS_FETCH_WEBPKI, "certificate");
	expect_fail("stsok.example", srv.other_ca, STS_FETCH_WEBPKI, "certificate");
}

Test(sts_fetch, http_refusals)
{
	expect_fail("stsredirect.example", srv.ca, STS_FETCH_ERROR, "HTTP status 301: redirects are not followed");
	expect_fail("stsnotfound.example", srv.ca, STS_FETCH_ERROR, "HTTP status 404");
	expect_fail("stsctype.example", srv.ca, STS_FETCH_INVALID, "media type text/html");
	expect_fail("stsnoctype.example", srv.ca, STS_FETCH_INVALID, "media type (none)");
	expect_fail("stsbig.example", srv.ca, STS_FETCH_INVALID, "larger than 65536");
}

Test(sts_fetch, invalid_texts)
{
	expect_fail("stsbad.example", srv.ca, STS_FETCH_INVALID, "mode \"enforced\"");
	expect_fail("stsnomx.example", srv.ca, STS_FETCH_INVALID, "no mx field");
	expect_fail("stsctl.example", srv.ca, STS_FETCH_INVALID, "line:2");
	expect_fail("stsempty.example", srv.ca, STS_FETCH_INVALID, "no version");
}

Test(sts_fetch, bounded_time)
{
	struct sts_policy p;
	char *err = NULL;
	int64_t t0 = clock_now_ms();
	enum sts_fetch_status st = fetch("stsslow.example", srv.ca, 800, &p, &err);
	int64_t took = clock_now_ms() - t0;

	cr_expect_eq(st, STS_FETCH_ERROR);
	cr_expect(err != NULL && strstr(err, "timed out") != NULL, "%s", err ? err : "");
	cr_expect(took < 3000, "the 5 s server was given up on after %lld ms", (long long)took);
	free(err);
}

Test(sts_fetch, nothing_listening)
{
	static const char *const lo[] = { "127.0.0.1" };
	struct sts_fetch_opts o = { NULL, 2000, 1, lo, 1 };
	struct sts_policy p;
	char *err = NULL;

	cr_expect_eq(sts_fetch("stsok.example", &o, &p, &err), STS_FETCH_ERROR);
	cr_expect(err != NULL);
	free(err);
}
