/*
 * sts_policy.c - RFC 8461 policy text and MX patterns (contract in
 * sts_policy.h).
 *
 * The text is cut into lines by lib/lineread (CRLF or LF; NUL, control
 * bytes, invalid UTF-8 and over-long lines refused). A line is
 * "key:" *WSP value *WSP (section 3.2's ABNF: its quoted literals, the
 * keys and the mode words, are case-insensitive, RFC 5234 section 2.3);
 * values are printable ASCII and blanks. Blank lines are skipped.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dnsname.h"
#include "lineread.h"
#include "mem.h"
#include "sts_policy.h"

/* what the line parser gathers; seen_* tell first from repeated keys */
struct parse {
	struct sts_policy *p;
	int seen_version, seen_mode, seen_max_age;
};

static int
key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* "*.name" or "name", canonical into out (DNSNAME_MAX); 0 or -1 with *why */
static int
mx_pattern(const char *v, char *out, const char **why)
{
	int wild = strncmp(v, "*.", 2) == 0;
	char name[DNSNAME_MAX];

	if (strchr(wild ? v + 2 : v, '*') != NULL) {
		*why = "a wildcard other than one left-most \"*.\"";
		return -1;
	}
	if (dnsname_normalize(wild ? v + 2 : v, 0, name, why) < 0)
		return -1;
	if (strchr(name, '.') == NULL && wild) {
		*why = "a wildcard over a top-level domain";
		return -1;
	}
	if ((wild ? 2 : 0) + strlen(name) >= DNSNAME_MAX) {
		*why = "name too long";
		return -1;
	}
	snprintf(out, DNSNAME_MAX, "%s%s", wild ? "*." : "", name);
	return 0;
}

static char *
set_mode(struct parse *ps, const char *v)
{
	static const char *const names[] = { "none", "testing", "enforce" };

	if (ps->seen_mode++)
		return NULL;
	for (int i = 0; i < 3; i++)
		if (strcasecmp(v, names[i]) == 0) {
			ps->p->mode = (enum sts_mode)i;
			return NULL;
		}
	return xasprintf("mode \"%.32s\" is not enforce, testing or none", v);
}

static char *
set_max_age(struct parse *ps, const char *v)
{
	unsigned long long n = 0;
	size_t len = strlen(v);

	if (ps->seen_max_age++)
		return NULL;
	if (len == 0 || len > 10 || strspn(v, "0123456789") != len)
		return xasprintf("max_age \"%.32s\" is not 1 to 10 digits", v);
	n = strtoull(v, NULL, 10);
	if (n > STS_MAX_AGE_MAX)
		return xasprintf("max_age %llu is above %u (RFC 8461 section 3.2)", n,
		    (unsigned)STS_MAX_AGE_MAX);
	ps->p->max_age = (uint32_t)n;
	return NULL;
}

static char *
add_mx(struct parse *ps, const char *v)
{
	char pat[DNSNAME_MAX];
	const char *why = NULL;
	struct sts_policy *p = ps->p;

	if (mx_pattern(v, pat, &why) < 0)
		return xasprintf("mx \"%.64s\": %s", v, why);
	for (size_t i = 0; i < p->nmx; i++)
		if (strcmp(p->mx[i], pat) == 0)
			return NULL;
	if (p->nmx == STS_POLICY_MX_MAX)
		return xasprintf("more than %d mx patterns", STS_POLICY_MX_MAX);
	p->mx = xrealloc(p->mx, (p->nmx + 1) * sizeof(*p->mx));
	p->mx[p->nmx++] = xstrdup(pat);
	return NULL;
}

/* one line (lineread_fn) */
static char *
parse_line(void *arg, char *line, unsigned lineno)
{
	struct parse *ps = arg;
	char *v, *end;
	size_t k;

	(void)lineno;
	for (k = 0; key_char((unsigned char)line[k]); k++)
		;
	if (k == 0 && line[strspn(line, " \t")] == 0)
		return NULL; /* blank */
	if (k == 0 || k > 32 || line[k] != ':')
		return xstrdup("not a \"key: value\" line");
	line[k] = 0;
	v = line + k + 1;
	v += strspn(v, " \t");
	for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	*end = 0;
	for (const unsigned char *c = (const unsigned char *)v; *c; c++)
		if (*c > 0x7e)
			return xasprintf("%s: a byte outside printable ASCII", line);
	if (*v == 0)
		return xasprintf("%s: no value", line);
	if (strcasecmp(line, "version") == 0) {
		if (ps->seen_version++)
			return NULL;
		return strcmp(v, "STSv1") == 0 ? NULL
					       : xasprintf("version \"%.32s\" is not STSv1", v);
	}
	if (strcasecmp(line, "mode") == 0)
		return set_mode(ps, v);
	if (strcasecmp(line, "max_age") == 0)
		return set_max_age(ps, v);
	if (strcasecmp(line, "mx") == 0)
		return add_mx(ps, v);
	return NULL; /* an extension: ignored */
}

int
sts_policy_parse(const char *body, size_t len, struct sts_policy *p, char **err)
{
	struct parse ps = { p, 0, 0, 0 };
	const char *missing = NULL;

	memset(p, 0, sizeof(*p));
	*err = NULL;
	if (len > STS_POLICY_MAX) {
		*err = xasprintf("policy larger than %d bytes", STS_POLICY_MAX);
		return -1;
	}
	if (lineread_each(body, len, "line", parse_line, &ps, err) < 0)
		goto fail;
	if (!ps.seen_version)
		missing = "version";
	else if (!ps.seen_mode)
		missing = "mode";
	else if (!ps.seen_max_age)
		missing = "max_age";
	else if (p->nmx == 0 && p->mode != STS_MODE_NONE)
		missing = "mx";
	if (missing != NULL) {
		*err = xasprintf("no %s field", missing);
		goto fail;
	}
	return 0;
fail:
	sts_policy_clear(p);
	return -1;
}

void
sts_policy_clear(struct sts_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nmx; i++)
		free(p->mx[i]);
	free(p->mx);
	memset(p, 0, sizeof(*p));
}

void
sts_policy_copy(struct sts_policy *dst, const struct sts_policy *src)
{
	*dst = *src;
	dst->mx = src->nmx ? xcalloc(src->nmx, sizeof(*dst->mx)) : NULL;
	for (size_t i = 0; i < src->nmx; i++)
		dst->mx[i] = xstrdup(src->mx[i]);
}

int
sts_policy_mx_match(const struct sts_policy *p, const char *host)
{
	char name[DNSNAME_MAX];
	const char *why, *dot;

	if (host == NULL || dnsname_normalize(host, 0, name, &why) < 0)
		return 0;
	dot = strchr(name, '.');
	for (size_t i = 0; i < p->nmx; i++) {
		const char *pat = p->mx[i];

		if (strncmp(pat, "*.", 2) == 0) {
			/* exactly one label before the pattern's suffix */
			if (dot != NULL && dot > name && strcmp(dot + 1, pat + 2) == 0)
				return 1;
		} else if (strcmp(name, pat) == 0) {
			return 1;
		}
	}
	return 0;
}

const char *
sts_policy_mode_name(enum sts_mode m)
{
	return m == STS_MODE_ENFORCE ? "enforce" : m == STS_MODE_TESTING ? "testing" : "none";
}

size_t
sts_policy_strings(const struct sts_policy *p, char ***lines)
{
	size_t n = 0;

	*lines = xcalloc(p->nmx + 4, sizeof(char *));
	(*lines)[n++] = xstrdup("version: STSv1");
	(*lines)[n++] = xasprintf("mode: %s", sts_policy_mode_name(p->mode));
	for (size_t i = 0; i < p->nmx; i++)
		(*lines)[n++] = xasprintf("mx: %s", p->mx[i]);
	(*lines)[n++] = xasprintf("max_age: %u", (unsigned)p->max_age);
	return n;
}
