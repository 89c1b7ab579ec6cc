/*
 * test_smime_ar.c - the Authentication-Results field of the S/MIME check
 * (smime/smime_ar.c): the exact field for a full report, the token /
 * quoted-string choice, escaping and replacement of what a message puts
 * into the report (quotes, backslashes, CR/LF, 8-bit bytes), the length
 * cut, the authserv-id test against forged fields (case, comments, white
 * space, another id that starts alike), and the JSON of a report.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "smime.h"

Test(smime_ar, full_report)
{
	struct smime_report r;
	char *v;

	memset(&r, 0, sizeof(r));
	r.result = SMIME_PASS;
	r.reason = "signer alice@smime.example matches SMIMEA 2 1 1 AB; OCSP good";
	r.signer = "alice@smime.example";
	r.part = "1";
	r.serial = "51";
	r.issuer = "CN=Users CA,O=Example";
	v = smime_ar_value("mx.example.org", &r);
	cr_expect_str_eq(v, "mx.example.org;\n\tsmime=pass reason=\"signer alice@smime.example "
			    "matches SMIMEA 2 1 1 AB; OCSP good\"\n"
			    "\tsmime.smime-identifier=alice@smime.example\n"
			    "\tsmime.smime-part=1\n"
			    "\tsmime.smime-serial=51\n"
			    "\tsmime.smime-issuer=\"CN=Users CA,O=Example\"");
	free(v);
}

Test(smime_ar, hostile_values_are_quoted_and_replaced)
{
	struct smime_report r;
	char big[400], *v;

	memset(&r, 0, sizeof(r));
	r.result = SMIME_FAIL;
	r.reason = "a \"quoted\" \\ back\r\nInjected: header\x01\xc3\xa9";
	r.signer = "x\"@evil.example";
	v = smime_ar_value("mx.test", &r);
	cr_expect_str_eq(v, "mx.test;\n\tsmime=fail reason=\"a \\\"quoted\\\" \\\\ back??Injected: "
			    "header???\"\n\tsmime.smime-identifier=\"x\\\"@evil.example\"");
	free(v);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	r.reason = big;
	r.signer = NULL;
	v = smime_ar_value("mx.test", &r);
	cr_expect(strlen(v) < 260, "cut: %zu", strlen(v));
	cr_expect(strstr(v, "aaa...\"") != NULL, "%s", v);
	free(v);
}

Test(smime_ar, ours_or_not)
{
	cr_expect(smime_ar_is_ours("mx.test; smime=pass", "mx.test"));
	cr_expect(smime_ar_is_ours("MX.Test;smime=pass", "mx.test"));
	cr_expect(smime_ar_is_ours("  (a (nested) comment) mx.test ;\n\tsmime=pass", "mx.test"));
	cr_expect(smime_ar_is_ours("mx.test 1; smime=pass", "mx.test"), "with a version");
	cr_expect(!smime_ar_is_ours("mx.test.evil; smime=pass", "mx.test"));
	cr_expect(!smime_ar_is_ours("other.example; smime=pass (mx.test)", "mx.test"));
	cr_expect(!smime_ar_is_ours("(unclosed mx.test; smime=pass", "mx.test"));
	cr_expect(!smime_ar_is_ours("", "mx.test"));
	cr_expect(!smime_ar_is_ours("mx.test;", ""));
}

Test(smime_ar, json)
{
	struct smime_report r;
	json_t *j;

	memset(&r, 0, sizeof(r));
	r.result = SMIME_TEMPERROR;
	r.reason = "OCSP: \xff bad utf-8";
	r.elapsed_ms = 12;
	j = smime_report_json(&r);
	cr_assert(json_is_object(j));
	cr_expect_str_eq(json_string_value(json_object_get(j, "result")), "temperror");
	cr_expect(json_is_string(json_object_get(j, "reason")), "bad UTF-8 still a string");
	cr_expect(json_is_null(json_object_get(j, "signer")));
	cr_expect_eq(json_integer_value(json_object_get(j, "elapsed_ms")), 12);
	json_decref(j);
}
