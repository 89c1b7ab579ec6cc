/*
 * fuzz_conf.c - libFuzzer target: danepol.conf text (conf/conf.h), and
 * the status.<reason> overrides it collects (policy/policy_status.h
 * policy_status_set), as an operator (or a hostile file) writes them.
 *
 * Input: the whole file, any bytes. It is loaded twice: with conf_load()
 * from a memfd (the file path: sees NUL bytes, size limits) and, as the C
 * string up to the first NUL, with conf_parse().
 * Properties checked (abort = bug in danepol):
 *   - each call gives a snapshot or an error text, never both nor neither;
 *   - without NUL bytes both ways agree (same conf_print() output, or
 *     both fail);
 *   - conf_print() output parses back, and prints the same again (the
 *     round trip conf.c promises);
 *   - every collected status override either sets its row or gives a
 *     reason, and the reply text built from the row is non-empty.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "policy.h"
#include "policy_status.h"

/* conf_print() into a new string (caller frees). */
static char *
print_conf(const struct conf *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&s, &n);

	FUZZ_CHECK(fp != NULL);
	conf_print(c, fp);
	FUZZ_CHECK(fclose(fp) == 0);
	return s;
}

/* conf_load() of data through a memfd (created once, rewritten each run). */
static struct conf *
load_memfd(const uint8_t *data, size_t size, char **err)
{
	static int fd = -1;
	char path[64];

	if (fd < 0) {
		fd = memfd_create("danepol-fuzz-conf", 0);
		/* a memfd is born 0777: conf_load's StrictModes would refuse it */
		FUZZ_CHECK(fd >= 0 && fchmod(fd, 0600) == 0);
	}
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return conf_load(path, err);
}

static void
check_status(const struct conf *c)
{
	struct policy_status_table *t = policy_status_table_new();

	for (size_t i = 0; i < c->nstatus; i++) {
		const char *why = NULL;
		enum policy_reason r;
		char *text;

		if (policy_status_set(t, c->status[i].reason, c->status[i].value, &why) < 0) {
			FUZZ_CHECK(why != NULL);
			continue;
		}
		FUZZ_CHECK(policy_reason_parse(c->status[i].reason, &r) == 0);
		text = policy_status_reply_text(policy_status_get(t, r), "example.com",
		    "a why text with 100% of it");
		FUZZ_CHECK(text != NULL && text[0] != 0);
		free(text);
	}
	policy_status_table_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	char *err1 = NULL, *err2 = NULL, *p1 = NULL, *p2 = NULL, *err3 = NULL;
	struct conf *c1 = load_memfd(data, size, &err1);
	struct conf *c2 = conf_parse(text, "fuzz.conf", &err2);
	struct conf *c3 = NULL;

	FUZZ_CHECK((c1 == NULL) == (err1 != NULL));
	FUZZ_CHECK((c2 == NULL) == (err2 != NULL));
	if (memchr(data, 0, size) == NULL)
		FUZZ_CHECK((c1 == NULL) == (c2 == NULL));
	if (c2 == NULL)
		goto out;
	p1 = print_conf(c2);
	if (c1 != NULL && memchr(data, 0, size) == NULL) {
		char *p0 = print_conf(c1);

		FUZZ_CHECK(strcmp(p0, p1) == 0);
		free(p0);
	}
	c3 = conf_parse(p1, "printed", &err3);
	if (c3 == NULL)
		fprintf(stderr, "conf_print output does not parse: %s\n", err3);
	FUZZ_CHECK(c3 != NULL);
	p2 = print_conf(c3);
	FUZZ_CHECK(strcmp(p1, p2) == 0);
	check_status(c2);
out:
	conf_free(c1);
	conf_free(c2);
	conf_free(c3);
	free(err1);
	free(err2);
	free(err3);
	free(p1);
	free(p2);
	free(text);
	return 0;
}
