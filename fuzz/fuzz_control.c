/*
 * fuzz_control.c - libFuzzer target: the request line of danepold's
 * control socket (milter/proto.h proto_control_parse), cut from the
 * peer's bytes as milter/control.c does: up to the first "\n", else (no
 * line end) all of it up to PROTO_CONTROL_LINE_MAX + 2 octets.
 *
 * Properties checked (abort = bug in danepol):
 *   - QUERY: the line is "query " + DOMAIN (+ one optional "\r"), *arg
 *     is exactly DOMAIN: 1..255 octets, no blank, no control character;
 *   - STATS: the line is "stats" or "stats\r"; *arg is NULL;
 *   - BAD: *arg is NULL and *why is a non-empty printable-ASCII text
 *     (the JSON error reply carries no request bytes);
 *   - a line over PROTO_CONTROL_LINE_MAX octets (a "\r" aside) is BAD;
 *   - the same bytes in a NUL-terminated copy parse the same way (only n
 *     counts, nothing reads past it: ASan checks the exact-size copy).
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "mem.h"
#include "proto.h"

static void
check_line(const char *line, size_t n)
{
	enum proto_control_kind k, k2;
	const char *why = NULL, *why2 = NULL;
	char *arg = NULL, *arg2 = NULL, *copy;
	size_t body = n > 0 && line[n - 1] == '\r' ? n - 1 : n;

	k = proto_control_parse(line, n, &arg, &why);
	switch (k) {
	case PROTO_CONTROL_QUERY:
		FUZZ_CHECK(arg != NULL);
		FUZZ_CHECK(body <= PROTO_CONTROL_LINE_MAX);
		FUZZ_CHECK(body > 6 && memcmp(line, "query ", 6) == 0);
		FUZZ_CHECK(strlen(arg) == body - 6 && memcmp(arg, line + 6, body - 6) == 0);
		FUZZ_CHECK(strlen(arg) >= 1 && strlen(arg) <= 255);
		for (const char *p = arg; *p; p++)
			FUZZ_CHECK(*p != ' ' && (unsigned char)*p >= 0x20 && *p != 0x7f);
		break;
	case PROTO_CONTROL_STATS:
		FUZZ_CHECK(arg == NULL);
		FUZZ_CHECK(body == 5 && memcmp(line, "stats", 5) == 0);
		break;
	case PROTO_CONTROL_BAD:
		FUZZ_CHECK(arg == NULL);
		FUZZ_CHECK(why != NULL && *why != 0);
		for (const char *p = why; *p; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
		break;
	default:
		FUZZ_CHECK(!"unknown kind");
	}
	if (body > PROTO_CONTROL_LINE_MAX)
		FUZZ_CHECK(k == PROTO_CONTROL_BAD);
	copy = xmalloc(n + 1);
	memcpy(copy, line, n);
	copy[n] = 0;
	k2 = proto_control_parse(copy, n, &arg2, &why2);
	FUZZ_CHECK(k2 == k);
	FUZZ_CHECK((arg == NULL) == (arg2 == NULL));
	if (arg)
		FUZZ_CHECK(strcmp(arg, arg2) == 0);
	free(copy);
	free(arg);
	free(arg2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t n = nl ? (size_t)(nl - (const char *)data) : size;
	char *line;

	if (n > PROTO_CONTROL_LINE_MAX + 2)
		n = PROTO_CONTROL_LINE_MAX + 2; /* what control_serve() reads at most */
	line = xmalloc(n ? n : 1);	/* exact size: ASan sees any overread */
	memcpy(line, data, n);
	check_line(line, n);
	free(line);
	return 0;
}
