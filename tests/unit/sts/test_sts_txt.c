/*
 * test_sts_txt.c - MTA-STS discovery records (sts/sts_txt.c): TXT RDATA
 * to text, and the choice of the one "v=STSv1;" record and its id.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "sts_txt.h"

static int
sel(const char *a, const char *b, char *id, const char **why)
{
	char *t[2] = { (char *)a, (char *)b };

	return sts_txt_select(t, b ? 2 : 1, id, why);
}

Test(sts_txt, rdata_text)
{
	char out[64];
	static const uint8_t two[] = { 4, 'v', '=', 'S', 'T', 3, 'S', 'v', '1' };
	static const uint8_t shortr[] = { 9, 'v', '=' };
	static const uint8_t nul[] = { 2, 'a', 0 };

	cr_expect_eq(sts_txt_text(two, sizeof(two), out, sizeof(out)), 0);
	cr_expect_str_eq(out, "v=STSv1", "strings are concatenated");
	cr_expect_eq(sts_txt_text(shortr, sizeof(shortr), out, sizeof(out)), -1);
	cr_expect_eq(sts_txt_text(nul, sizeof(nul), out, sizeof(out)), -1);
	cr_expect_eq(sts_txt_text(two, sizeof(two), out, 5), -1, "does not fit");
}

Test(sts_txt, select)
{
	char id[STS_ID_MAX + 1];
	const char *why = NULL;

	cr_expect_eq(sel("v=STSv1; id=20160831085700Z;", NULL, id, &why), 1);
	cr_expect_str_eq(id, "20160831085700Z");
	cr_expect_eq(sel("v=STSv1 ;id=abc ; ext_1.x=val", "v=spf1 -all", id, &why), 1,
	    "blanks, an extension, a foreign record discarded");
	cr_expect_str_eq(id, "abc");
	cr_expect_eq(sel("id=abc; v=STSv1;", NULL, id, &why), 0, "id before v");
	cr_expect(strstr(why, "begins") != NULL);
	cr_expect_eq(sel("v=STSv1; id=a;", "v=STSv1; id=b;", id, &why), 0);
	cr_expect(strstr(why, "more than one") != NULL);
	cr_expect_eq(sel("v=STSv1; x=y", NULL, id, &why), 0);
	cr_expect_str_eq(why, "no id field");
	cr_expect_eq(sel("v=STSv1; id=a; id=b", NULL, id, &why), 0);
	cr_expect_eq(sel("v=STSv1; id=abc-1", NULL, id, &why), 0, "id is alnum only");
	cr_expect_eq(sel("v=STSv1; id=123456789012345678901234567890123", NULL, id, &why), 0,
	    "33 characters");
	cr_expect_eq(sel("v=STSv1; id=12345678901234567890123456789012", NULL, id, &why), 1);
	cr_expect_eq(sel("v=STSv1; id", NULL, id, &why), 0);
	cr_expect_eq(sel("v=STSv1; id=a b", NULL, id, &why), 0);
	cr_expect_eq(sel("v=STSv1;", NULL, id, &why), 0);
	cr_expect_eq(sel("v=STSv10; id=a", NULL, id, &why), 0);
	cr_expect_eq(sel("v=STSv1; id=a; x=\x01", NULL, id, &why), 0);
}
