/*
 * test_milter_smime.c - the milter's side of the inbound S/MIME check
 * (milter/milter_smime.c through milter.c's callbacks, with the fake
 * SMFICTX of fake_smfi.h): negotiation asks for the content only when
 * smime_listeners is set; only listed listeners are kept and checked;
 * the Authentication-Results field is inserted at the top, forged ones of
 * our authserv-id removed (others kept); a message over
 * smime_max_message is not kept (body skipped) and gets neutral; the
 * "smime" audit line. Signed mail itself is checked end to end in
 * tests/danepol/smime.sh and tests/e2e/smime_postfix.sh.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon_fixture.h"
#include "fake_smfi.h"
#include "milter.h"

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

TestSuite(milter_smime, .init = setup, .fini = teardown, .timeout = 60);

#define ALL_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST | SMFIF_CHGBODY)

static void
negotiate(unsigned long *f0, unsigned long *f1)
{
	unsigned long f2, f3;

	cr_assert_eq(desc->xxfi_negotiate(ctx, ALL_ACTIONS, ~0UL, 0, 0, f0, f1, &f2, &f3),
	    SMFIS_CONTINUE);
}

/* negotiate, connect as listener daemon, MAIL FROM */
static void
start(const char *daemon)
{
	unsigned long f0, f1;
	struct sockaddr_in sin;
	char *argv[] = { "<a@sender.example>", NULL };

	negotiate(&f0, &f1);
	fake_smfi_macro(ctx, "{daemon_name}", daemon);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	cr_assert_eq(desc->xxfi_connect(ctx, "client.example", (_SOCK_ADDR *)&sin), SMFIS_CONTINUE);
	fake_smfi_macro(ctx, "i", "4QID1");
	cr_assert_eq(desc->xxfi_envfrom(ctx, argv), SMFIS_CONTINUE);
}

static sfsistat
header(const char *name, const char *value)
{
	return desc->xxfi_header(ctx, (char *)name, (char *)value);
}

static sfsistat
body(const char *text)
{
	return desc->xxfi_body(ctx, (unsigned char *)text, strlen(text));
}

Test(milter_smime, off_by_default_asks_for_no_content)
{
	unsigned long f0, f1;

	dfx_install("");
	negotiate(&f0, &f1);
	cr_expect_eq(f0, (unsigned long)SMFIF_SETSYMLIST, "no header changes: %#lx", f0);
	cr_expect_eq(f1 & (SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY),
	    (unsigned long)(SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY), "%#lx", f1);
}

Test(milter_smime, configured_asks_for_content_and_header_changes)
{
	unsigned long f0, f1;

	dfx_install("smime_listeners = inbound\n");
	negotiate(&f0, &f1);
	cr_expect_eq(f0, (unsigned long)(SMFIF_SETSYMLIST | SMFIF_ADDHDRS | SMFIF_CHGHDRS));
	cr_expect_eq(f1 & (SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY), 0, "%#lx", f1);
	cr_expect(f1 & SMFIP_SKIP, "skip asked for: %#lx", f1);
}

Test(milter_smime, other_listener_is_not_checked)
{
	dfx_install("smime_listeners = inbound\n");
	start("submission");
	cr_expect_eq(header("From", "a@sender.example"), SMFIS_CONTINUE);
	desc->xxfi_eoh(ctx);
	cr_expect_eq(body("hello\r\n"), SMFIS_SKIP, "the body of an unchecked listener is skipped");
	cr_expect_eq(desc->xxfi_eom(ctx), SMFIS_CONTINUE);
	cr_expect_str_eq(fake_smfi_edits(ctx), "");
	cr_expect_eq(dfx_audit_count("smime"), 0);
}

Test(milter_smime, unsigned_mail_gets_none_and_forged_fields_go)
{
	json_t *j;

	dfx_install("smime_listeners = inbound mx-in\nsmime_authserv_id = mx.test\n");
	start("mx-in");
	header("Authentication-Results", "other.example; spf=pass");
	header("Authentication-Results", "mx.test; smime=pass (forged)");
	header("Authentication-Results", " (comment) MX.TEST ;\n\tsmime=pass");
	header("From", "Alice <alice@sender.example>");
	header("Subject", "hi");
	desc->xxfi_eoh(ctx);
	cr_expect_eq(body("plain text\r\n"), SMFIS_CONTINUE);
	cr_expect_eq(desc->xxfi_eom(ctx), SMFIS_CONTINUE);
	cr_expect_str_eq(fake_smfi_edits(ctx),
	    "chg Authentication-Results 3\n"
	    "chg Authentication-Results 2\n"
	    "ins 0 Authentication-Results: mx.test;\n\tsmime=none reason=\"no S/MIME signature\"\n");
	j = dfx_audit_last("smime");
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(j, "action")), "continue");
	cr_expect_str_eq(json_string_value(json_object_get(j, "queue_id")), "4QID1");
	cr_expect_eq(json_integer_value(json_object_get(j, "removed")), 2);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "smime"), "result")),
	    "none");
	json_decref(j);
}

Test(milter_smime, over_the_size_bound_is_not_kept)
{
	char big[1500];
	json_t *j;

	dfx_install("smime_listeners = inbound\nsmime_max_message = 1024\n"
		    "smime_authserv_id = mx.test\n");
	start("inbound");
	header("From", "a@sender.example");
	header("Content-Type", "application/pkcs7-mime; smime-type=signed-data");
	desc->xxfi_eoh(ctx);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	cr_expect_eq(body(big), SMFIS_SKIP, "past smime_max_message the body is skipped");
	cr_expect_eq(desc->xxfi_eom(ctx), SMFIS_CONTINUE);
	j = dfx_audit_last("smime");
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "smime"), "result")),
	    "neutral");
	cr_expect(strstr(json_string_value(json_object_get(json_object_get(j, "smime"), "reason")),
		      "over smime_max_message") != NULL);
	cr_expect(strstr(fake_smfi_edits(ctx), "smime=neutral") != NULL, "%s", fake_smfi_edits(ctx));
	json_decref(j);
}

Test(milter_smime, broken_mime_is_permerror_not_a_crash)
{
	json_t *j;

	dfx_install("smime_listeners = inbound\nsmime_authserv_id = mx.test\n");
	start("inbound");
	header("From", "a@sender.example");
	header("Content-Type", "multipart/signed; protocol=\"application/pkcs7-signature\"; "
			       "boundary=\"b1\"");
	desc->xxfi_eoh(ctx);
	body("--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1\r\n"
	     "Content-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	     "!!!not base64!!!\r\n--b1--\r\n");
	cr_expect_eq(desc->xxfi_eom(ctx), SMFIS_CONTINUE);
	j = dfx_audit_last("smime");
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "smime"), "result")),
	    "permerror");
	json_decref(j);
}
