/*
 * fuzz_reply.c - libFuzzer target: the STARTTLS probe's SMTP reply parser
 * (probe/probe_int.h probe_smtp_reply_parse, probe_smtp_reply_has_ext,
 * probe_smtp_reply_free), which reads what a remote SMTP server sends: the
 * banner, the EHLO reply, the answer to STARTTLS.
 *
 * Input: the bytes the server sends, as read_reply() in probe_smtp.c
 * holds them in its buffer. Replies are parsed one after the other from
 * the start (at most 64; pipelined replies stay in the buffer), each from
 * a copy of exactly the remaining bytes, so that ASan sees any read past
 * the end.
 * Properties checked (abort = bug in danepol):
 *   - the result is 1, 0 or -1; on 0 and -1 nothing is kept (no lines)
 *     and -1 comes with a reason;
 *   - on 1: 0 < used <= len, the reply ends with LF at used - 1, and
 *     used <= PROBE_REPLY_MAX; the code is the three digits the input
 *     starts with, 200..599; there are as many lines as LFs in
 *     p[0..used), at most PROBE_REPLY_LINES, each printable ASCII and no
 *     longer than its raw line; every line but the last has the
 *     separator '-', the last none or ' ';
 *   - the bytes after used change nothing: p[0..used) alone parses to the
 *     same reply; p[0..used - 1) (the final LF missing) and the first
 *     half of it need more input (0), as read_reply() relies on;
 *   - probe_smtp_reply_has_ext() agrees with a plain re-implementation;
 *   - probe_smtp_reply_free() leaves the reply empty and may be called again.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "probe.h"
#include "probe_int.h"

#define MAX_REPLIES 64

/* A copy of p[0..n) in a buffer of exactly n octets (1 when n is 0). */
static char *
exact(const char *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	if (c == NULL)
		abort();
	if (n)
		memcpy(c, p, n);
	return c;
}

/* probe_smtp_reply_parse() on an exact copy of p[0..n). */
static int
parse_copy(const char *p, size_t n, struct probe_reply *r, size_t *used, const char **why)
{
	char *c = exact(p, n);
	int rc;

	*why = NULL;
	rc = probe_smtp_reply_parse(c, n, r, used, why);
	free(c);
	return rc;
}

static int
same_reply(const struct probe_reply *a, const struct probe_reply *b)
{
	if (a->code != b->code || a->nlines != b->nlines)
		return 0;
	for (size_t i = 0; i < a->nlines; i++)
		if (strcmp(a->lines[i], b->lines[i]) != 0)
			return 0;
	return 1;
}

/* probe_smtp_reply_has_ext(), written plainly. */
static int
has_ext(const struct probe_reply *r, const char *kw)
{
	size_t n = strlen(kw);

	for (size_t i = 1; i < r->nlines; i++) {
		const char *l = r->lines[i];

		if (strlen(l) >= n && strncasecmp(l, kw, n) == 0 && (l[n] == 0 || l[n] == ' '))
			return 1;
	}
	return 0;
}

/* The properties of a complete reply r parsed from p[0..len), used octets. */
static void
check_reply(const char *p, size_t len, const struct probe_reply *r, size_t used)
{
	static const char *const kws[] = { "STARTTLS", "SIZE", "PIPELINING", "8BITMIME", "" };
	struct probe_reply again, none;
	const char *why;
	size_t u2, lf = 0, start = 0, li = 0;

	FUZZ_CHECK(used > 0 && used <= len && used <= PROBE_REPLY_MAX);
	FUZZ_CHECK(p[used - 1] == '\n');
	FUZZ_CHECK(r->code >= 200 && r->code <= 599);
	FUZZ_CHECK(isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]));
	FUZZ_CHECK(r->code == (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
	for (size_t i = 0; i < used; i++)
		lf += p[i] == '\n';
	FUZZ_CHECK(r->nlines == lf && r->nlines >= 1 && r->nlines <= PROBE_REPLY_LINES);
	/* each raw line: "NNN", "NNN-text" or "NNN text", CR LF or LF */
	for (size_t i = 0; i < used; i++) {
		size_t raw, tl;

		if (p[i] != '\n')
			continue;
		raw = i - start;
		FUZZ_CHECK(raw + 1 <= PROBE_LINE_MAX);
		if (raw > 0 && p[i - 1] == '\r')
			raw--;
		FUZZ_CHECK(raw >= 3 && memcmp(p + start, p, 3) == 0);
		if (li + 1 < r->nlines)
			FUZZ_CHECK(raw > 3 && p[start + 3] == '-');
		else
			FUZZ_CHECK(raw == 3 || p[start + 3] == ' ');
		tl = strlen(r->lines[li]);
		FUZZ_CHECK(tl == (raw > 3 ? raw - 4 : 0));
		for (size_t k = 0; k < tl; k++)
			FUZZ_CHECK(r->lines[li][k] >= 0x20 && r->lines[li][k] < 0x7f);
		li++;
		start = i + 1;
	}
	FUZZ_CHECK(li == r->nlines);
	/* what follows the reply changes nothing */
	FUZZ_CHECK(parse_copy(p, used, &again, &u2, &why) == 1);
	FUZZ_CHECK(u2 == used && same_reply(r, &again));
	probe_smtp_reply_free(&again);
	/* a reply cut short needs more input */
	FUZZ_CHECK(parse_copy(p, used - 1, &none, &u2, &why) == 0);
	FUZZ_CHECK(none.nlines == 0 && none.lines == NULL);
	FUZZ_CHECK(parse_copy(p, (used - 1) / 2, &none, &u2, &why) == 0);
	for (size_t k = 0; k < sizeof(kws) / sizeof(kws[0]); k++)
		FUZZ_CHECK(probe_smtp_reply_has_ext(r, kws[k]) == has_ext(r, kws[k]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t pos = 0;

	for (int n = 0; n < MAX_REPLIES && pos <= size; n++) {
		struct probe_reply r;
		const char *why = NULL;
		size_t used = 0;
		char *c = exact(p + pos, size - pos);
		int rc = probe_smtp_reply_parse(c, size - pos, &r, &used, &why);

		FUZZ_CHECK(rc == 1 || rc == 0 || rc == -1);
		if (rc != 1) {
			FUZZ_CHECK(r.nlines == 0 && r.lines == NULL);
			FUZZ_CHECK(rc == 0 || why != NULL);
			free(c);
			break;
		}
		check_reply(c, size - pos, &r, used);
		free(c);
		probe_smtp_reply_free(&r);
		FUZZ_CHECK(r.nlines == 0 && r.lines == NULL);
		probe_smtp_reply_free(&r);
		pos += used;
	}
	return 0;
}
