/*
 * fuzz_rcpt.c - libFuzzer target: the RCPT argument an MTA hands over
 * (lib/rcpt.h rcpt_parse), as Postfix/libmilter and Exim pass it.
 *
 * Input: any bytes, seen as the C string up to the first NUL (that is all
 * an MTA can hand over).
 * Properties checked (abort = bug in danepol):
 *   - why is set exactly when the kind is RCPT_INVALID;
 *   - RCPT_DOMAIN: the domain is canonical - it fits DNSNAME_MAX and
 *     dnsname_normalize() of it succeeds and gives it back unchanged;
 *   - RCPT_LITERAL: dnsname_is_address_literal() accepts the domain;
 *   - RCPT_LOCAL / RCPT_INVALID: the domain is empty;
 *   - parsing is deterministic (a second parse gives the same result).
 */
#include "config.h"

#include <string.h>

#include "dnsname.h"
#include "fuzz.h"
#include "rcpt.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *arg = fuzz_cstr(data, size);
	char canon[DNSNAME_MAX];
	const char *why;
	struct rcpt r, r2;

	rcpt_parse(arg, &r);
	FUZZ_CHECK((r.why != NULL) == (r.kind == RCPT_INVALID));
	FUZZ_CHECK(strnlen(r.domain, sizeof(r.domain)) < sizeof(r.domain));
	switch (r.kind) {
	case RCPT_DOMAIN:
		FUZZ_CHECK(r.domain[0] != 0);
		FUZZ_CHECK(dnsname_normalize(r.domain, 0, canon, &why) == 0);
		FUZZ_CHECK(strcmp(canon, r.domain) == 0);
		break;
	case RCPT_LITERAL:
		FUZZ_CHECK(dnsname_is_address_literal(r.domain) == 1);
		break;
	case RCPT_LOCAL:
	case RCPT_INVALID:
		FUZZ_CHECK(r.domain[0] == 0);
		break;
	}
	rcpt_parse(arg, &r2);
	FUZZ_CHECK(r2.kind == r.kind && strcmp(r2.domain, r.domain) == 0);
	free(arg);
	return 0;
}
