/*
 * dnsname.c - domain names from outside, made safe and canonical
 * (contract in dnsname.h).
 *
 * Every name that enters danepol (configuration, SMTP recipients, next
 * hops, DNS RDATA) passes through here before it is used as a lookup key,
 * a cache key or a log field. The canonical form is: A-labels, ASCII lower
 * case, no trailing dot, labels of 1..63 octets drawn from letters, digits
 * and '-' (not at either end), plus '_' where the caller allows it, and at
 * most 253 characters in all.
 *
 * Policy decisions taken here:
 *  - U-labels are converted one label at a time with libidn2
 *    (idn2_lookup_u8, IDNA2008 with UTS #46 non-transitional mapping and
 *    NFC). There is no fallback to transitional processing: it maps
 *    "stra\u00dfe" to "strasse", a different domain. Only '.' separates
 *    labels; ideographic full stops are not label separators here
 *    (RFC 5321 / RFC 6531 domains use '.').
 *  - Every "xn--" label, whether typed by a user or received from DNS,
 *    must be a valid A-label: it must decode and re-encode to itself
 *    under the same IDNA2008 rules. "xn--.example" is refused.
 *  - ASCII labels that are not "xn--" labels are NOT subjected to the
 *    IDNA2008 rules (e.g. "ab--c" is a valid DNS host name label).
 *  - dnsname_normalize() refuses names whose last label is all digits
 *    (RFC 3696 section 2): such a "name" is a mistyped or out-of-range
 *    IPv4 address ("999.1.1.1", "[1.2.3]" without the literal syntax),
 *    never a resolvable domain. dnsname_from_wire() does not apply this
 *    rule: it reports what the DNS says.
 *  - dnsname_normalize() refuses the root ("" or "."): no SMTP destination
 *    or configured domain can be the root. Only dnsname_from_wire()
 *    produces the root, as "" (a Null MX exchange, RFC 7505).
 *  - Address literals follow RFC 5321 4.1.3: "[" IPv4 "]" with four
 *    decimal parts of 1..3 digits each at most 255, or "[IPv6:" addr "]"
 *    (tag case-insensitive) where inet_pton(AF_INET6) accepts addr.
 *    General address literals ("[tag:...]") and port suffixes are refused.
 *
 * Everything is reentrant: no static buffers, no locale-dependent calls
 * (ASCII case folding is done by hand).
 *
 * Not here: e-mail address parsing (rcpt.c) and DNS lookups (dns.c).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <idn2.h>

#include "dnsname.h"
#include "mem.h"

#define LABEL_MAX      63
#define NAME_MAX_CHARS (DNSNAME_MAX - 1)
/* Longest input looked at: 253 characters of 4-octet UTF-8 plus a dot. */
#define INPUT_MAX      (NAME_MAX_CHARS * 4 + 1)
/* Longest address literal: "[IPv6:" + 45 (INET6_ADDRSTRLEN - 1) + "]". */
#define LITERAL_MAX    64

#ifdef IDN2_NONTRANSITIONAL
#define IDN_FLAGS (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)
#else
#define IDN_FLAGS IDN2_NFC_INPUT /* libidn2 before 2.0: IDNA2008 only */
#endif

/* ASCII-only case folding, independent of the locale. */
static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
is_ldh(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-';
}

/* Static English text for a libidn2 error code ("invalid IDN: ..."). */
static const char *
idn_why(int rc)
{
	switch (rc) {
	case IDN2_ENCODING_ERROR:
	case IDN2_ICONV_FAIL:
		return "invalid IDN: invalid UTF-8";
	case IDN2_NFC:
	case IDN2_NOT_NFC:
		return "invalid IDN: not in Unicode normal form C";
	case IDN2_PUNYCODE_BAD_INPUT:
	case IDN2_PUNYCODE_BIG_OUTPUT:
	case IDN2_PUNYCODE_OVERFLOW:
		return "invalid IDN: bad punycode";
	case IDN2_TOO_BIG_DOMAIN:
		return "invalid IDN: name too long";
	case IDN2_TOO_BIG_LABEL:
		return "invalid IDN: label too long";
	case IDN2_INVALID_ALABEL:
	case IDN2_ALABEL_ROUNDTRIP_FAILED:
		return "invalid IDN: bad A-label";
	case IDN2_2HYPHEN:
		return "invalid IDN: hyphens in the third and fourth positions";
	case IDN2_HYPHEN_STARTEND:
		return "invalid IDN: label begins or ends with a hyphen";
	case IDN2_LEADING_COMBINING:
		return "invalid IDN: label begins with a combining mark";
	case IDN2_DISALLOWED:
		return "invalid IDN: disallowed code point";
	case IDN2_CONTEXTJ:
	case IDN2_CONTEXTJ_NO_RULE:
	case IDN2_CONTEXTO:
	case IDN2_CONTEXTO_NO_RULE:
		return "invalid IDN: contextual rule violated";
	case IDN2_UNASSIGNED:
		return "invalid IDN: unassigned code point";
	case IDN2_BIDI:
		return "invalid IDN: bidirectional rule violated";
	case IDN2_DOT_IN_LABEL:
		return "invalid IDN: dot in label";
	case IDN2_INVALID_TRANSITIONAL:
	case IDN2_INVALID_NONTRANSITIONAL:
		return "invalid IDN: not valid under UTS #46";
	default:
		return "invalid IDN: refused by libidn2";
	}
}

/*
 * Strict UTF-8 check of s[0..n): no overlong forms, no surrogates,
 * nothing above U+10FFFF, no truncated sequences. Returns 1 if valid.
 */
static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need, cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i - 1 < need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/*
 * Is lab (NUL-terminated, lower case, starting "xn--") a valid A-label?
 * It must pass IDNA2008 lookup processing unchanged.
 */
static int
alabel_valid(const char *lab)
{
	uint8_t *res = NULL;
	int ok;

	ok = idn2_lookup_u8((const uint8_t *)lab, &res, IDN_FLAGS) == IDN2_OK &&
	    strcmp((const char *)res, lab) == 0;
	idn2_free(res);
	return ok;
}

/*
 * Check one ASCII label p[0..n) and write its lower-case form, NUL
 * terminated, into lab (>= LABEL_MAX + 1 octets). Returns n, or -1 with
 * *why set.
 */
static int
ascii_label(const char *p, size_t n, int allow_underscore, char *lab, const char **why)
{
	if (n == 0) {
		*why = "empty label";
		return -1;
	}
	if (n > LABEL_MAX) {
		*why = "label too long";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)p[i];

		if (!is_ldh(c) && !(c == '_' && allow_underscore)) {
			*why = "invalid character";
			return -1;
		}
		lab[i] = (char)ascii_lower(c);
	}
	lab[n] = 0;
	if (n >= 4 && memcmp(lab, "xn--", 4) == 0) {
		if (!alabel_valid(lab)) {
			*why = "invalid IDN: bad A-label";
			return -1;
		}
	} else if (lab[0] == '-' || lab[n - 1] == '-') {
		*why = "label begins or ends with a hyphen";
		return -1;
	}
	return (int)n;
}

/*
 * Convert one U-label p[0..n) (n <= INPUT_MAX, contains non-ASCII bytes)
 * to its A-label in lab. Returns the A-label length, or -1 with *why.
 */
static int
unicode_label(const char *p, size_t n, int allow_underscore, char *lab, const char **why)
{
	char tmp[INPUT_MAX + 1];
	uint8_t *res = NULL;
	int rc, ret = -1;

	if (!utf8_valid((const unsigned char *)p, n)) {
		*why = "invalid IDN: invalid UTF-8";
		goto out;
	}
	memcpy(tmp, p, n);
	tmp[n] = 0;
	if ((rc = idn2_lookup_u8((const uint8_t *)tmp, &res, IDN_FLAGS)) != IDN2_OK) {
		*why = idn_why(rc);
		goto out;
	}
	/* The mapping may yield a dot (U+FF0E) or anything else: recheck. */
	ret = ascii_label((const char *)res, strlen((const char *)res), allow_underscore, lab, why);
out:
	idn2_free(res);
	return ret;
}

/*
 * Public: canonical form of a name from outside (contract in dnsname.h).
 * in and out must not overlap; out (>= DNSNAME_MAX) is "" on failure.
 */
int
dnsname_normalize(const char *in, int allow_underscore, char *out, const char **why)
{
	const char *dummy, *p, *end;
	char lab[LABEL_MAX + 1];
	size_t n, olen = 0;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	out[0] = 0;
	if (in == NULL || in[0] == 0) {
		*why = "empty name";
		return -1;
	}
	if ((n = strnlen(in, INPUT_MAX + 1)) > INPUT_MAX) {
		*why = "name too long";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c <= 0x20 || c == 0x7f) {
			*why = "invalid character";
			return -1;
		}
	}
	if (in[n - 1] == '.')
		n--; /* one optional trailing dot */
	if (n == 0) {
		*why = "empty name"; /* the root is no destination */
		return -1;
	}
	for (p = in, end = in + n;; p++) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t ln = (size_t)((dot ? dot : end) - p);
		int ascii = 1, len;

		for (size_t i = 0; i < ln; i++)
			ascii &= (unsigned char)p[i] < 0x80;
		len = ascii ? ascii_label(p, ln, allow_underscore, lab, why)
			    : unicode_label(p, ln, allow_underscore, lab, why);
		if (len < 0)
			goto fail;
		if (olen + (olen ? 1 : 0) + (size_t)len > NAME_MAX_CHARS) {
			*why = "name too long";
			goto fail;
		}
		if (olen)
			out[olen++] = '.';
		memcpy(out + olen, lab, (size_t)len + 1);
		olen += (size_t)len;
		if (dot == NULL)
			break;
		p = dot;
	}
	if (lab[strspn(lab, "0123456789")] == 0) {
		/* RFC 3696 2: no all-numeric TLD; "[999.1.1.1]" is no host name */
		*why = "all-numeric top-level label";
		goto fail;
	}
	return 0;
fail:
	out[0] = 0;
	return -1;
}

/*
 * Public: decode an uncompressed wire name (contract in dnsname.h). On
 * failure *off is unchanged and out is "".
 */
int
dnsname_from_wire(const uint8_t *rdata, size_t len, size_t *off, char *out)
{
	char lab[LABEL_MAX + 1];
	const char *why;
	size_t pos, olen = 0;

	if (out == NULL)
		return -1;
	out[0] = 0;
	if (rdata == NULL || off == NULL)
		return -1;
	for (pos = *off;;) {
		size_t l;

		if (pos >= len)
			goto fail; /* truncated: no terminating root label */
		l = rdata[pos++];
		if (l == 0)
			break;
		if (l > LABEL_MAX)
			goto fail; /* compression pointer or extended label type */
		if (l > len - pos)
			goto fail;
		if (ascii_label((const char *)rdata + pos, l, 1, lab, &why) < 0)
			goto fail;
		if (olen + (olen ? 1 : 0) + l > NAME_MAX_CHARS)
			goto fail;
		if (olen)
			out[olen++] = '.';
		memcpy(out + olen, lab, l + 1);
		olen += l;
		pos += l;
	}
	*off = pos;
	return 0;
fail:
	out[0] = 0;
	return -1;
}

/* Public: ASCII case-insensitive, one trailing dot ignored; NULL equals nothing. */
int
dnsname_equal(const char *a, const char *b)
{
	size_t la, lb;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	if (la != lb)
		return 0;
	for (size_t i = 0; i < la; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Do the first n octets of s equal the lower-case ASCII t, ignoring case? */
static int
dnsname_equal_n(const char *s, const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((unsigned char)s[i]) != (unsigned char)t[i])
			return 0;
	return 1;
}

/* Strict dotted quad s[0..n): four parts of 1..3 digits, each <= 255. */
static int
ipv4_literal(const char *s, size_t n)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
		while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(s[i] - '0');
			digits++;
			i++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return 0;
	}
	return i == n;
}

/*
 * Public: RFC 5321 IPv4 or IPv6 address literal, brackets included and
 * nothing after them (callers strip a ":port" first).
 */
int
dnsname_is_address_literal(const char *s)
{
	char addr[LITERAL_MAX];
	struct in6_addr a6;
	size_t n;

	if (s == NULL || s[0] != '[')
		return 0;
	n = strnlen(s, LITERAL_MAX + 1);
	if (n > LITERAL_MAX || n < 3 || s[n - 1] != ']')
		return 0;
	s++;
	n -= 2; /* inside the brackets */
	if (n > 5 && dnsname_equal_n(s, "ipv6:", 5)) {
		memcpy(addr, s + 5, n - 5);
		addr[n - 5] = 0;
		return inet_pton(AF_INET6, addr, &a6) == 1;
	}
	return ipv4_literal(s, n);
}

char *
dnsname_host(void)
{
	char h[256];

	if (gethostname(h, sizeof(h)) < 0 || h[0] == 0)
		return xstrdup("localhost");
	h[sizeof(h) - 1] = 0;
	return xstrdup(h);
}

/* An IPv4 address (network order bytes) is internal. */
static int
v4_internal(const unsigned char *a)
{
	return a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 ||
	    (a[0] == 100 && (a[1] & 0xc0) == 64) || (a[0] == 169 && a[1] == 254) ||
	    (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168);
}

int
dnsname_addr_internal(const char *text)
{
	unsigned char a[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char zero[15] = { 0 };

	if (inet_pton(AF_INET, text, a) == 1)
		return v4_internal(a);
	if (inet_pton(AF_INET6, text, a) != 1)
		return -1;
	if (memcmp(a, mapped, 12) == 0)
		return v4_internal(a + 12);
	return memcmp(a, zero, 15) == 0 /* :: and ::1 */ || (a[0] & 0xfe) == 0xfc ||
	    (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff;
}
