/*
 * fuzz_sts_txt.c - libFuzzer target: the TXT answers at _mta-sts.<domain>
 * (sts/sts_txt.h sts_txt_text, sts_txt_select).
 *
 * Input: up to 4 TXT RDATA, each as a 2-octet big-endian length and its
 * octets (wire-format character-strings, possibly broken).
 * Properties checked (abort = bug in danepol):
 *   - sts_txt_text() output is NUL-terminated within the buffer and has
 *     no NUL inside;
 *   - sts_txt_select() returns 1 with an id of 1..STS_ID_MAX letters and
 *     digits and no reason, or 0 with a reason.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "sts_txt.h"

#define NREC 4

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *texts[NREC] = { 0 }, id[STS_ID_MAX + 1];
	const char *why = NULL;
	size_t n = 0, off = 0;

	while (n < NREC && off + 2 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		uint8_t *r;

		off += 2;
		if (len > size - off)
			len = size - off;
		r = malloc(len ? len : 1);
		texts[n] = malloc(512);
		if (r == NULL || texts[n] == NULL)
			abort();
		memcpy(r, data + off, len);
		off += len;
		if (sts_txt_text(r, len, texts[n], 512) == 0) {
			FUZZ_CHECK(memchr(texts[n], 0, 512) != NULL);
			n++;
		} else {
			free(texts[n]);
			texts[n] = NULL;
		}
		free(r);
	}
	if (sts_txt_select(texts, n, id, &why) == 1) {
		size_t l = strlen(id);

		FUZZ_CHECK(l >= 1 && l <= STS_ID_MAX);
		for (size_t i = 0; i < l; i++)
			FUZZ_CHECK((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
				   (id[i] >= 'A' && id[i] <= 'Z'));
	} else {
		FUZZ_CHECK(why != NULL && *why != 0);
	}
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	return 0;
}
