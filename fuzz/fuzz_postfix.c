/*
 * fuzz_postfix.c - libFuzzer target: a Postfix mail log read for TLS
 * outcomes (report/report.h report_postfix_ingest, report/report_postfix.c)
 * into an outcome store (store/store.h): a fresh SQLite file for every
 * input, in a private directory under $TMPDIR (default /tmp; the store
 * wants WAL mode, which ":memory:" has not), removed after the run.
 *
 * Input: the log file, any bytes (written to a memfd and read through
 * /proc/self/fd/N, as the reader opens a path).
 * Properties checked (abort = bug in danepol):
 *   - ingest returns a count >= 0 or -1 with an error text; never both;
 *   - the store then holds exactly that many outcomes;
 *   - skipped lines are at most the lines of the file;
 *   - reading the same log again adds nothing (the dedupe report.h and
 *     report_postfix.c promise).
 */
#include "config.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "report.h"
#include "store.h"

#define T_FROM	0
#define T_TO	4102444800LL	/* 2100-01-01 */

static const char *cleanup_path;

/* Remove the database and its WAL files. */
static void
remove_db(const char *db)
{
	char p[320];

	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-journal", db);
	unlink(p);
}

static void
cleanup_dir(void)
{
	char db[300];

	snprintf(db, sizeof(db), "%s/outcomes.db", cleanup_path);
	remove_db(db);
	rmdir(cleanup_path);
}

static int
count_one(const struct tls_outcome *o, void *arg)
{
	(void)o;
	(*(size_t *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char dir[256], db[300];
	char path[64], *err = NULL;
	struct store *s;
	size_t skipped = 0, lines = 1, stored = 0;
	long n, again;

	if (fd < 0) {
		const char *tmp = getenv("TMPDIR");

		fd = memfd_create("danepol-fuzz-maillog", 0);
		snprintf(dir, sizeof(dir), "%s/danepol-fuzz-XXXXXX", tmp ? tmp : "/tmp");
		FUZZ_CHECK(mkdtemp(dir) != NULL);
		snprintf(db, sizeof(db), "%s/outcomes.db", dir);
		atexit(cleanup_dir);
		cleanup_path = dir;
	}
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	s = store_open(db, &err);
	if (s == NULL)
		fprintf(stderr, "store_open: %s\n", err);
	FUZZ_CHECK(s != NULL);
	n = report_postfix_ingest(s, path, T_FROM, T_TO, &skipped, &err);
	if (n < 0) {
		FUZZ_CHECK(n == -1 && err != NULL);
		goto out;
	}
	FUZZ_CHECK(err == NULL);
	FUZZ_CHECK(skipped <= lines);
	FUZZ_CHECK(store_each(s, T_FROM, T_TO, NULL, count_one, &stored, &err) == 0);
	FUZZ_CHECK(stored == (size_t)n);
	again = report_postfix_ingest(s, path, T_FROM, T_TO, NULL, &err);
	FUZZ_CHECK(again == 0);
out:
	free(err);
	store_close(s);
	remove_db(db);
	return 0;
}
