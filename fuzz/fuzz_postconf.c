/*
 * fuzz_postconf.c - libFuzzer target: the output of `postconf -h` that
 * danepol selfcheck reads for the certificate files Postfix serves
 * (own/selfcheck.h selfcheck_postconf_parse).
 *
 * Input: the output's octets, any length (NULs, control bytes, long
 * lines, many words).
 * Properties checked (abort = bug in danepol):
 *   - at most max names, each non-empty, without blank, comma or control
 *     byte, and no two equal;
 *   - every name is a word of the input;
 *   - a first line with a word yields only words of the first line.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "selfcheck.h"

#define MAXN 8

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *copy = malloc(size + 1), *paths[MAXN + 1] = { 0 };
	char *first_eol;
	size_t n, first_len;

	if (in == NULL || copy == NULL)
		abort();
	memcpy(in, data, size);
	in[size] = 0;
	memcpy(copy, in, size + 1);
	first_eol = strchr(copy, '\n');
	first_len = first_eol ? (size_t)(first_eol - copy) : strlen(copy);
	n = selfcheck_postconf_parse(in, paths, MAXN);
	FUZZ_CHECK(n <= MAXN);
	FUZZ_CHECK(paths[MAXN] == NULL);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(paths[i] != NULL && *paths[i] != 0);
		for (const unsigned char *c = (const unsigned char *)paths[i]; *c; c++)
			FUZZ_CHECK(*c > 0x20 && *c != 0x7f && *c != ',');
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(paths[i], paths[j]) != 0);
		FUZZ_CHECK(strstr(copy, paths[i]) != NULL);
	}
	/* a first line with a word: every name comes from it */
	if (first_eol != NULL && strspn(copy, " \t\r,") < first_len) {
		*first_eol = 0;
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(strstr(copy, paths[i]) != NULL);
	}
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(in);
	free(copy);
	return 0;
}
