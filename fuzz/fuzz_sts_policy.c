/*
 * fuzz_sts_policy.c - libFuzzer target: an MTA-STS policy body as the
 * HTTPS fetch returns it (sts/sts_policy.h sts_policy_parse,
 * sts_policy_mx_match, sts_policy_strings, sts_policy_copy).
 *
 * Input: the body's octets, any length (control bytes, NULs, huge lines).
 * Properties checked (abort = bug in danepol):
 *   - -1 comes with a reason and a zeroed policy; 0 without a reason;
 *   - on success: a known mode, max_age <= STS_MAX_AGE_MAX, mx patterns
 *     (at most STS_POLICY_MX_MAX, none only for mode none) that are
 *     printable ASCII, lower case, and match themselves ("*." patterns:
 *     with one label put in front);
 *   - the policy strings are nmx + 3 lines; a copy matches the same.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "sts_policy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *d = malloc(size ? size : 1), *err = NULL, **lines = NULL;
	struct sts_policy p, q, zero;
	size_t n;

	if (d == NULL)
		abort();
	memcpy(d, data, size);
	memset(&zero, 0, sizeof(zero));
	if (sts_policy_parse(d, size, &p, &err) < 0) {
		FUZZ_CHECK(err != NULL && *err != 0);
		FUZZ_CHECK(memcmp(&p, &zero, sizeof(p)) == 0);
		free(err);
		goto out;
	}
	FUZZ_CHECK(err == NULL);
	FUZZ_CHECK(p.mode <= STS_MODE_ENFORCE && p.max_age <= STS_MAX_AGE_MAX);
	FUZZ_CHECK(p.nmx <= STS_POLICY_MX_MAX);
	FUZZ_CHECK(p.nmx > 0 || p.mode == STS_MODE_NONE);
	for (size_t i = 0; i < p.nmx; i++) {
		char host[300];

		for (const char *c = p.mx[i]; *c; c++)
			FUZZ_CHECK(*c > 0x20 && *c < 0x7f && !(*c >= 'A' && *c <= 'Z'));
		if (strncmp(p.mx[i], "*.", 2) == 0)
			snprintf(host, sizeof(host), "x%s", p.mx[i] + 1);
		else
			snprintf(host, sizeof(host), "%s", p.mx[i]);
		FUZZ_CHECK(sts_policy_mx_match(&p, host) == 1);
	}
	n = sts_policy_strings(&p, &lines);
	FUZZ_CHECK(n == p.nmx + 3);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	sts_policy_copy(&q, &p);
	sts_policy_clear(&p);
	for (size_t i = 0; i < q.nmx; i++)
		FUZZ_CHECK(strcmp(q.mx[i], "") != 0);
	sts_policy_clear(&q);
out:
	free(d);
	return 0;
}
