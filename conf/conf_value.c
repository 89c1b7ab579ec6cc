/*
 * conf_value.c - parsers and validators of single danepol.conf values:
 * booleans, bounded decimal numbers, times with units, octal modes,
 * enumerations, socket specs, forward addresses, user/group names and
 * policy levels (see conf_value.h for the contracts).
 *
 * Every parser returns NULL or a reason the caller frees, and writes *out
 * only on success. Numbers saturate while they are read, so no input can
 * overflow; range errors give the bounds in the value's own syntax.
 *
 * Thread safety: no shared mutable state (only constant tables).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "conf_value.h"
#include "mem.h"
#include "tls_level.h"

#define CONF_SUN_PATH 107 /* sizeof(sun_path) - 1 on Linux */
#define CONF_NAME_MAX 32  /* user and group names */

/* How a bound is written in a range error. */
enum bound_kind {
	BOUND_UINT,
	BOUND_TIME,
	BOUND_MODE,
};

/* ------------------------------------------------------------ formatting */

/** conf_value_put_time - time v of a unit_ms field in file syntax. */
void
conf_value_put_time(struct buf *b, unsigned v, unsigned unit_ms)
{
	if (unit_ms == 1 && (v == 0 || v % 1000 != 0))
		buf_printf(b, "%ums", v);
	else
		buf_printf(b, "%us", unit_ms == 1 ? v / 1000 : v);
}

/** conf_value_put_mode - mode v as "0660". */
void
conf_value_put_mode(struct buf *b, unsigned v)
{
	buf_printf(b, "0%03o", v);
}

static void
put_bound(struct buf *b, enum bound_kind kind, unsigned v, unsigned unit_ms)
{
	if (kind == BOUND_MODE)
		conf_value_put_mode(b, v);
	else if (kind == BOUND_TIME)
		conf_value_put_time(b, v, unit_ms);
	else
		buf_printf(b, "%u", v);
}

/* "out of range (50ms..120s)" in the value's syntax. Caller frees. */
static char *
range_error(enum bound_kind kind, unsigned min, unsigned max, unsigned unit_ms)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "out of range (");
	put_bound(&b, kind, min, unit_ms);
	buf_puts(&b, "..");
	put_bound(&b, kind, max, unit_ms);
	buf_putc(&b, ')');
	return buf_steal(&b);
}

/* ------------------------------------------------------------ numbers */

/* Leading decimal digits of s into *v (saturating at 2^40); end in *end. -1: none. */
static int
parse_digits(const char *s, uint64_t *v, const char **end)
{
	uint64_t n = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (n < (UINT64_C(1) << 40))
			n = n * 10 + (uint64_t)(*p - '0');
	}
	*v = n < (UINT64_C(1) << 40) ? n : (UINT64_C(1) << 40);
	*end = p;
	return p == s ? -1 : 0;
}

/* Digits, then (is_time) a unit; the value in the field unit, min..max. */
static char *
parse_number(const char *v, int is_time, unsigned unit_ms, unsigned min, unsigned max,
    unsigned *out)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "", 1000 },
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60000 },
		{ "h", 3600000 },
	};
	uint64_t n, div = 1;
	const char *end;
	size_t i;

	if (parse_digits(v, &n, &end) < 0 || (!is_time && *end))
		return xstrdup(!is_time ? "bad number (decimal digits only)"
					: "bad time (a number with unit ms, s, m or h)");
	if (is_time) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].unit) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return xstrdup("bad time unit (ms, s, m or h; bare numbers are seconds)");
		n *= units[i].ms; /* n <= 2^40, so no overflow */
		div = unit_ms;
		if (n % div != 0)
			return xstrdup("not a whole number of seconds");
	}
	if (n / div < min || n / div > max)
		return range_error(is_time ? BOUND_TIME : BOUND_UINT, min, max, unit_ms);
	*out = (unsigned)(n / div);
	return NULL;
}

/** conf_value_uint - decimal min..max. NULL, or the reason (caller frees). */
char *
conf_value_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	return parse_number(v, 0, 1, min, max, out);
}

/** conf_value_time - time with unit, in the field unit, min..max. NULL or reason. */
char *
conf_value_time(const char *v, unsigned unit_ms, unsigned min, unsigned max, unsigned *out)
{
	return parse_number(v, 1, unit_ms, min, max, out);
}

/** conf_value_mode - octal mode min..max. NULL, or the reason (caller frees). */
char *
conf_value_mode(const char *v, unsigned min, unsigned max, unsigned *out)
{
	unsigned n = 0;
	const char *p;

	for (p = v; *p >= '0' && *p <= '7' && p - v < 5; p++)
		n = n * 8 + (unsigned)(*p - '0');
	if (p == v || *p || p - v > 4)
		return xstrdup("bad mode (octal, e.g. 0660)");
	if (n < min || n > max)
		return range_error(BOUND_MODE, min, max, 0);
	*out = n;
	return NULL;
}

/* ------------------------------------------------------------ words */

/** conf_value_bool - yes/no and synonyms. NULL, or the reason (caller frees). */
char *
conf_value_bool(const char *v, unsigned *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return NULL;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return NULL;
		}
	}
	return xstrdup("bad boolean (yes or no)");
}

/** conf_value_enum - index of v in names. NULL, or the reason (caller frees). */
char *
conf_value_enum(const char *v, const char *const *names, unsigned *out)
{
	struct buf b;

	for (unsigned i = 0; names[i]; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return NULL;
		}
	}
	buf_init(&b);
	buf_puts(&b, "bad value (one of:");
	for (unsigned i = 0; names[i]; i++)
		buf_printf(&b, " %s", names[i]);
	buf_putc(&b, ')');
	return buf_steal(&b);
}

/** conf_value_name - user or group name. NULL, or the reason (caller frees). */
char *
conf_value_name(const char *v)
{
	size_t n = strlen(v);

	if (n > CONF_NAME_MAX || v[0] == '-' || strspn(v, CONF_VALUE_NAME_CHARS) != n)
		return xstrdup("bad user or group name");
	return NULL;
}

/** conf_value_level - policy level name. NULL, or the reason (caller frees). */
char *
conf_value_level(const char *v)
{
	enum tls_level l;

	if (tls_level_parse(v, &l) < 0)
		return xstrdup("bad level (dane-only, dane, encrypt, may or none)");
	return NULL;
}

#define CONF_WORD_SEP ", \t"

/** conf_value_words - list of transport names. NULL, or the reason (caller frees). */
char *
conf_value_words(const char *v)
{
	unsigned count = 0;
	size_t n;

	for (v += strspn(v, CONF_WORD_SEP); *v; v += strspn(v, CONF_WORD_SEP)) {
		n = strcspn(v, CONF_WORD_SEP);
		if (n > CONF_VALUE_WORD_MAX || strspn(v, CONF_VALUE_NAME_CHARS) < n)
			return xasprintf("bad name \"%.*s\" (at most %d of "
					 "A-Z a-z 0-9 _ . -, names separated by commas or blanks)",
			    (int)(n > CONF_VALUE_WORD_MAX ? CONF_VALUE_WORD_MAX : n), v,
			    CONF_VALUE_WORD_MAX);
		if (++count > CONF_VALUE_WORDS_MAX)
			return xasprintf("more than %d names", CONF_VALUE_WORDS_MAX);
		v += n;
	}
	if (count == 0)
		return xstrdup("no name");
	return NULL;
}

/** conf_value_words_has - whether list holds name. */
int
conf_value_words_has(const char *list, const char *name)
{
	size_t want = strlen(name), n;

	if (list == NULL || want == 0)
		return 0;
	for (list += strspn(list, CONF_WORD_SEP); *list; list += strspn(list, CONF_WORD_SEP)) {
		n = strcspn(list, CONF_WORD_SEP);
		if (n == want && memcmp(list, name, n) == 0)
			return 1;
		list += n;
	}
	return 0;
}

/* ------------------------------------------------------------ addresses */

static int
is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* Port 1..65535 in decimal, the whole of [s, e). */
static int
port_ok(const char *s, const char *e)
{
	unsigned n = 0;

	if (s == e || e - s > 5)
		return 0;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		n = n * 10 + (unsigned)(*s - '0');
	}
	return n >= 1 && n <= 65535;
}

/* A host name (LDH labels) or an IPv4/IPv6 address ("[v6]" for inet6). */
static int
host_ok(const char *h, int v6)
{
	char a[64];
	unsigned char bin[16];
	size_t n = strlen(h), lab = 0;

	if (v6 && n > 2 && h[0] == '[' && h[n - 1] == ']' && n - 2 < sizeof(a)) {
		memcpy(a, h + 1, n - 2);
		a[n - 2] = 0;
		return inet_pton(AF_INET6, a, bin) == 1;
	}
	if (v6 && strchr(h, ':'))
		return inet_pton(AF_INET6, h, bin) == 1;
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = h[i];

		if (ch == '.') {
			if (lab == 0 || h[i - 1] == '-')
				return 0;
			lab = 0;
		} else if (is_alnum(ch) || (ch == '-' && lab > 0)) {
			if (++lab > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return h[n - 1] != '-';
}

/*
 * The reason for an inet socket without '@' whose text is not a port:
 * "HOST:PORT" (inet:127.0.0.1:8891, inet6:[::1]:8891) gets the
 * libmilter spelling as a hint. p is the text after "inet:"/"inet6:".
 */
static char *
host_port_hint(const char *v, const char *p, int v6)
{
	const char *colon = strrchr(p, ':');
	char host[256];
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - p)) == 0 || n >= sizeof(host) ||
	    !port_ok(colon + 1, colon + 1 + strlen(colon + 1)))
		return xstrdup("bad socket: port must be 1..65535 (inet:PORT@HOST)");
	memcpy(host, p, n);
	host[n] = 0;
	if (!host_ok(host, v6))
		return xstrdup("bad socket: port must be 1..65535 (inet:PORT@HOST)");
	return xasprintf("bad socket: libmilter writes the port first: did you mean %s%s@%s?",
	    v6 ? "inet6:" : "inet:", colon + 1, host);
}

/**
 * conf_value_socket - libmilter conventions: unix:/path, local:/path,
 * inet:PORT[@HOST], inet6:PORT[@HOST]. NULL, or the reason (caller frees).
 */
char *
conf_value_socket(const char *v)
{
	const char *p, *at;
	int v6;

	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
		p = strchr(v, ':') + 1;
		if (*p != '/')
			return xstrdup("bad socket: the path must be absolute");
		if (strlen(p) > CONF_SUN_PATH)
			return xasprintf("bad socket: path longer than %d bytes", CONF_SUN_PATH);
		return NULL;
	}
	if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0) {
		v6 = v[4] == '6';
		p = v + (v6 ? 6 : 5);
		at = strchr(p, '@');
		if (!port_ok(p, at ? at : p + strlen(p)))
			return at ? xstrdup("bad socket: port must be 1..65535")
				  : host_port_hint(v, p, v6);
		if (at && !host_ok(at + 1, v6))
			return xstrdup("bad socket: bad host after '@'");
		return NULL;
	}
	return xstrdup("bad socket (unix:/path, local:/path, inet:PORT@HOST or inet6:PORT@HOST)");
}

/**
 * conf_value_forward - "addr[@port]": an IPv4 or IPv6 address, as
 * unbound's forward-addr. NULL, or the reason (caller frees).
 */
char *
conf_value_forward(const char *v)
{
	char a[64];
	unsigned char bin[16];
	const char *at = strchr(v, '@');
	size_t n = at ? (size_t)(at - v) : strlen(v);

	if (at && !port_ok(at + 1, at + 1 + strlen(at + 1)))
		return xstrdup("bad port after '@' (1..65535)");
	if (n == 0 || n >= sizeof(a))
		return xstrdup("bad address (an IPv4 or IPv6 address, optionally @port)");
	memcpy(a, v, n);
	a[n] = 0;
	if (inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1) {
		char *colon = strrchr(a, ':');

		/* "192.0.2.1:53": unbound's spelling is ADDR@PORT */
		if (!at && colon && port_ok(colon + 1, colon + 1 + strlen(colon + 1))) {
			*colon = 0;
			if (inet_pton(AF_INET, a, bin) == 1)
				return xasprintf("bad address: the port follows '@': did you mean "
						 "%s@%s?",
				    a, colon + 1);
		}
		return xstrdup("bad address (an IPv4 or IPv6 address, optionally @port)");
	}
	return NULL;
}
