/*
 * fuzz_tlsa.c - libFuzzer target: TLSA RDATA from DNS (dns/tlsa.h
 * tlsa_parse, tlsa_to_string, the mnemonic helpers).
 *
 * Input: the RDATA octets (usage, selector, matching type, association
 * data), any length.
 * Properties checked (abort = bug in danepol):
 *   - fewer than 3 octets: -1 and a zeroed record; otherwise 0 with the
 *     three fields and the data copied exactly;
 *   - usable exactly when unusable_why is NULL; a usable record has usage
 *     2 or 3, selector 0 or 1, matching type 0..2 and, for digests, the
 *     digest's length (32 or 64 octets);
 *   - tlsa_to_string() is "U S M HEX" with 2 upper-case hex digits per
 *     octet ("-" for no data) and decodes back to the same octets;
 *   - tlsa_rr_clear() leaves a zeroed record (and twice is harmless).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "tlsa.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
check_string(const struct tlsa_rr *rr)
{
	char *s = tlsa_to_string(rr);
	char head[32];
	const char *hex;
	size_t hlen;

	FUZZ_CHECK(s != NULL);
	snprintf(head, sizeof(head), "%u %u %u ", rr->usage, rr->selector, rr->mtype);
	FUZZ_CHECK(strncmp(s, head, strlen(head)) == 0);
	hex = s + strlen(head);
	hlen = strlen(hex);
	if (rr->len == 0) {
		FUZZ_CHECK(strcmp(hex, "-") == 0);
	} else {
		FUZZ_CHECK(hlen == 2 * rr->len);
		for (size_t i = 0; i < rr->len; i++) {
			int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

			FUZZ_CHECK(hi >= 0 && lo >= 0);
			FUZZ_CHECK((uint8_t)(hi << 4 | lo) == rr->data[i]);
		}
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy: ASan then sees any read past the RDATA */
	uint8_t *rd = malloc(size ? size : 1);
	struct tlsa_rr rr;

	if (rd == NULL)
		abort();
	memcpy(rd, data, size);
	if (tlsa_parse(rd, size, &rr) < 0) {
		FUZZ_CHECK(size < 3);
		FUZZ_CHECK(rr.data == NULL && rr.len == 0 && !rr.usable);
		goto out;
	}
	FUZZ_CHECK(size >= 3);
	FUZZ_CHECK(rr.usage == rd[0] && rr.selector == rd[1] && rr.mtype == rd[2]);
	FUZZ_CHECK(rr.len == size - 3);
	FUZZ_CHECK(rr.len == 0 ? rr.data == NULL : memcmp(rr.data, rd + 3, rr.len) == 0);
	FUZZ_CHECK(rr.usable == (rr.unusable_why == NULL));
	if (rr.usable) {
		FUZZ_CHECK(rr.usage == TLSA_DANE_TA || rr.usage == TLSA_DANE_EE);
		FUZZ_CHECK(rr.selector <= TLSA_SEL_SPKI);
		FUZZ_CHECK(rr.mtype <= TLSA_MT_SHA512);
		FUZZ_CHECK(rr.mtype != TLSA_MT_SHA256 || rr.len == 32);
		FUZZ_CHECK(rr.mtype != TLSA_MT_SHA512 || rr.len == 64);
		FUZZ_CHECK(rr.mtype != TLSA_MT_FULL || rr.len > 0);
	}
	check_string(&rr);
	FUZZ_CHECK(tlsa_usage_name(rr.usage) != NULL);
	FUZZ_CHECK(tlsa_selector_name(rr.selector) != NULL);
	FUZZ_CHECK(tlsa_mtype_name(rr.mtype) != NULL);
	tlsa_rr_clear(&rr);
	FUZZ_CHECK(rr.data == NULL && rr.len == 0);
	tlsa_rr_clear(&rr);
out:
	free(rd);
	return 0;
}
