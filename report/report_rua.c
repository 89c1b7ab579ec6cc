/*
 * report_rua.c - RFC 8460 section 3: the TLSRPT policy record at
 * "_smtp._tls.<policy-domain>" and its rua URIs (contract in report_rua.h).
 *
 * Which domain: the policy domain of the report, i.e. the recipient
 * (next-hop) domain the outcomes were counted under, as Postfix does;
 * per-MX-host records are not looked up.
 *
 * Everything here is outside data (DNS), so nothing is trusted:
 *   - a TXT RR is the concatenation of its character-strings (no
 *     separator); malformed RDATA is dropped;
 *   - only records beginning with "v=TLSRPTv1" *WSP ";" count; exactly one
 *     must remain, else the domain has no TLSRPT (two records are an error
 *     of the domain, not ours);
 *   - fields are ";"-separated with optional white space; names are
 *     case-sensitive; "rua" must appear exactly once; unknown fields are
 *     ignored; a field that is not name=value makes the record invalid;
 *   - rua holds ","-separated URIs; "mailto:" and "https:" (scheme in any
 *     case) are used, other schemes are skipped; a "!<n>[kmgt]" suffix
 *     (an unencoded "!" can only be that, RFC 8460 wants "!" %-encoded in
 *     URIs) is an upper size limit for the report;
 *   - a URI must be printable ASCII without spaces, at most
 *     REPORT_RUA_URI_MAX bytes; a mailto: address is %-decoded, must be
 *     exactly one addr-spec of plain atext with a valid domain (no
 *     header fields: "?..." is cut off), and must not begin with "-".
 * The DNSSEC state of the answer is kept (set->sec); an insecure record
 * is still used (RFC 8460 does not require DNSSEC), a bogus one is a
 * lookup failure.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "clock.h"
#include "dnsname.h"
#include "log.h"
#include "mem.h"
#include "report_rua.h"

#define TLSRPT_V  "v=TLSRPTv1"
#define LOCAL_MAX 64

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* Drop the URIs of set, keep sec and why. */
static void
clear_uris(struct report_rua_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].uri);
		free(set->v[i].addr);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

/** report_rua_clear - see report_rua.h. */
void
report_rua_clear(struct report_rua_set *set)
{
	if (set == NULL)
		return;
	clear_uris(set);
	free(set->why);
	memset(set, 0, sizeof(*set));
}

/* "!<digits>[kKmMgGtT]" -> bytes; -1 when malformed or absurd. */
static int
parse_size(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	size_t i;

	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > 1000000000000ULL)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return -1;
	if (i < n) {
		switch (s[i]) {
		case 'k':
		case 'K':
			mult = 1ULL << 10;
			break;
		case 'm':
		case 'M':
			mult = 1ULL << 20;
			break;
		case 'g':
		case 'G':
			mult = 1ULL << 30;
			break;
		case 't':
		case 'T':
			mult = 1ULL << 40;
			break;
		default:
			return -1;
		}
		if (i + 1 != n)
			return -1;
	}
	if (v == 0 || v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 5322 atext plus '.', the only characters allowed in a local part here. */
static int
is_local_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != 0 && strchr("!#$%&'*+-/=^_`{|}~.", c) != NULL);
}

/* %-decode s[0..n) up to '?', validate one addr-spec; the address or NULL. */
static char *
mailto_addr(const char *s, size_t n)
{
	struct buf b;
	char dom[DNSNAME_MAX], *at, *res = NULL;
	const char *why;

	buf_init(&b);
	for (size_t i = 0; i < n && s[i] != '?'; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
				goto out;
			c = h * 16 + l;
			i += 2;
		}
		if (c <= 0x20 || c >= 0x7f)
			goto out;
		buf_putc(&b, c);
	}
	if (b.len == 0 || b.len > 254 || b.s[0] == '-' || (at = strchr(b.s, '@')) == NULL ||
	    strchr(at + 1, '@') != NULL || at == b.s || (size_t)(at - b.s) > LOCAL_MAX)
		goto out;
	for (const char *p = b.s; p < at; p++)
		if (!is_local_char((unsigned char)*p))
			goto out;
	if (b.s[0] == '.' || at[-1] == '.' || strstr(b.s, "..") != NULL)
		goto out;
	if (dnsname_normalize(at + 1, 0, dom, &why) < 0 || strchr(dom, '.') == NULL)
		goto out;
	res = xasprintf("%.*s@%s", (int)(at - b.s), b.s, dom);
out:
	buf_free(&b);
	return res;
}

/* https: "https://" then an authority that starts with a host character. */
static int
https_ok(const char *s, size_t n)
{
	if (n < 9 || strncmp(s + 5, "://", 3) != 0)
		return 0;
	return s[8] != '/' && s[8] != '?' && s[8] != '#' && s[8] != '@' && s[8] != ':';
}

/* One URI s[0..n): append to set (1), skip (0). */
static int
add_uri(const char *s, size_t n, struct report_rua_set *set)
{
	const char *bang = memchr(s, '!', n);
	struct report_rua r;
	uint64_t max = 0;

	memset(&r, 0, sizeof(r));
	if (bang != NULL) {
		if (parse_size(bang + 1, n - (size_t)(bang + 1 - s), &max) < 0)
			return 0;
		n = (size_t)(bang - s);
	}
	if (n == 0 || n > REPORT_RUA_URI_MAX || set->n >= REPORT_RUA_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	if (n > 7 && strncasecmp(s, "mailto:", 7) == 0) {
		if ((r.addr = mailto_addr(s + 7, n - 7)) == NULL)
			return 0;
		r.scheme = REPORT_RUA_MAILTO;
	} else if (n > 6 && strncasecmp(s, "https:", 6) == 0 && https_ok(s, n)) {
		r.scheme = REPORT_RUA_HTTPS;
	} else {
		return 0;
	}
	r.uri = xstrndup(s, n);
	r.max_size = max;
	set->v = xreallocarray(set->v, set->n + 1, sizeof(*set->v));
	set->v[set->n++] = r;
	return 1;
}

/* The rua value v[0..n): ","-separated URIs with optional WSP around ",". */
static int
parse_rua(const char *v, size_t n, struct report_rua_set *set, size_t *skipped)
{
	size_t i = 0;
	int added = 0;

	while (i <= n) {
		size_t a = i, e;

		while (a < n && is_wsp(v[a]))
			a++;
		e = a;
		while (e < n && v[e] != ',')
			e++;
		i = e + 1;
		while (e > a && is_wsp(v[e - 1]))
			e--;
		if (e > a && add_uri(v + a, e - a, set))
			added++;
		else if (skipped != NULL)
			(*skipped)++;
	}
	return added;
}

/* A field name: alnum first, then alnum "_" "-" ".", at most 32 chars. */
static int
field_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		int alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '-' && c != '.')))
			return 0;
	}
	return 1;
}

/* Length of "v=TLSRPTv1" *WSP ";" at the start of t, or 0. */
static size_t
version_len(const char *t, size_t len)
{
	size_t i = sizeof(TLSRPT_V) - 1;

	if (len < i || memcmp(t, TLSRPT_V, i) != 0)
		return 0;
	while (i < len && is_wsp(t[i]))
		i++;
	return i < len && t[i] == ';' ? i + 1 : 0;
}

/** report_rua_parse_record - see report_rua.h. */
int
report_rua_parse_record(const char *txt, size_t len, struct report_rua_set *set, size_t *skipped,
    char **err)
{
	size_t i, nrua = 0;
	int added = 0;

	if (memchr(txt, 0, len) != NULL) {
		*err = xstrdup("NUL byte in the record");
		return -1;
	}
	if ((i = version_len(txt, len)) == 0) {
		*err = xstrdup("does not begin with \"v=TLSRPTv1;\"");
		return -1;
	}
	while (i < len) {
		size_t a = i, e, eq;

		while (a < len && is_wsp(txt[a]))
			a++;
		for (e = a; e < len && txt[e] != ';'; e++)
			;
		i = e + 1;
		while (e > a && is_wsp(txt[e - 1]))
			e--;
		if (e == a)
			continue; /* empty field, e.g. after the trailing ";" */
		for (eq = a; eq < e && txt[eq] != '='; eq++)
			;
		if (eq == e || !field_name_ok(txt + a, eq - a)) {
			*err = xasprintf("malformed field \"%.*s\"", (int)(e - a > 40 ? 40 : e - a),
			    txt + a);
			return -1;
		}
		if (eq - a == 3 && memcmp(txt + a, "rua", 3) == 0) {
			if (nrua++ > 0) {
				*err = xstrdup("more than one rua field");
				return -1;
			}
			added = parse_rua(txt + eq + 1, e - eq - 1, set, skipped);
		}
	}
	if (nrua == 0) {
		*err = xstrdup("no rua field");
		return -1;
	}
	return added;
}

/** report_rua_txt_join - see report_rua.h. */
char *
report_rua_txt_join(const uint8_t *rdata, size_t len, size_t *outlen)
{
	struct buf b;
	size_t off = 0;

	if (len == 0)
		return NULL;
	buf_init(&b);
	while (off < len) {
		size_t l = rdata[off];

		if (off + 1 + l > len) {
			buf_free(&b);
			return NULL;
		}
		buf_append(&b, rdata + off + 1, l);
		off += 1 + l;
	}
	*outlen = b.len;
	return buf_steal(&b);
}

/** report_rua_from_answer - see report_rua.h. */
int
report_rua_from_answer(const struct dns_answer *a, struct report_rua_set *set, char **err)
{
	char *txt, *one = NULL, *perr = NULL;
	size_t len, onelen = 0, ncand = 0, skipped = 0;

	memset(set, 0, sizeof(*set));
	set->sec = a->sec;
	if (a->status == DNS_FAIL || a->status == DNS_TIMEOUT) {
		*err = xasprintf("TXT lookup of %.255s: %s (%s%s%.200s)", a->qname,
		    dns_status_name(a->status), dns_sec_name(a->sec), a->why ? ": " : "",
		    a->why ? a->why : "");
		return -1;
	}
	for (size_t i = 0; a->status == DNS_DATA && i < a->count; i++) {
		if ((txt = report_rua_txt_join(a->rr[i].data, a->rr[i].len, &len)) == NULL) {
			msg_warn("%.255s: malformed TXT RDATA dropped", a->qname);
			continue;
		}
		if (version_len(txt, len) == 0) {
			free(txt);
			continue;
		}
		ncand++;
		free(one);
		one = txt;
		onelen = len;
	}
	if (ncand == 0)
		set->why = xstrdup("no TLSRPT record");
	else if (ncand > 1)
		set->why = xasprintf("%zu TLSRPT records (RFC 8460: exactly one)", ncand);
	else if (report_rua_parse_record(one, onelen, set, &skipped, &perr) < 0) {
		set->why = xasprintf("invalid TLSRPT record: %s", perr);
		clear_uris(set);
	} else if (set->n == 0)
		set->why = xasprintf("no usable rua URI (%zu skipped)", skipped);
	free(perr);
	free(one);
	return 0;
}

/** report_rua_discover - see report_rua.h. */
int
report_rua_discover(struct dns_resolver *res, const char *policy_domain, unsigned timeout_ms,
    struct report_rua_set *set, char **err)
{
	char dom[DNSNAME_MAX], *qname = NULL;
	struct dns_answer *a = NULL;
	struct dns_batch *b = NULL;
	const char *why;
	unsigned tag;
	int rc = -1;

	memset(set, 0, sizeof(*set));
	if (dnsname_normalize(policy_domain, 0, dom, &why) < 0) {
		*err = xasprintf("policy domain %.255s: %s", policy_domain, why);
		goto out;
	}
	qname = xasprintf("_smtp._tls.%s", dom);
	b = dns_batch_new(res);
	dns_batch_add(b, qname, DNS_T_TXT, 1);
	if (dns_batch_next(b, clock_now_ms() + timeout_ms, &tag, &a) != 1 || a == NULL) {
		*err = xasprintf("TXT lookup of %s: no answer", qname);
		goto out;
	}
	rc = report_rua_from_answer(a, set, err);
out:
	dns_answer_free(a);
	dns_batch_free(b);
	free(qname);
	return rc;
}
