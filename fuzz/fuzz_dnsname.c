/*
 * fuzz_dnsname.c - libFuzzer target: domain names from outside
 * (lib/dnsname.h): dnsname_normalize() in both underscore modes,
 * dnsname_is_address_literal(), and dnsname_from_wire() on the same bytes
 * read as RDATA holding a sequence of wire-format names.
 *
 * Input: any bytes. As text: the C string up to the first NUL. As wire
 * data: all bytes (NULs included).
 * Properties checked (abort = bug in danepol):
 *   - a successful normalisation gives a canonical name: shorter than
 *     DNSNAME_MAX, no upper case, no trailing dot, no '_' unless allowed,
 *     and normalising it again gives it back (idempotent); a failure
 *     sets a reason;
 *   - what is accepted without '_' is also accepted with it, identically;
 *   - dnsname_equal() holds between the canonical name and its input
 *     when the input is plain lower-case ASCII;
 *   - dnsname_from_wire() never reads outside the RDATA, moves *off
 *     forward within it on success, and what it decodes is lower-case
 *     LDH/'_' labels of 1..63 octets, shorter than DNSNAME_MAX.
 */
#include "config.h"

#include <string.h>

#include "dnsname.h"
#include "fuzz.h"

static void
check_canonical(const char *out, int underscore)
{
	char again[DNSNAME_MAX];
	const char *why = NULL;
	size_t n = strnlen(out, DNSNAME_MAX);

	FUZZ_CHECK(n < DNSNAME_MAX);
	FUZZ_CHECK(n == 0 || out[n - 1] != '.');
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(!(out[i] >= 'A' && out[i] <= 'Z'));
		FUZZ_CHECK(underscore || out[i] != '_');
	}
	if (n == 0)
		return;		/* the root: "" does not normalise again */
	FUZZ_CHECK(dnsname_normalize(out, underscore, again, &why) == 0);
	FUZZ_CHECK(strcmp(again, out) == 0);
}

/*
 * A decoded wire name: lower-case LDH and '_' labels of 1..63 octets,
 * shorter than DNSNAME_MAX. (Not necessarily what dnsname_normalize()
 * accepts: it also refuses an all-numeric top-level label, which
 * dnsname_from_wire() lets through.)
 */
static void
check_wire_name(const char *out)
{
	size_t n = strnlen(out, DNSNAME_MAX), label = 0;

	FUZZ_CHECK(n < DNSNAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = out[i];

		if (c == '.') {
			FUZZ_CHECK(label > 0);
			label = 0;
			continue;
		}
		FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_');
		FUZZ_CHECK(++label <= 63);
	}
	FUZZ_CHECK(n == 0 || label > 0);
}

static void
fuzz_text(const char *s)
{
	char out0[DNSNAME_MAX], out1[DNSNAME_MAX];
	const char *why0 = NULL, *why1 = NULL;
	int r0 = dnsname_normalize(s, 0, out0, &why0);
	int r1 = dnsname_normalize(s, 1, out1, &why1);
	int plain = 1;

	FUZZ_CHECK(r0 == 0 || (r0 == -1 && why0 != NULL));
	FUZZ_CHECK(r1 == 0 || (r1 == -1 && why1 != NULL));
	if (r0 == 0) {
		check_canonical(out0, 0);
		FUZZ_CHECK(r1 == 0 && strcmp(out0, out1) == 0);
	}
	if (r1 == 0)
		check_canonical(out1, 1);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p >= 0x80 || (*p >= 'A' && *p <= 'Z'))
			plain = 0;
	if (r1 == 0 && plain && out1[0] != 0)
		FUZZ_CHECK(dnsname_equal(out1, s));
	(void)dnsname_is_address_literal(s);
}

static void
fuzz_wire(const uint8_t *data, size_t size)
{
	char out[DNSNAME_MAX];
	size_t off = 0;
	/* a private copy: ASan then sees any read past the RDATA */
	uint8_t *rd = malloc(size ? size : 1);

	if (rd == NULL)
		abort();
	memcpy(rd, data, size);
	while (off < size) {
		size_t before = off;

		if (dnsname_from_wire(rd, size, &off, out) < 0)
			break;
		FUZZ_CHECK(off > before && off <= size);
		check_wire_name(out);
	}
	free(rd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);

	fuzz_text(s);
	fuzz_wire(data, size);
	free(s);
	return 0;
}
