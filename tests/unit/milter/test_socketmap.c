/*
 * test_socketmap.c - danepold's Postfix socketmap front door
 * (milter/socketmap.c) without sockets: socketmap_query() given the data
 * of a request netstring returns the reply Postfix reads, under the
 * current snapshot (daemon_fixture.h: the offline world), and writes one
 * "socketmap" audit line per request.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "daemon_fixture.h"
#include "log.h"
#include "snapshot.h"
#include "socketmap.h"

TestSuite(socketmap, .init = dfx_setup, .fini = dfx_teardown, .timeout = 60);

/* The reply to request (a C string), compared with want. */
static void
expect_query(const char *request, const char *want)
{
	char *got = socketmap_query(request, strlen(request), 1);

	cr_expect_str_eq(got, want, "request \"%s\"", request);
	free(got);
}

Test(socketmap, verdicts)
{
	expect_query("tlspolicy secure.example", "OK dane-only");
	expect_query("tlspolicy unsignedmx.example", "OK dane");
	expect_query("tlspolicy insecure.example", "OK may");
	expect_query("tlspolicy nullmx.example", "NOTFOUND ");
}

Test(socketmap, defer_is_temp)
{
	char *got = socketmap_query("tlspolicy bogus.example", 23, 1);

	cr_expect_eq(strncmp(got, "TEMP ", 5), 0, "reply: %s", got);
	cr_expect_not_null(strstr(got, "bogus.example"), "reply: %s", got);
	cr_expect_null(strstr(got, "450"), "no SMTP codes in a socketmap reply: %s", got);
	free(got);
}

Test(socketmap, skipped_keys)
{
	expect_query("tlspolicy .example.com", "NOTFOUND ");
	expect_query("tlspolicy ", "NOTFOUND ");
	cr_expect_eq(dfx_audit_count("socketmap"), 2);
}

Test(socketmap, malformed)
{
	char *got;

	expect_query("tlspolicy", "PERM malformed request: expected \"NAME KEY\"");
	expect_query(" secure.example", "PERM malformed request: expected \"NAME KEY\"");
	got = socketmap_query("tlspolicy a\0b", 13, 1);
	cr_expect_str_eq(got, "PERM malformed request: expected \"NAME KEY\"", "NUL byte");
	free(got);
}

Test(socketmap, soft_defer_when_audit_only)
{
	dfx_install("audit_only = yes");
	expect_query("tlspolicy bogus.example", "NOTFOUND ");
	expect_query("tlspolicy secure.example", "OK dane-only");
}

Test(socketmap, not_ready_without_snapshot)
{
	snapshot_shutdown();
	expect_query("tlspolicy secure.example", "TEMP danepold is not ready");
}

Test(socketmap, reload_applies_to_next_request)
{
	char *got = socketmap_query("tlspolicy bogus.example", 23, 1);

	cr_expect_eq(strncmp(got, "TEMP ", 5), 0, "reply: %s", got);
	free(got);
	dfx_install("audit_only = yes");
	expect_query("tlspolicy bogus.example", "NOTFOUND ");
}

Test(socketmap, audit_line)
{
	json_t *j;

	expect_query("tlspolicy secure.example", "OK dane-only");
	j = dfx_audit_last("socketmap");
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(j, "map")), "tlspolicy");
	cr_expect_str_eq(json_string_value(json_object_get(j, "key")), "secure.example");
	cr_expect_str_eq(json_string_value(json_object_get(j, "reply")), "OK dane-only");
	cr_expect_str_eq(dfx_decision_str(j, "verdict"), "require");
	cr_expect(json_is_boolean(json_object_get(j, "cache_hit")));
	json_decref(j);
	expect_query("tlspolicy", "PERM malformed request: expected \"NAME KEY\"");
	j = dfx_audit_last("socketmap");
	cr_expect(json_is_null(json_object_get(j, "key")));
	cr_expect(json_is_null(json_object_get(j, "decision")), "no decision for a malformed request");
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

Test(socketmap, log_decisions)
{
	msg_set_capture(capture);
	free(socketmap_query("tlspolicy bogus.example", 23, 1));
	cr_expect_eq(nlines, 0, "log_decisions = no: %s", last_line);
	dfx_install("log_decisions = yes");
	free(socketmap_query("tlspolicy bogus.example", 23, 1));
	cr_expect_eq(nlines, 1);
	cr_expect(strncmp(last_line, "decision: door=socketmap domain=bogus.example verdict=defer level=dane reason=mx-dnssec-bogus cached=", strlen("decision: door=socketmap domain=bogus.example verdict=defer level=dane reason=mx-dnssec-bogus cached=")) == 0, "%s", last_line);
	cr_expect_not_null(strstr(last_line, " reply=\"TEMP "), "%s", last_line);
	msg_set_capture(NULL);
}
