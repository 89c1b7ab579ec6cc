/*
 * rcpt.c - find and normalise the domain of an SMTP envelope recipient
 * (contract in rcpt.h).
 *
 * Grammar followed (RFC 5321 4.1.2, RFC 6531 for UTF-8): optional angle
 * brackets; optional source route "@a,@b:" (skipped); a local part that is
 * either a quoted string (backslash escapes, any '@' inside) or a run of
 * non-special bytes without '@'; then "@" and a domain or an address
 * literal. Controls, spaces outside quotes, unbalanced brackets and
 * over-long input are refused with a reason. The local part is only
 * skipped, never interpreted: DANE is about the domain.
 */
#include "config.h"

#include <string.h>

#include "rcpt.h"

static enum rcpt_kind
rcpt_bad(struct rcpt *r, const char *why)
{
	r->kind = RCPT_INVALID;
	r->domain[0] = 0;
	r->why = why;
	return RCPT_INVALID;
}

/* Skip a source route "@a,@b:"; returns the position after ':' or NULL. */
static const char *
rcpt_skip_route(const char *p, const char *end)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));

	return colon ? colon + 1 : NULL;
}

/* Skip the local part; returns the position of the separating '@', end, or NULL. */
static const char *
rcpt_skip_local(const char *p, const char *end, const char **why)
{
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && ++p == end)
				break;
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				*why = "control character in the local part";
				return NULL;
			}
		}
		if (p >= end) {
			*why = "unterminated quoted local part";
			return NULL;
		}
		p++;
		if (p < end && *p != '@') {
			*why = "text after the quoted local part";
			return NULL;
		}
		return p;
	}
	for (; p < end && *p != '@'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '(' ||
		    c == ')' || c == ',' || c == ';' || c == ':' || c == '\\' || c == '[' ||
		    c == ']') {
			*why = "invalid character in the local part";
			return NULL;
		}
	}
	return p;
}

static enum rcpt_kind
rcpt_domain(const char *p, const char *end, struct rcpt *r)
{
	char tmp[DNSNAME_MAX + 8];
	size_t len = (size_t)(end - p);
	const char *why;

	if (len == 0)
		return rcpt_bad(r, "empty domain");
	if (len >= sizeof(tmp))
		return rcpt_bad(r, "domain too long");
	memcpy(tmp, p, len);
	tmp[len] = 0;
	if (tmp[0] == '[') {
		if (!dnsname_is_address_literal(tmp))
			return rcpt_bad(r, "invalid address literal");
		memcpy(r->domain, tmp, len + 1);
		r->kind = RCPT_LITERAL;
		return r->kind;
	}
	if (dnsname_normalize(tmp, 0, r->domain, &why) < 0)
		return rcpt_bad(r, why);
	r->kind = RCPT_DOMAIN;
	return r->kind;
}

enum rcpt_kind
rcpt_parse(const char *arg, struct rcpt *r)
{
	const char *p, *end, *at, *why = NULL;
	size_t len;

	r->why = NULL;
	r->domain[0] = 0;
	if (arg == NULL)
		return rcpt_bad(r, "no address");
	len = strnlen(arg, RCPT_MAX_LEN + 1);
	if (len > RCPT_MAX_LEN)
		return rcpt_bad(r, "address too long");
	p = arg;
	end = arg + len;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p < end && *p == '<') {
		if (end[-1] != '>' || end - p < 2)
			return rcpt_bad(r, "unbalanced angle brackets");
		p++;
		end--;
	}
	if (p == end)
		return rcpt_bad(r, "empty address");
	if (*p == '@' && (p = rcpt_skip_route(p, end)) == NULL)
		return rcpt_bad(r, "source route without ':'");
	if ((at = rcpt_skip_local(p, end, &why)) == NULL)
		return rcpt_bad(r, why);
	if (at == p)
		return rcpt_bad(r, "empty local part");
	if (at == end) {
		r->kind = RCPT_LOCAL;
		return r->kind;
	}
	return rcpt_domain(at + 1, end, r);
}
