/*
 * test_exim.c - danepold's Exim front door (milter/exim.c) without
 * sockets: exim_request() given one request line returns the reply line
 * Exim's ${readsocket} reads, under the current snapshot
 * (daemon_fixture.h: the offline world), and writes one "exim-query" (or
 * "exim", for event lines) audit line per request. The host request
 * is tested with MTA-STS on (sts = yes), the world's policies served by
 * tests/unit/sts/policy_server.py on a loopback port.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "daemon_fixture.h"
#include "log.h"
#include "exim.h"
#include "mem.h"
#include "policy_server.h"
#include "snapshot.h"

TestSuite(exim, .init = dfx_setup, .fini = dfx_teardown, .timeout = 60);

/* The reply to line (a C string, without "\n"), compared with want. */
static void
expect_line(const char *line, const char *want)
{
	char *got = exim_request(line, strlen(line), 7);

	cr_expect_str_eq(got, want, "request \"%s\"", line);
	free(got);
}

/* The reply to line starts with prefix. */
static void
expect_prefix(const char *line, const char *prefix)
{
	char *got = exim_request(line, strlen(line), 7);

	cr_expect_eq(strncmp(got, prefix, strlen(prefix)), 0, "request \"%s\": %s", line, got);
	free(got);
}

Test(exim, rcpt_and_domain)
{
	expect_line("rcpt a@secure.example",
	    "verdict=require level=dane-only reason=dane destination=secure.example");
	expect_line("domain secure.example",
	    "verdict=require level=dane-only reason=dane destination=secure.example");
	expect_line("rcpt a@insecure.example",
	    "verdict=try level=may reason=mx-insecure destination=insecure.example");
	expect_prefix("rcpt a@nullmx.example",
	    "verdict=reject level=dane reason=null-mx destination=nullmx.example reply=\"556 5.1.10 ");
}

Test(exim, defer_carries_the_smtp_reply)
{
	expect_prefix("rcpt b@bogus.example",
	    "verdict=defer level=dane reason=mx-dnssec-bogus destination=bogus.example "
	    "reply=\"450 4.7.5 ");
	expect_prefix("rcpt x@bad..example", "verdict=defer ");
}

Test(exim, local_part_only)
{
	expect_prefix("rcpt postmaster", "verdict=try level=none reason=local-policy");
}

Test(exim, line_ends_and_bad_requests)
{
	expect_line("rcpt a@secure.example\r",
	    "verdict=require level=dane-only reason=dane destination=secure.example");
	expect_prefix("frobnicate secure.example", "verdict=error reason=bad-request");
	expect_prefix("rcpt", "verdict=error reason=bad-request");
	expect_prefix("", "verdict=error reason=bad-request");
}

Test(exim, nul_byte)
{
	char *got = exim_request("rcpt a\0b@secure.example", 23, 7);

	cr_expect_str_eq(got, "verdict=error reason=bad-request detail=\"NUL byte\"");
	free(got);
}

Test(exim, soft_defer_when_audit_only)
{
	dfx_install("audit_only = yes");
	expect_line("rcpt b@bogus.example",
	    "verdict=try level=dane reason=mx-dnssec-bogus destination=bogus.example");
}

Test(exim, unavailable_without_snapshot)
{
	snapshot_shutdown();
	expect_prefix("rcpt a@secure.example", "verdict=error reason=unavailable");
	expect_line("event msg:delivery host=mx1.secure.example", "ok");
}

Test(exim, event_line)
{
	json_t *j, *f;

	expect_line("event msg:delivery host=mx1.secure.example dane=yes", "ok");
	j = dfx_audit_last("exim");
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(j, "name")), "msg:delivery");
	f = json_object_get(j, "fields");
	cr_expect_str_eq(json_string_value(json_object_get(f, "host")), "mx1.secure.example");
	cr_expect_str_eq(json_string_value(json_object_get(f, "dane")), "yes");
	json_decref(j);
	cr_expect_eq(dfx_audit_count("exim-query"), 0, "an event is not a query");
	expect_prefix("event", "verdict=error reason=bad-request");
	cr_expect_eq(dfx_audit_count("exim"), 1);
}

Test(exim, audit_line)
{
	json_t *j;

	expect_line("rcpt a@secure.example",
	    "verdict=require level=dane-only reason=dane destination=secure.example");
	j = dfx_audit_last("exim-query");
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(j, "request")), "rcpt a@secure.example");
	cr_expect_str_eq(json_string_value(json_object_get(j, "destination")), "secure.example");
	cr_expect_str_eq(dfx_decision_str(j, "verdict"), "require");
	json_decref(j);
	expect_prefix("nonsense", "verdict=error reason=bad-request");
	j = dfx_audit_last("exim-query");
	cr_expect(json_is_null(json_object_get(j, "destination")));
	cr_expect(json_is_null(json_object_get(j, "decision")));
	json_decref(j);
}

/* issue 13: log_decisions = yes: one mail-log line per decision */
static char last_line[2048];
static int nlines;

static void
capture(int prio, const char *line)
{
	if (prio == LOG_INFO && strstr(line, "decision: ") != NULL) {
		snprintf(last_line, sizeof(last_line), "%s", line);
		nlines++;
	}
}

Test(exim, log_decisions)
{
	msg_set_capture(capture);
	free(exim_request("rcpt b@bogus.example", 20, 7));
	cr_expect_eq(nlines, 0, "log_decisions = no: %s", last_line);
	dfx_install("log_decisions = yes");
	free(exim_request("rcpt b@bogus.example", 20, 7));
	cr_expect_eq(nlines, 1);
	cr_expect(strncmp(last_line, "decision: door=exim to=<b@bogus.example> domain=bogus.example verdict=defer level=dane reason=mx-dnssec-bogus cached=", strlen("decision: door=exim to=<b@bogus.example> domain=bogus.example verdict=defer level=dane reason=mx-dnssec-bogus cached=")) == 0, "%s", last_line);
	cr_expect_not_null(strstr(last_line, " reply=\"verdict=defer "), "%s", last_line);
	msg_set_capture(NULL);
}

/* host DOMAIN HOSTNAME: may Exim connect to that MX host of DOMAIN? */
Test(exim, host_request)
{
	struct policy_server srv;
	char *extra;
	json_t *j;

	policy_server_start(&srv);
	extra = xasprintf("sts = yes\nsts_ca_file = %s\nsts_https_port = %u\n", srv.ca, srv.port);
	dfx_install(extra);
	free(extra);
	/* stsok: enforce, mx: mx1.stsok.example, *.stsok.example; MX 20 mx1.insecure.example */
	expect_line("host stsok.example mx1.stsok.example",
	    "verdict=allow reason=sts-enforce destination=stsok.example host=mx1.stsok.example");
	expect_line("host stsok.example mx1.insecure.example",
	    "verdict=deny reason=sts-mx-mismatch destination=stsok.example host=mx1.insecure.example");
	expect_line("host STSOK.example. Mx9.StsOk.Example",
	    "verdict=allow reason=sts-enforce destination=STSOK.example. host=Mx9.StsOk.Example");
	/* the same decision as the domain request (cached): require secure */
	expect_line("domain stsok.example",
	    "verdict=require level=secure reason=sts-enforce destination=stsok.example");
	/* a policy naming none of the MX hosts: every host denied */
	expect_line("host stsmismatch.example mx1.stsmismatch.example",
	    "verdict=deny reason=sts-mx-mismatch destination=stsmismatch.example "
	    "host=mx1.stsmismatch.example");
	/* testing, DANE, no policy: no restriction */
	expect_line("host stscrlf.example elsewhere.example",
	    "verdict=allow reason=sts-testing destination=stscrlf.example host=elsewhere.example");
	expect_line("host stsdane.example elsewhere.example",
	    "verdict=allow reason=dane destination=stsdane.example host=elsewhere.example");
	expect_line("host insecure.example elsewhere.example",
	    "verdict=allow reason=mx-insecure destination=insecure.example host=elsewhere.example");
	/* the audit line of a host request, with the decision */
	j = dfx_audit_last("exim-query");
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(j, "request")),
	    "host insecure.example elsewhere.example");
	cr_expect_str_eq(json_string_value(json_object_get(j, "destination")), "insecure.example");
	cr_expect_str_eq(dfx_decision_str(j, "reason"), "mx-insecure");
	json_decref(j);
	/* a HOSTNAME with a blank is one (unmatchable) name; a missing one an error */
	expect_line("host stsok.example mx1.stsok.example x",
	    "verdict=deny reason=sts-mx-mismatch destination=stsok.example "
	    "host=\"mx1.stsok.example x\"");
	expect_line("host stsok.example",
	    "verdict=error reason=bad-request detail=\"host needs DOMAIN and HOSTNAME\"");
	j = dfx_audit_last("exim-query");
	cr_expect(json_is_null(json_object_get(j, "decision")));
	json_decref(j);
	policy_server_stop(&srv);
}
