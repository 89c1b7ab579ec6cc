/*
 * policy_status.c - the reason -> SMTP reply table (see policy_status.h).
 *
 * SUMMARY
 *	One built-in table, status_defaults[], holds for every reason code
 *	the basic reply code, the RFC 3463 enhanced status code, the reply
 *	text and the RFC 8460 result type. doc/status-codes.md is the same
 *	table in prose (tests/unit/policy/test_policy_status.c compares them row by row).
 *	A struct policy_status_table is a copy of it with the operator's
 *	status.<reason> overrides applied; it is immutable once the config
 *	snapshot is built, so threads share it without locks.
 *
 *	policy_status_reply_text() composes the text of one SMTP reply line:
 *	only printable ASCII goes out (every other byte, or whole UTF-8
 *	sequence, becomes '?'), the total stays within REPLY_TEXT_MAX
 *	characters (before '%' doubling) so "451 4.4.3 " + text + CRLF fits
 *	in a 512-octet reply line, and '%' is doubled for smfi_setreply().
 *
 * NOT HERE
 *	Which reason a decision gets (policy_engine.c) or how a verdict maps
 *	to a milter action (the milter).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "policy.h"
#include "policy_status.h"

#define STATUS_TEXT_MAX 200 /* override text, characters */
#define REPLY_TEXT_MAX	400 /* composed reply text, before '%' doubling */
#define ELLIPSIS	"..."

/* THE default table: doc/status-codes.md documents every row. */
static const struct policy_status status_defaults[POLICY_R_COUNT] = {
	/* require */
	[POLICY_R_DANE] = { NULL, NULL, "DANE-authenticated TLS required", NULL },
	[POLICY_R_STS_ENFORCE] = { NULL, NULL,
	    "MTA-STS policy: authenticated TLS to a policy MX host required", NULL },
	/* try */
	[POLICY_R_DANE_PARTIAL] = { NULL, NULL, "DANE for some MX hosts only: opportunistic TLS",
	    NULL },
	[POLICY_R_UNAUTH_TLS] = { NULL, NULL, "TLSA records unusable: TLS without authentication",
	    NULL },
	[POLICY_R_NO_TLSA] = { NULL, NULL, "no TLSA records: opportunistic TLS", NULL },
	[POLICY_R_MX_INSECURE] = { NULL, NULL, "MX records not DNSSEC-signed: opportunistic TLS",
	    NULL },
	[POLICY_R_ADDRESS_INSECURE] = { NULL, NULL,
	    "MX host addresses not DNSSEC-signed: opportunistic TLS", NULL },
	[POLICY_R_ADDRESS_LITERAL] = { NULL, NULL, "address literal: opportunistic TLS", NULL },
	[POLICY_R_LOCAL_POLICY] = { NULL, NULL, "TLS level set by local policy", NULL },
	[POLICY_R_NO_SUCH_DOMAIN] = { NULL, NULL, "domain does not exist", NULL },
	[POLICY_R_STS_TESTING] = { NULL, NULL, "MTA-STS policy in testing mode: opportunistic TLS",
	    NULL },
	/* defer */
	[POLICY_R_MX_LOOKUP_FAILED] = { "451", "4.4.3", "MX lookup failed, try again later", NULL },
	[POLICY_R_MX_BOGUS] = { "450", "4.7.5", "DNSSEC validation of the MX records failed",
	    "dnssec-invalid" },
	[POLICY_R_DNS_TIMEOUT] = { "451", "4.4.3", "DNS lookup timed out, try again later", NULL },
	[POLICY_R_ADDRESS_LOOKUP_FAILED] = { "451", "4.4.3",
	    "MX host address lookup failed, try again later", NULL },
	[POLICY_R_ADDRESS_BOGUS] = { "450", "4.7.5",
	    "DNSSEC validation of the MX host addresses failed", "dnssec-invalid" },
	[POLICY_R_NO_ADDRESS] = { "451", "4.4.4", "no MX host has a usable address", NULL },
	[POLICY_R_TLSA_LOOKUP_FAILED] = { "450", "4.7.5", "TLSA lookup failed", "dnssec-invalid" },
	[POLICY_R_DANE_REQUIRED] = { "450", "4.7.5",
	    "local policy requires DANE, the destination has none", "dane-required" },
	[POLICY_R_TLSA_UNUSABLE] = { "450", "4.7.5",
	    "local policy requires DANE, the TLSA records are unusable", "tlsa-invalid" },
	[POLICY_R_INVALID_DOMAIN] = { "450", "4.1.2", "invalid destination domain", NULL },
	[POLICY_R_INTERNAL_ERROR] = { "451", "4.3.0", "internal error, try again later", NULL },
	[POLICY_R_DANE_AUTH_FAILED] = { "450", "4.7.5",
	    "DANE authentication of every MX host failed", "certificate-not-trusted" },
	[POLICY_R_STS_MX_MISMATCH] = { "450", "4.7.5",
	    "no MX host matches the MTA-STS policy", "validation-failure" },
	/* reject */
	[POLICY_R_NULL_MX] = { "556", "5.1.10", "domain does not accept mail (null MX)", NULL },
};

struct policy_status_table {
	struct policy_status row[POLICY_R_COUNT];
	char *owned[POLICY_R_COUNT][3]; /* reply, enhanced, text of overrides */
};

/** policy_status_table_new - a copy of the defaults; free with _free(). */
struct policy_status_table *
policy_status_table_new(void)
{
	struct policy_status_table *t = xcalloc(1, sizeof(*t));

	memcpy(t->row, status_defaults, sizeof(t->row));
	return t;
}

/** policy_status_table_free - release t and its override strings. NULL is fine. */
void
policy_status_table_free(struct policy_status_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < POLICY_R_COUNT; i++)
		for (size_t j = 0; j < 3; j++)
			free(t->owned[i][j]);
	free(t);
}

/** policy_status_get - row for r; an out-of-range r gets internal-error's row. */
const struct policy_status *
policy_status_get(const struct policy_status_table *t, enum policy_reason r)
{
	if ((unsigned)r >= POLICY_R_COUNT)
		r = POLICY_R_INTERNAL_ERROR;
	return t ? &t->row[r] : &status_defaults[r];
}

/* Reply code: 3 digits, class from the verdict, 2nd digit 0..5, not 421. */
static const char *
check_reply(const char *s, size_t n, enum policy_verdict v)
{
	if (n != 3 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] < '0' ||
	    s[2] > '9')
		return "the reply code must be 3 digits";
	if (v == POLICY_DEFER && s[0] != '4')
		return "class mismatch: a defer reason needs a 4xx reply code";
	if (v == POLICY_REJECT && s[0] != '5')
		return "class mismatch: a reject reason needs a 5xx reply code";
	if (s[1] > '5')
		return "the second digit of a reply code must be 0..5";
	if (memcmp(s, "421", 3) == 0)
		return "421 would close the whole SMTP session";
	return NULL;
}

/* One 1..3 digit number without leading zeros at *p; advances *p. */
static int
enh_number(const char **p, const char *end)
{
	const char *s = *p;

	while (*p < end && **p >= '0' && **p <= '9')
		(*p)++;
	if (*p == s || *p - s > 3)
		return -1;
	if (*s == '0' && *p - s > 1)
		return -2;
	return 0;
}

/* Enhanced code "class.subject.detail" with the reply's class. */
static const char *
check_enhanced(const char *s, size_t n, char cls)
{
	const char *p = s, *end = s + n;
	int rc;

	if (n < 5 || s[1] != '.')
		return "the enhanced status code must be class.subject.detail";
	if (s[0] != cls)
		return "class mismatch: the enhanced status class differs from the reply code's";
	p = s + 2;
	if ((rc = enh_number(&p, end)) == 0 && p < end && *p == '.') {
		p++;
		rc = enh_number(&p, end);
	} else if (rc == 0) {
		rc = -1;
	}
	if (rc == -2)
		return "leading zero in the enhanced status code";
	if (rc < 0 || p != end)
		return "the enhanced status code must be class.subject.detail (1-3 digits each)";
	return NULL;
}

static const char *
check_text(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "missing reply text";
	if (n > STATUS_TEXT_MAX)
		return "reply text longer than 200 characters";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return "reply text must be printable ASCII";
	return NULL;
}

static size_t
token_len(const char *s)
{
	size_t n = 0;

	while (s[n] && s[n] != ' ' && s[n] != '\t')
		n++;
	return n;
}

static const char *
skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Store one override field (owned copy). */
static void
set_owned(struct policy_status_table *t, size_t r, size_t j, char *s, const char **field)
{
	free(t->owned[r][j]);
	t->owned[r][j] = s;
	*field = s;
}

/* Require and try reasons: the value is the text; a leading reply code is refused. */
static int
set_text_only(struct policy_status_table *t, enum policy_reason r, const char *p, size_t rn,
    const char **why)
{
	if (rn == 3 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
	    p[2] <= '9') {
		*why = "class mismatch: require and try reasons take no reply code, only text";
		return -1;
	}
	if ((*why = check_text(p)) != NULL)
		return -1;
	set_owned(t, r, 2, xstrdup(p), &t->row[r].text);
	return 0;
}

/**
 * policy_status_set - override reason_name's row from "REPLY ENHANCED TEXT"
 * (defer and reject reasons) or "TEXT" (require and try reasons, which
 * have no reply). The RFC 8460 type stays. On error the row is unchanged.
 */
int
policy_status_set(struct policy_status_table *t, const char *reason_name, const char *value,
    const char **why)
{
	enum policy_reason r;
	enum policy_verdict v;
	const char *p, *enh, *text;
	size_t rn, en;

	*why = NULL;
	if (reason_name == NULL || policy_reason_parse(reason_name, &r) < 0) {
		*why = "unknown reason";
		return -1;
	}
	v = policy_reason_verdict(r);
	p = skip_blanks(value ? value : "");
	rn = token_len(p);
	if (v == POLICY_REQUIRE || v == POLICY_TRY)
		return set_text_only(t, r, p, rn, why);
	if (rn == 0)
		*why = "missing reply code";
	else if ((*why = check_reply(p, rn, v)) == NULL) {
		enh = skip_blanks(p + rn);
		if ((en = token_len(enh)) == 0)
			*why = "missing enhanced status code";
		else if ((*why = check_enhanced(enh, en, p[0])) == NULL) {
			text = skip_blanks(enh + en);
			if ((*why = check_text(text)) == NULL) {
				set_owned(t, r, 0, xstrndup(p, rn), &t->row[r].reply);
				set_owned(t, r, 1, xstrndup(enh, en), &t->row[r].enhanced);
				set_owned(t, r, 2, xstrdup(text), &t->row[r].text);
			}
		}
	}
	return *why ? -1 : 0;
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t
utf8_seq(const unsigned char *s)
{
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* Append s as printable ASCII (others -> '?'), at most max chars ("..." if cut). */
static void
put_clean(struct buf *b, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = b->len, n = 0, l;

	for (size_t i = 0; u[i]; i += l, n++) {
		l = 1;
		if (n == max) {
			/* cut: the last chars make room for "..." */
			b->len = start + (max > strlen(ELLIPSIS) ? max - strlen(ELLIPSIS) : 0);
			b->s[b->len] = 0;
			buf_puts(b, max >= strlen(ELLIPSIS) ? ELLIPSIS : "");
			return;
		}
		if (u[i] >= 0x20 && u[i] < 0x7f) {
			buf_putc(b, u[i]);
			continue;
		}
		if (u[i] >= 0x80 && (l = utf8_seq(u + i)) == 0)
			l = 1;
		buf_putc(b, '?');
	}
}

/* Characters s takes after put_clean() without a limit. */
static size_t
clean_len(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0, l;

	for (size_t i = 0; u[i]; i += l, n++)
		if (u[i] < 0x80 || (l = utf8_seq(u + i)) == 0)
			l = 1;
	return n;
}

/**
 * policy_status_reply_text - "<text> (<domain>: <why>)" (parts left out
 * when empty), cleaned to printable ASCII, at most REPLY_TEXT_MAX
 * characters (the text gets up to STATUS_TEXT_MAX, the domain and why
 * share the rest, the why yielding first), then '%' doubled. Caller frees.
 */
char *
policy_status_reply_text(const struct policy_status *st, const char *domain, const char *why)
{
	struct buf b, out;
	const char *text = st && st->text ? st->text : "";
	size_t tl, dl, wl, avail;

	domain = domain ? domain : "";
	why = why ? why : "";
	buf_init(&b);
	put_clean(&b, text, STATUS_TEXT_MAX);
	tl = b.len;
	avail = REPLY_TEXT_MAX - tl - strlen(" (: )");
	dl = clean_len(domain);
	wl = clean_len(why);
	if (dl + wl > avail) {
		size_t want_w = wl < avail / 2 ? wl : avail / 2;

		dl = dl < avail - want_w ? dl : avail - want_w;
		wl = avail - dl;
	}
	if (*domain || *why)
		buf_puts(&b, tl ? " (" : "(");
	put_clean(&b, domain, dl);
	if (*domain && *why)
		buf_puts(&b, ": ");
	put_clean(&b, why, wl);
	if (*domain || *why)
		buf_putc(&b, ')');
	buf_init(&out);
	for (size_t i = 0; i < b.len; i++) {
		buf_putc(&out, b.s[i]);
		if (b.s[i] == '%')
			buf_putc(&out, '%');
	}
	buf_free(&b);
	return buf_steal(&out);
}
