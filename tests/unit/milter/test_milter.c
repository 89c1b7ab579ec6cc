/*
 * test_milter.c - danepold's libmilter callbacks (milter/milter.c)
 * without libmilter and without sockets: the callbacks of milter_desc()
 * are called directly with a fake SMFICTX (fake_smfi.h: macros from a
 * table, replies recorded), against snapshots built over the offline
 * world (daemon_fixture.h), and the audit lines they write are read back.
 *
 * What is checked: the negotiation (which steps are skipped, which
 * macros asked for); the RCPT status and reply per verdict (require and
 * try continue, defer gives 450 4.7.5 with the status table's text, null
 * MX continues for the MTA to bounce, an invalid address is deferred);
 * which recipients are judged ({rcpt_mailer} not in
 * milter_smtp_transports and non-SMTP Postfix mail are never deferred;
 * {rcpt_host} is the destination unless use_rcpt_host = no; a unix
 * next hop is not judged); audit_only; the transaction's lifecycle and
 * its "message" line (eom, abort, close, MAIL without RSET); a
 * transaction keeping its snapshot over a reload; a failing setreply;
 * the connection and its decisions counted (lib/stats.h);
 * the mail-log lines (a deferral's line with Postfix's queue id or
 * NOQUEUE, log_decisions).
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <libmilter/mfapi.h>

#include "daemon_fixture.h"
#include "daemon_metrics.h"
#include "fake_smfi.h"
#include "log.h"
#include "milter.h"
#include "snapshot.h"
#include "stats.h"

static SMFICTX *ctx;
static struct smfiDesc *desc;

static void
setup(void)
{
	dfx_setup();
	ctx = fake_smfi_new();
	desc = milter_desc();
}

static void
teardown(void)
{
	if (ctx != NULL) {
		if (fake_smfi_priv(ctx) != NULL)
			desc->xxfi_close(ctx);
		fake_smfi_free(ctx);
		ctx = NULL;
	}
	dfx_teardown();
}

TestSuite(milter, .init = setup, .fini = teardown, .timeout = 60);

static sfsistat
conn(const char *host)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0xc0000201);	/* 192.0.2.1 */
	return desc->xxfi_connect(ctx, (char *)host, (_SOCK_ADDR *)&sin);
}

static sfsistat
mail(const char *from)
{
	char *argv[] = { (char *)from, NULL };

	return desc->xxfi_envfrom(ctx, argv);
}

static sfsistat
rcpt(const char *to)
{
	char *argv[] = { (char *)to, NULL };

	fake_smfi_clear_reply(ctx);
	return desc->xxfi_envrcpt(ctx, argv);
}

/* The last "rcpt" audit line: action, destination and decision verdict/reason. */
static void
expect_rcpt_line(const char *recipient, const char *dest, const char *action,
    const char *verdict, const char *reason)
{
	json_t *j = dfx_audit_last("rcpt");

	cr_assert_not_null(j, "no rcpt audit line");
	cr_expect_str_eq(json_string_value(json_object_get(j, "recipient")), recipient);
	cr_expect_str_eq(json_string_value(json_object_get(j, "destination")), dest);
	cr_expect_str_eq(json_string_value(json_object_get(j, "action")), action);
	if (verdict)
		cr_expect_str_eq(dfx_decision_str(j, "verdict"), verdict);
	if (reason)
		cr_expect_str_eq(dfx_decision_str(j, "reason"), reason);
	json_decref(j);
}

Test(milter, description)
{
	cr_expect_str_eq(desc->xxfi_name, "danepold");
	cr_expect_not_null(desc->xxfi_connect);
	cr_expect_not_null(desc->xxfi_envfrom);
	cr_expect_not_null(desc->xxfi_envrcpt);
	cr_expect_not_null(desc->xxfi_eom);
	cr_expect_not_null(desc->xxfi_abort);
	cr_expect_not_null(desc->xxfi_close);
	cr_expect_null(desc->xxfi_helo, "HELO is not needed");
	/* there for the S/MIME check; negotiation skips them when it is off */
	cr_expect_not_null(desc->xxfi_header);
	cr_expect_not_null(desc->xxfi_body);
	cr_expect_null(desc->xxfi_data);
}

Test(milter, negotiate_skips_and_macros)
{
	unsigned long f0, f1, f2, f3;
	unsigned long all = ~0UL;

	cr_assert_eq(desc->xxfi_negotiate(ctx, all, all, all, all, &f0, &f1, &f2, &f3),
	    SMFIS_CONTINUE);
	cr_expect_eq(f0, (unsigned long)SMFIF_SETSYMLIST);
	cr_expect_eq(f1, (unsigned long)(SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN),
	    "DATA must not be skipped, no SMFIP_NR_*: %#lx", f1);
	cr_expect_eq(f2, 0);
	cr_expect_eq(f3, 0);
	cr_expect_str_eq(fake_smfi_symlist(ctx, SMFIM_CONNECT), "{daemon_name}");
	cr_expect_str_eq(fake_smfi_symlist(ctx, SMFIM_ENVFROM), "i {auth_authen}");
	cr_expect_str_eq(fake_smfi_symlist(ctx, SMFIM_ENVRCPT), "i {rcpt_host} {rcpt_mailer}");
	cr_expect_str_eq(fake_smfi_symlist(ctx, SMFIM_EOM), "i");
}

Test(milter, negotiate_without_symlist)
{
	unsigned long f0, f1, f2, f3;

	desc->xxfi_negotiate(ctx, 0, SMFIP_NOHDRS, 0, 0, &f0, &f1, &f2, &f3);
	cr_expect_eq(f0, 0);
	cr_expect_eq(f1, (unsigned long)SMFIP_NOHDRS, "only what the MTA offers");
	cr_expect_null(fake_smfi_symlist(ctx, SMFIM_ENVRCPT), "no macro list without SETSYMLIST");
}

Test(milter, require_continues)
{
	cr_assert_eq(conn("client.example"), SMFIS_CONTINUE);
	cr_assert_eq(mail("<s@sender.example>"), SMFIS_CONTINUE);
	cr_expect_eq(rcpt("<a@secure.example>"), SMFIS_CONTINUE);
	cr_expect_null(fake_smfi_reply(ctx));
	expect_rcpt_line("a@secure.example", "secure.example", "continue", "require", "dane");
}

Test(milter, try_continues)
{
	conn("client.example");
	mail("<s@sender.example>");
	cr_expect_eq(rcpt("<a@insecure.example>"), SMFIS_CONTINUE);
	cr_expect_null(fake_smfi_reply(ctx));
	expect_rcpt_line("a@insecure.example", "insecure.example", "continue", "try", "mx-insecure");
}

Test(milter, defer_tempfails_450)
{
	json_t *j;
	const char *reply;

	conn("client.example");
	mail("<s@sender.example>");
	cr_assert_eq(rcpt("<b@bogus.example>"), SMFIS_TEMPFAIL);
	reply = fake_smfi_reply(ctx);
	cr_assert_not_null(reply);
	cr_expect_eq(strncmp(reply, "450 4.7.5 ", 10), 0, "reply: %s", reply);
	cr_expect_not_null(strstr(reply, "bogus.example"), "reply names the domain: %s", reply);
	expect_rcpt_line("b@bogus.example", "bogus.example", "tempfail", "defer", "mx-dnssec-bogus");
	j = dfx_audit_last("rcpt");
	cr_expect_eq(strncmp(json_string_value(json_object_get(j, "reply")), "450 4.7.5 ", 10), 0);
	json_decref(j);
}

Test(milter, null_mx_continues)
{
	conn("client.example");
	mail("<s@sender.example>");
	cr_expect_eq(rcpt("<n@nullmx.example>"), SMFIS_CONTINUE, "the MTA bounces null MX itself");
	cr_expect_null(fake_smfi_reply(ctx));
	expect_rcpt_line("n@nullmx.example", "nullmx.example", "continue", "reject", "null-mx");
}

Test(milter, invalid_address_deferred)
{
	conn("client.example");
	mail("<s@sender.example>");
	cr_expect_eq(rcpt("<x@bad..example>"), SMFIS_TEMPFAIL);
	cr_assert_not_null(fake_smfi_reply(ctx));
	cr_expect_eq(fake_smfi_reply(ctx)[0], '4', "reply: %s", fake_smfi_reply(ctx));
	expect_rcpt_line("x@bad..example", "bad..example", "tempfail", "defer", "invalid-domain");
}

Test(milter, local_recipient_not_judged)
{
	conn("client.example");
	mail("<s@sender.example>");
	cr_expect_eq(rcpt("<postmaster>"), SMFIS_CONTINUE);
	expect_rcpt_line("postmaster", "", "continue", "try", "local-policy");
}

Test(milter, non_smtp_transport_skipped)
{
	conn("client.example");
	mail("<s@sender.example>");
	fake_smfi_macro(ctx, "{rcpt_mailer}", "local");
	fake_smfi_macro(ctx, "{rcpt_host}", "bogus.example");
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_CONTINUE, "own domain: never deferred");
	cr_expect_null(fake_smfi_reply(ctx));
	expect_rcpt_line("b@bogus.example", "bogus.example", "continue", "try", "local-policy");
}

Test(milter, listed_transport_uses_rcpt_host)
{
	conn("client.example");
	mail("<s@sender.example>");
	fake_smfi_macro(ctx, "{rcpt_mailer}", "smtp");
	fake_smfi_macro(ctx, "{rcpt_host}", "bogus.example");
	cr_expect_eq(rcpt("<a@secure.example>"), SMFIS_TEMPFAIL, "judged on the next hop");
	expect_rcpt_line("a@secure.example", "bogus.example", "tempfail", "defer", NULL);
	fake_smfi_macro(ctx, "{rcpt_host}", "[mx1.secure.example]:25");
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_CONTINUE);
	expect_rcpt_line("b@bogus.example", "[mx1.secure.example]:25", "continue", "require", NULL);
}

Test(milter, custom_transport_list)
{
	dfx_install("milter_smtp_transports = smtp relayout");
	conn("client.example");
	mail("<s@sender.example>");
	fake_smfi_macro(ctx, "{rcpt_mailer}", "relayout");
	fake_smfi_macro(ctx, "{rcpt_host}", "bogus.example");
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_TEMPFAIL);
	fake_smfi_macro(ctx, "{rcpt_mailer}", "smtp");
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_TEMPFAIL);
	fake_smfi_macro(ctx, "{rcpt_mailer}", "lmtp");
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_CONTINUE);
}

Test(milter, use_rcpt_host_no_uses_domain)
{
	dfx_install("use_rcpt_host = no");
	conn("client.example");
	mail("<s@sender.example>");
	fake_smfi_macro(ctx, "{rcpt_mailer}", "smtp");
	fake_smfi_macro(ctx, "{rcpt_host}", "bogus.example");
	cr_expect_eq(rcpt("<a@secure.example>"), SMFIS_CONTINUE);
	expect_rcpt_line("a@secure.example", "secure.example", "continue", "require", NULL);
}

Test(milter, unix_next_hop_not_judged)
{
	conn("client.example");
	mail("<s@sender.example>");
	fake_smfi_macro(ctx, "{rcpt_mailer}", "smtp");
	fake_smfi_macro(ctx, "{rcpt_host}", "unix:/run/relay.sock");
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_CONTINUE);
	expect_rcpt_line("b@bogus.example", "unix:/run/relay.sock", "continue", "try", "local-policy");
}

Test(milter, postfix_non_smtp_mail_audit_only)
{
	fake_smfi_macro(ctx, "{daemon_name}", "pickup");
	conn("localhost");
	mail("<s@sender.example>");
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_CONTINUE, "non-SMTP mail is never tempfailed");
	cr_expect_null(fake_smfi_reply(ctx));
	expect_rcpt_line("b@bogus.example", "bogus.example", "audit-only", "defer", NULL);
	/* the same Postfix connection, an SMTP recipient: judged */
	fake_smfi_macro(ctx, "{rcpt_mailer}", "smtp");
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_TEMPFAIL);
}

Test(milter, audit_only_never_defers)
{
	dfx_install("audit_only = yes");
	conn("client.example");
	mail("<s@sender.example>");
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_CONTINUE);
	cr_expect_null(fake_smfi_reply(ctx));
	expect_rcpt_line("b@bogus.example", "bogus.example", "audit-only", "defer", NULL);
}

Test(milter, failing_setreply_still_tempfails)
{
	json_t *j;

	fake_smfi_fail_setreply(ctx, 1);
	conn("client.example");
	mail("<s@sender.example>");
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_TEMPFAIL);
	j = dfx_audit_last("rcpt");
	cr_expect(json_is_null(json_object_get(j, "reply")), "no reply was set");
	json_decref(j);
}

Test(milter, message_line_at_eom)
{
	json_t *m;

	conn("client.example");
	fake_smfi_macro(ctx, "i", "4XyZ1");
	fake_smfi_macro(ctx, "{auth_authen}", "alice");
	mail("<s@sender.example>");
	rcpt("<a@secure.example>");
	rcpt("<b@bogus.example>");
	rcpt("<c@insecure.example>");
	cr_expect_eq(dfx_audit_count("message"), 0, "no message line before the end");
	cr_expect_eq(desc->xxfi_eom(ctx), SMFIS_CONTINUE);
	m = dfx_audit_last("message");
	cr_assert_not_null(m);
	cr_expect_str_eq(json_string_value(json_object_get(m, "end")), "eom");
	cr_expect_eq(json_integer_value(json_object_get(m, "accepted")), 2);
	cr_expect_eq(json_integer_value(json_object_get(m, "deferred")), 1);
	cr_expect_eq(json_array_size(json_object_get(m, "recipients")), 3);
	cr_expect_str_eq(json_string_value(json_object_get(m, "queue_id")), "4XyZ1");
	cr_expect_str_eq(json_string_value(json_object_get(m, "sender")), "s@sender.example");
	cr_expect_str_eq(json_string_value(json_object_get(m, "auth_user")), "alice");
	json_decref(m);
	cr_expect_eq(desc->xxfi_eom(ctx), SMFIS_CONTINUE);
	cr_expect_eq(dfx_audit_count("message"), 1, "a second EOM ends nothing");
}

Test(milter, message_ends_at_abort_close_and_next_mail)
{
	json_t *m;

	conn("client.example");
	mail("<s1@sender.example>");
	rcpt("<a@secure.example>");
	mail("<s2@sender.example>");		/* MAIL without RSET */
	m = dfx_audit_last("message");
	cr_assert_not_null(m);
	cr_expect_str_eq(json_string_value(json_object_get(m, "end")), "abort");
	cr_expect_str_eq(json_string_value(json_object_get(m, "sender")), "s1@sender.example");
	json_decref(m);
	rcpt("<b@bogus.example>");		/* all deferred: no DATA, no EOM */
	cr_expect_eq(desc->xxfi_abort(ctx), SMFIS_CONTINUE);
	m = dfx_audit_last("message");
	cr_expect_str_eq(json_string_value(json_object_get(m, "end")), "abort");
	cr_expect_eq(json_integer_value(json_object_get(m, "deferred")), 1);
	json_decref(m);
	cr_expect_eq(dfx_audit_count("message"), 2);
	mail("<s3@sender.example>");
	cr_expect_eq(desc->xxfi_close(ctx), SMFIS_CONTINUE);
	cr_expect_null(fake_smfi_priv(ctx), "close frees the connection state");
	m = dfx_audit_last("message");
	cr_expect_str_eq(json_string_value(json_object_get(m, "end")), "close");
	cr_expect_str_eq(json_string_value(json_object_get(m, "sender")), "s3@sender.example");
	json_decref(m);
	cr_expect_eq(desc->xxfi_close(ctx), SMFIS_CONTINUE, "close without state");
	cr_expect_eq(dfx_audit_count("message"), 3);
}

Test(milter, rcpt_without_mail_and_close_only)
{
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_TEMPFAIL, "state made lazily");
	cr_expect_not_null(fake_smfi_priv(ctx));
	desc->xxfi_close(ctx);
	cr_expect_eq(dfx_audit_count("message"), 1);
	cr_expect_eq(desc->xxfi_close(ctx), SMFIS_CONTINUE);
	cr_expect_eq(desc->xxfi_abort(ctx), SMFIS_CONTINUE);
	cr_expect_eq(desc->xxfi_eom(ctx), SMFIS_CONTINUE);
	cr_expect_eq(dfx_audit_count("message"), 1);
}

Test(milter, sessions_and_client)
{
	SMFICTX *other = fake_smfi_new();
	char *argv[] = { "<b@secure.example>", NULL };
	json_t *a, *b;

	conn("client.example");
	mail("<s@sender.example>");
	rcpt("<a@secure.example>");
	a = dfx_audit_last("rcpt");
	desc->xxfi_envrcpt(other, argv);
	b = dfx_audit_last("rcpt");
	cr_expect_str_neq(json_string_value(json_object_get(a, "session")),
	    json_string_value(json_object_get(b, "session")));
	cr_expect_eq(strlen(json_string_value(json_object_get(a, "session"))), 16);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(a, "client"), "name")),
	    "client.example");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(a, "client"), "addr")),
	    "192.0.2.1");
	json_decref(a);
	json_decref(b);
	desc->xxfi_close(other);
	fake_smfi_free(other);
}

Test(milter, transaction_keeps_its_snapshot)
{
	dfx_install("audit_only = yes");
	conn("client.example");
	mail("<s@sender.example>");
	dfx_install(NULL);			/* reload in mid-transaction */
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_CONTINUE, "the old snapshot's audit_only");
	desc->xxfi_eom(ctx);
	mail("<s@sender.example>");
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_TEMPFAIL, "the next one sees the reload");
}

/* The milter door counts its connections and its decisions (lib/stats.h). */
Test(milter, counted_in_stats)
{
	struct stats_snapshot a, b;

	stats_read(&a);
	conn("client.example");
	mail("<s@sender.example>");
	cr_expect_eq(rcpt("<a@secure.example>"), SMFIS_CONTINUE);
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_TEMPFAIL);
	stats_read(&b);
	cr_expect_eq(b.doors[DAEMON_METRICS_MILTER] - a.doors[DAEMON_METRICS_MILTER], 1);
	cr_expect_eq(b.doors[DAEMON_METRICS_SOCKETMAP] - a.doors[DAEMON_METRICS_SOCKETMAP], 0);
	cr_expect_eq(b.decisions[POLICY_REQUIRE][POLICY_R_DANE] -
		a.decisions[POLICY_REQUIRE][POLICY_R_DANE],
	    1);
	cr_expect_eq(b.decisions[POLICY_DEFER][POLICY_R_MX_BOGUS] -
		a.decisions[POLICY_DEFER][POLICY_R_MX_BOGUS],
	    1);
	cr_expect_eq(b.counter[STATS_CACHE_MISSES] - a.counter[STATS_CACHE_MISSES], 2);
}

/* ---------------------------------------------- issue 13: the mail log */

static char mail_lines[8][2048];
static int nmail_lines;

/* msg_set_capture() hook: keep the info lines (msg_mail() has no label). */
static void
capture(int prio, const char *line)
{
	if (prio == LOG_INFO && nmail_lines < 8)
		snprintf(mail_lines[nmail_lines++], sizeof(mail_lines[0]), "%s", line);
}

static void
capture_start(void)
{
	nmail_lines = 0;
	msg_set_capture(capture);
}

/* The captured line that starts with prefix, or NULL. */
static const char *
mail_line(const char *prefix)
{
	for (int i = 0; i < nmail_lines; i++)
		if (strncmp(mail_lines[i], prefix, strlen(prefix)) == 0)
			return mail_lines[i];
	return NULL;
}

Test(milter, deferral_line_with_queue_id)
{
	const char *l;

	capture_start();
	conn("client.example");
	mail("<s@sender.example>");
	cr_expect_eq(rcpt("<a@secure.example>"), SMFIS_CONTINUE);
	cr_expect_eq(nmail_lines, 0, "accepted: no line without log_decisions");
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_TEMPFAIL);
	/* Postfix has no queue id before the first accepted recipient */
	l = mail_line("NOQUEUE: defer: door=milter session=");
	cr_assert_not_null(l, "%d lines, first: %s", nmail_lines, mail_lines[0]);
	cr_expect_not_null(strstr(l, " to=<b@bogus.example> domain=bogus.example verdict=defer "),
	    "%s", l);
	cr_expect_not_null(strstr(l, " reason=mx-dnssec-bogus action=tempfail code=450 dsn=4.7.5 "),
	    "%s", l);
	cr_expect_not_null(strstr(l, " reply=\"450 4.7.5 "), "%s", l);
	fake_smfi_macro(ctx, "i", "4XyZ1");
	nmail_lines = 0;
	cr_expect_eq(rcpt("<c@bogus.example>"), SMFIS_TEMPFAIL);
	cr_expect_eq(nmail_lines, 1);
	cr_expect_not_null(mail_line("4XyZ1: defer: door=milter session="), "%s", mail_lines[0]);
	/* outside text: one line, bounded */
	nmail_lines = 0;
	cr_expect_eq(rcpt("<d\x01\"x@bogus.example>"), SMFIS_TEMPFAIL);
	cr_assert_eq(nmail_lines, 1);
	cr_expect_null(strchr(mail_lines[0], '\x01'), "%s", mail_lines[0]);
	msg_set_capture(NULL);
}

Test(milter, log_decisions_line_per_decision)
{
	const char *l;

	dfx_install("log_decisions = yes");
	capture_start();
	conn("client.example");
	fake_smfi_macro(ctx, "i", "4XyZ2");
	mail("<s@sender.example>");
	cr_expect_eq(rcpt("<a@secure.example>"), SMFIS_CONTINUE);
	cr_expect_eq(rcpt("<b@bogus.example>"), SMFIS_TEMPFAIL);
	cr_expect_eq(nmail_lines, 2, "one line per decision");
	l = mail_line("4XyZ2: decision: door=milter session=");
	cr_assert_not_null(l, "%s", mail_lines[0]);
	cr_expect_not_null(strstr(l, " to=<a@secure.example> domain=secure.example verdict=require "
				     "level=dane reason=dane "), "%s", l);
	cr_expect_not_null(strstr(l, " action=continue cached="), "%s", l);
	cr_expect_null(strstr(l, " reply="), "%s", l);
	cr_expect_not_null(mail_line("4XyZ2: defer: "), "the deferral keeps its own line");
	msg_set_capture(NULL);
}
