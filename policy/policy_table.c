/*
 * policy_table.c - the local policy table (see policy_table.h).
 *
 * SUMMARY
 *	Lines "domain level" or ".parent level", Postfix style. Blank lines
 *	and lines whose first non-blank character is '#' are ignored; fields
 *	are separated by blanks (space, tab); CRLF line ends are tolerated.
 *	Keys are normalised with dnsname_normalize() (IDN -> A-label, lower
 *	case, no trailing dot), so "Bücher.Example." and
 *	"xn--bcher-kva.example" are the same key. Errors name "name:line:":
 *	missing level, extra field, unknown level, invalid domain, duplicate
 *	key (also after normalisation), and the hostile lines of
 *	lib/lineread.h (NUL bytes, control characters, invalid UTF-8, lines
 *	over LINEREAD_LINE_MAX bytes). Files over TABLE_FILE_MAX are refused.
 *
 *	Entries live in an open-addressing hash table (lib/hash.h's seeded
 *	hash, linear probing, load <= 1/2), so loading is linear in the
 *	file and a lookup costs one probe sequence per label of the domain. A ".parent" key is
 *	stored with its dot, so the lookup of "a.b.example" probes
 *	"a.b.example", ".b.example", ".example" in that order without
 *	copying: each is a suffix of the name starting at a dot.
 *
 * NOT HERE
 *	Deciding what a level means (policy_engine.c).
 *
 * Thread safety: the table is immutable after loading; lookups only read.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "dnsname.h"
#include "hash.h"
#include "lineread.h"
#include "mem.h"
#include "policy.h"
#include "policy_table.h"

#define TABLE_FILE_MAX (64 * 1024 * 1024) /* bytes per file */

struct table_entry {
	char *key; /* normalised; ".parent" keeps its dot */
	enum tls_level level;
	unsigned line;
};

struct policy_table {
	struct table_entry *ent; /* nent of them, in file order */
	size_t nent, aent;
	size_t *slot;  /* hash index: entry index + 1, 0 = empty */
	size_t nslot;  /* power of two */
	uint64_t seed; /* of hash_key() */
};

/* The seeded hash (lib/hash.h) of key in t. */
static uint32_t
hash_key(const struct policy_table *t, const char *s)
{
	return hash_string(t->seed, s, NULL);
}

/* Index into t->ent of key, or (size_t)-1. */
static size_t
table_find(const struct policy_table *t, const char *key)
{
	size_t i, e;

	if (t->nslot == 0)
		return (size_t)-1;
	for (i = hash_key(t, key) & (t->nslot - 1); (e = t->slot[i]) != 0;
	     i = (i + 1) & (t->nslot - 1))
		if (strcmp(t->ent[e - 1].key, key) == 0)
			return e - 1;
	return (size_t)-1;
}

static void
slot_insert(struct policy_table *t, size_t idx)
{
	size_t i = hash_key(t, t->ent[idx].key) & (t->nslot - 1);

	while (t->slot[i] != 0)
		i = (i + 1) & (t->nslot - 1);
	t->slot[i] = idx + 1;
}

/* Keep the load factor <= 1/2 for nent + 1 entries. */
static void
table_grow(struct policy_table *t)
{
	size_t n;

	if (t->nent == t->aent) {
		t->aent = t->aent ? t->aent * 2 : 64;
		t->ent = xreallocarray(t->ent, t->aent, sizeof(*t->ent));
	}
	if ((t->nent + 1) * 2 <= t->nslot)
		return;
	n = t->nslot ? t->nslot * 2 : 128;
	free(t->slot);
	t->slot = xcalloc(n, sizeof(*t->slot));
	t->nslot = n;
	for (size_t i = 0; i < t->nent; i++)
		slot_insert(t, i);
}

/* Printable, bounded copy of outside text for messages (caller frees). */
static char *
show(const char *s)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; s[i] && i < 64; i++)
		buf_putc(&b,
		    (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f && s[i] != '"' ? s[i]
											     : '?');
	if (s[i])
		buf_puts(&b, "...");
	return buf_steal(&b);
}

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Next blank-separated field of *p (NUL-terminated in place), or NULL. */
static char *
next_field(char **p)
{
	char *s = *p, *f;

	while (is_blank(*s))
		s++;
	if (*s == 0) {
		*p = s;
		return NULL;
	}
	f = s;
	while (*s && !is_blank(*s))
		s++;
	if (*s)
		*s++ = 0;
	*p = s;
	return f;
}

/* Normalised key of field f ("name" or ".name") into out; NULL or reason (caller frees). */
static char *
key_normalize(const char *f, char *out)
{
	const char *why = NULL;
	char *s, *msg;
	int parent = f[0] == '.';

	if (parent && (f[1] == 0 || f[1] == '.'))
		why = "empty name";
	else if (dnsname_normalize(f + parent, 0, out + parent, &why) == 0 && out[parent] == 0)
		why = "empty name";
	if (why) {
		s = show(f);
		msg = xasprintf("invalid domain \"%s\": %s", s, why);
		free(s);
		return msg;
	}
	if (parent)
		out[0] = '.';
	return NULL;
}

/* One line (a lineread_fn: without its end, already checked). NULL, or the reason (caller frees). */
static char *
parse_line(void *arg, char *s, unsigned line)
{
	struct policy_table *t = arg;
	char key[DNSNAME_MAX + 2], *p = s, *kf, *lf, *extra, *why, *sh;
	enum tls_level level;
	size_t dup;

	while (is_blank(*p))
		p++;
	if (*p == 0 || *p == '#')
		return NULL;
	kf = next_field(&p);
	if ((lf = next_field(&p)) == NULL)
		return xstrdup("missing level after the domain");
	if ((extra = next_field(&p)) != NULL) {
		sh = show(extra);
		why = xasprintf("extra field \"%s\" (expected \"domain level\")", sh);
		free(sh);
		return why;
	}
	if ((why = key_normalize(kf, key)) != NULL)
		return why;
	if (tls_level_parse(lf, &level) < 0) {
		sh = show(lf);
		why = xasprintf("unknown level \"%s\" (dane-only, dane, encrypt, may, none)", sh);
		free(sh);
		return why;
	}
	if ((dup = table_find(t, key)) != (size_t)-1)
		return xasprintf("duplicate key %s (first at line %u)", key, t->ent[dup].line);
	table_grow(t);
	t->ent[t->nent].key = xstrdup(key);
	t->ent[t->nent].level = level;
	t->ent[t->nent].line = line;
	slot_insert(t, t->nent);
	t->nent++;
	return NULL;
}

static struct policy_table *
parse_mem(const char *text, size_t n, const char *name, char **err)
{
	struct policy_table *t = xcalloc(1, sizeof(*t));

	t->seed = hash_seed(t);
	if (lineread_each(text, n, name, parse_line, t, err) < 0) {
		policy_table_free(t);
		return NULL;
	}
	return t;
}

/** policy_table_parse - table from text; NULL with *err (caller frees). */
struct policy_table *
policy_table_parse(const char *text, const char *name, char **err)
{
	return parse_mem(text, strlen(text), name, err);
}

/** policy_table_load - read and parse path; NULL with *err (caller frees). */
struct policy_table *
policy_table_load(const char *path, char **err)
{
	struct policy_table *t;
	char *text = NULL;
	size_t len = 0;

	if (lineread_file(path, TABLE_FILE_MAX, conf_file_trusted, &text, &len, err) < 0)
		return NULL;
	t = parse_mem(text, len, path, err);
	free(text);
	return t;
}

/** policy_table_free - release t. NULL is fine. */
void
policy_table_free(struct policy_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nent; i++)
		free(t->ent[i].key);
	free(t->ent);
	free(t->slot);
	free(t);
}

/**
 * policy_table_lookup - exact d, then ".parent" for each parent of d,
 * nearest first. *key points into the table.
 */
int
policy_table_lookup(const struct policy_table *t, const char *d, enum tls_level *level,
    const char **key)
{
	size_t i;

	if (t == NULL || d == NULL || t->nent == 0)
		return 0;
	for (const char *p = d; p && *p; p = strchr(p + 1, '.')) { /* "": nothing */
		if (p != d && p[1] == 0)
			break; /* trailing dot: no ".": parent */
		if ((i = table_find(t, p)) != (size_t)-1) {
			*level = t->ent[i].level;
			*key = t->ent[i].key;
			return 1;
		}
	}
	return 0;
}

/** policy_table_count - number of entries (0 for NULL). */
size_t
policy_table_count(const struct policy_table *t)
{
	return t ? t->nent : 0;
}
