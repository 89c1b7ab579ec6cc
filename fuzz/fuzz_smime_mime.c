/*
 * fuzz_smime_mime.c - libFuzzer target: the MIME walk of S/MIME
 * (smime/smime_mime.h smime_mime_parse, smime_mime_from_addr,
 * smime_mime_clear).
 *
 * Input: a whole message (headers, empty line, body; any bytes), parsed
 * within small limits: depth 8, 100 parts, 1 MB.
 * Properties checked (abort = bug in danepol):
 *   - -1 comes with a reason (printable ASCII, one line) and a zeroed
 *     struct; 0 comes with no reason;
 *   - on success: parts_seen <= 100, depth_seen <= 8; the part number is
 *     "" or dotted numbers; NONE has no content and no cms; DETACHED has
 *     content in canonical CRLF form (no bare LF) and a cms buffer;
 *     OPAQUE has a cms buffer and no content; the part number of the
 *     signed entity has at most depth_seen components;
 *   - from and from_why: exactly one is set; from is at most 254 octets,
 *     contains one '@' outside quotes at least, and smime_mime_from_addr()
 *     of it gives it back unchanged (an addr-spec is its own address);
 *   - smime_mime_clear() leaves a zeroed struct (and twice is harmless).
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "smime_mime.h"

static void
check_why(const char *why)
{
	FUZZ_CHECK(why != NULL && *why != 0);
	for (const char *p = why; *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
}

static void
check_found(const struct smime_mime *m)
{
	unsigned dots = 0;

	FUZZ_CHECK(m->parts_seen >= 1 && m->parts_seen <= 100);
	FUZZ_CHECK(m->depth_seen <= 8);
	FUZZ_CHECK(memchr(m->part, 0, sizeof(m->part)) != NULL);
	for (const char *p = m->part; *p; p++) {
		FUZZ_CHECK((*p >= '0' && *p <= '9') || *p == '.');
		dots += *p == '.';
	}
	if (m->part[0] != 0)
		FUZZ_CHECK(dots + 1 <= m->depth_seen);
	switch (m->kind) {
	case SMIME_MIME_NONE:
		FUZZ_CHECK(m->content == NULL && m->content_len == 0);
		FUZZ_CHECK(m->cms == NULL && m->cms_len == 0);
		break;
	case SMIME_MIME_DETACHED:
		FUZZ_CHECK(m->content != NULL && m->cms != NULL);
		FUZZ_CHECK(m->content[m->content_len] == 0);
		for (size_t i = 0; i < m->content_len; i++)
			if (m->content[i] == '\n')
				FUZZ_CHECK(i > 0 && m->content[i - 1] == '\r');
		break;
	case SMIME_MIME_OPAQUE:
		FUZZ_CHECK(m->content == NULL && m->cms != NULL);
		break;
	default:
		FUZZ_CHECK(0);
	}
}

static void
check_from(const struct smime_mime *m)
{
	const char *why = NULL;
	char *again;

	FUZZ_CHECK((m->from == NULL) != (m->from_why == NULL));
	if (m->from == NULL) {
		check_why(m->from_why);
		return;
	}
	FUZZ_CHECK(strlen(m->from) <= 254 && strchr(m->from, '@') != NULL);
	again = smime_mime_from_addr(m->from, strlen(m->from), &why);
	FUZZ_CHECK(again != NULL && strcmp(again, m->from) == 0);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy: ASan then sees any read past the input */
	char *d = malloc(size ? size : 1);
	struct smime_limits lim = { .max_message = 1024 * 1024, .max_depth = 8, .max_parts = 100 };
	struct smime_mime m, zero;
	char *why = NULL;

	if (d == NULL)
		abort();
	memcpy(d, data, size);
	memset(&zero, 0, sizeof(zero));
	if (smime_mime_parse(d, size, &lim, &m, &why) < 0) {
		check_why(why);
		FUZZ_CHECK(memcmp(&m, &zero, sizeof(m)) == 0);
		free(why);
		goto out;
	}
	FUZZ_CHECK(why == NULL);
	check_found(&m);
	check_from(&m);
	smime_mime_clear(&m);
	FUZZ_CHECK(memcmp(&m, &zero, sizeof(m)) == 0);
	smime_mime_clear(&m);
out:
	free(d);
	return 0;
}
