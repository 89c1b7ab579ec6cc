/*
 * fuzz_smime_ar.c - the Authentication-Results side of the S/MIME check
 * (smime/smime_ar.c) against hostile header text:
 *   - smime_ar_is_ours() over any incoming field value (comments, quoted
 *     pairs, unclosed parentheses) never reads past the end, and agrees
 *     with itself on a value with leading white space added;
 *   - smime_ar_value() with every string of the report taken from the
 *     input (as a message would supply them: reason, From:, issuer)
 *     yields a field that is printable ASCII apart from its "\n\t" folds,
 *     every line after the first starting with a tab, and quoted strings
 *     closed; smime_report_json() always yields an object.
 * Input: the bytes up to the first NUL are the text.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "smime.h"

static void
check_field(const char *v)
{
	int quoted = 0;

	for (const char *p = v; *p; p++) {
		if (*p == '\n') {
			FUZZ_CHECK(p[1] == '\t');
			FUZZ_CHECK(!quoted);
			continue;
		}
		FUZZ_CHECK(*p == '\t' || (*p >= 0x20 && *p < 0x7f));
		if (quoted && *p == '\\') {
			FUZZ_CHECK(p[1] != 0);
			p++;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
	}
	FUZZ_CHECK(!quoted);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *sp = malloc(size + 3);
	struct smime_report rep;
	json_t *j;
	char *v;

	if (s == NULL || sp == NULL) {
		free(s);
		free(sp);
		return 0;
	}
	memcpy(s, data, size);
	s[size] = 0;
	sp[0] = ' ';
	sp[1] = '\t';
	memcpy(sp + 2, s, size + 1);
	FUZZ_CHECK(smime_ar_is_ours(s, "mx.test") == smime_ar_is_ours(sp, "mx.test"));
	memset(&rep, 0, sizeof(rep));
	rep.result = (enum smime_result)(size % 6);
	rep.reason = s;
	rep.from = s;
	rep.issuer = s;
	rep.part = size % 2 ? s : NULL;
	v = smime_ar_value("mx.test", &rep);
	FUZZ_CHECK(v != NULL && strncmp(v, "mx.test;\n\tsmime=", 16) == 0);
	check_field(v);
	free(v);
	j = smime_report_json(&rep);
	FUZZ_CHECK(json_is_object(j));
	json_decref(j);
	free(s);
	free(sp);
	return 0;
}
