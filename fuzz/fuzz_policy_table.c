/*
 * fuzz_policy_table.c - libFuzzer target: the local policy table file
 * (policy/policy_table.h policy_table_parse, policy_table_lookup).
 *
 * Input: the table text (the C string up to the first NUL).
 * Properties checked (abort = bug in danepol):
 *   - parse gives a table or an error text, never both nor neither;
 *   - lookups of fixed names (the root, odd dots, deep names) and of
 *     every line's first field never fail unsafely; a hit has a key and
 *     a level in range;
 *   - for a parsed table, every key line "NAME LEVEL" whose NAME
 *     normalises to N is found: exactly N for "N", and some key for
 *     "a.N" when NAME is ".N";
 *   - the number of entries is at most the number of lines.
 */
#include "config.h"

#include <string.h>

#include "dnsname.h"
#include "fuzz.h"
#include "policy.h"
#include "policy_table.h"

static const char *const fixed[] = {
	"", ".", "..", "com", "example.com", "example.com.", "a.b.example.com",
	"mx.example.net", "x.example.net.", ".example.net", "xn--bcher-kva.example",
	"a.", "a..b", "_25._tcp.example.com",
};

static int
lookup(const struct policy_table *t, const char *name, const char **key)
{
	enum tls_level lvl = TLS_LEVEL_NONE;
	int hit;

	*key = NULL;
	hit = policy_table_lookup(t, name, &lvl, key);
	FUZZ_CHECK(hit == 0 || hit == 1);
	if (hit) {
		FUZZ_CHECK(*key != NULL);
		FUZZ_CHECK(lvl >= TLS_LEVEL_NONE && lvl <= TLS_LEVEL_DANE_ONLY);
		FUZZ_CHECK(tls_level_name(lvl) != NULL);
	}
	return hit;
}

/* The line's first field: find it and check it is found. */
static void
check_line(const struct policy_table *t, const char *line, size_t len)
{
	char field[DNSNAME_MAX + 8], canon[DNSNAME_MAX], probe[DNSNAME_MAX + 8];
	const char *why, *key;
	size_t a = 0, b;

	while (a < len && (line[a] == ' ' || line[a] == '\t'))
		a++;
	for (b = a; b < len && line[b] != ' ' && line[b] != '\t' && line[b] != '\r'; b++)
		continue;
	if (b == a || b - a >= sizeof(field) || line[a] == '#')
		return;
	memcpy(field, line + a, b - a);
	field[b - a] = 0;
	(void)lookup(t, field, &key);
	if (t == NULL || policy_table_count(t) == 0)
		return;
	if (field[0] == '.') {
		if (dnsname_normalize(field + 1, 0, canon, &why) < 0 || canon[0] == 0)
			return;
		snprintf(probe, sizeof(probe), "a.%s", canon);
		if (strlen(probe) < DNSNAME_MAX)
			FUZZ_CHECK(lookup(t, probe, &key) == 1);
	} else {
		if (dnsname_normalize(field, 0, canon, &why) < 0 || canon[0] == 0)
			return;
		FUZZ_CHECK(lookup(t, canon, &key) == 1);
		FUZZ_CHECK(strcmp(key, canon) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	char *err = NULL;
	struct policy_table *t = policy_table_parse(text, "fuzz.table", &err);
	const char *key, *p = text;
	size_t nlines = 1;

	FUZZ_CHECK((t == NULL) == (err != NULL));
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		(void)lookup(t, fixed[i], &key);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		check_line(t, p, len);
		if (!nl)
			break;
		nlines++;
		p = nl + 1;
	}
	FUZZ_CHECK(policy_table_count(t) <= nlines);
	policy_table_free(t);
	free(err);
	free(text);
	return 0;
}
