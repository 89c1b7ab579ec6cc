/*
 * test_editdist.c - the edit distance behind "did you mean" hints:
 * insertions, deletions, substitutions, swaps, case folding, the length
 * bound, and the closest word (ties and far words suggest nothing).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "editdist.h"

Test(editdist, distances)
{
	cr_expect_eq(editdist("", ""), 0);
	cr_expect_eq(editdist("abc", "abc"), 0);
	cr_expect_eq(editdist("", "abc"), 3);
	cr_expect_eq(editdist("abc", ""), 3);
	cr_expect_eq(editdist("policy_tabel", "policy_table"), 1, "a swap costs one");
	cr_expect_eq(editdist("policy_tble", "policy_table"), 1);
	cr_expect_eq(editdist("policy_tablee", "policy_table"), 1);
	cr_expect_eq(editdist("policy_tabla", "policy_table"), 1);
	cr_expect_eq(editdist("Audit_Log", "audit_log"), 0, "ASCII case folded");
	cr_expect_eq(editdist("kitten", "sitting"), 3);
	cr_expect_eq(editdist("ca", "abc"), 3, "optimal string alignment, not full Damerau");
}

Test(editdist, bound)
{
	char longw[EDITDIST_MAX + 2];

	memset(longw, 'a', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = 0;
	cr_expect_eq(editdist(longw, "a"), EDITDIST_MAX + 1);
	longw[EDITDIST_MAX] = 0;
	cr_expect_eq(editdist(longw, longw), 0, "EDITDIST_MAX bytes still compared");
}

Test(editdist, closest)
{
	static const char *const w[] = { "audit_log", "audit_sync", "audit_only", "probe",
		"probe_defer" };
	static const char *const t[] = { "abc1", "abc2" };
	size_t n = sizeof(w) / sizeof(w[0]);

	cr_expect_str_eq(editdist_closest("audit_logg", w, n, 2), "audit_log");
	cr_expect_str_eq(editdist_closest("prboe", w, n, 2), "probe");
	cr_expect_null(editdist_closest("zzzzzz", w, n, 2), "nothing close");
	cr_expect_null(editdist_closest("audit_xxxx", w, n, 2), "too far");
	cr_expect_str_eq(editdist_closest("audit_", w, n, 3), "audit_log");
	cr_expect_null(editdist_closest("audit_", w, n, 2), "beyond max_dist");
	cr_expect_null(editdist_closest("abc", t, 2, 2), "a tie suggests nothing");
	cr_expect_null(editdist_closest("x", w, 0, 2));
}
