/*
 * test_audit.c - criterion tests of the JSON Lines audit writer and its
 * event builders (store/audit.c).
 *
 * Line atomicity: many threads, and several processes with their own
 * descriptors, append lines of mixed sizes (up to 3 x PIPE_BUF) to one
 * file; afterwards every line must parse as JSON and every (writer, seq)
 * pair must be there exactly once. Reopen after a rename; write failures
 * on /dev/full are counted and never fatal; events carry the documented
 * fields, and hostile strings (bad UTF-8, control bytes) stay one line.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "log.h"
#include "mem.h"
#include "policy.h"
#include "policy_json.h"

#define NTHREADS	8
#define NLINES		400
#define NPROCS		3

static char tmpdir[64];

static void
setup(void)
{
	strcpy(tmpdir, "/tmp/test_audit.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);

	if (system(cmd) != 0) {
		/* best effort */
	}
	free(cmd);
}

static char *
tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* A line of writer w, number seq, padded to a size that varies with seq. */
static json_t *
test_line(int w, int seq)
{
	size_t pad = (size_t)((seq * 7919) % 12000);
	char *p = xmalloc(pad + 1);
	json_t *o;

	memset(p, 'a' + (w % 26), pad);
	p[pad] = 0;
	o = json_pack("{s:i, s:i, s:s}", "w", w, "seq", seq, "pad", p);
	free(p);
	return o;
}

struct writer_arg {
	struct audit_log *a;
	int w;
};

static void *
writer(void *arg)
{
	struct writer_arg *wa = arg;

	for (int i = 0; i < NLINES; i++) {
		json_t *o = test_line(wa->w, i);

		audit_write(wa->a, o);
		json_decref(o);
	}
	return NULL;
}

/* Read path: every line parses; count[w][seq] incremented. Returns lines. */
static int
check_file(const char *path, int nwriters, int counts[][NLINES])
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lines = 0;

	cr_assert_not_null(fp, "cannot open %s", path);
	while ((n = getline(&line, &cap, fp)) > 0) {
		json_error_t e;
		json_t *o = json_loadb(line, (size_t)n, 0, &e);
		int w, seq;

		cr_assert_not_null(o, "line %d does not parse: %s", lines + 1, e.text);
		cr_assert_eq(line[n - 1], '\n');
		cr_assert_eq(json_unpack(o, "{s:i, s:i}", "w", &w, "seq", &seq), 0);
		cr_assert(w >= 0 && w < nwriters && seq >= 0 && seq < NLINES);
		counts[w][seq]++;
		json_decref(o);
		lines++;
	}
	free(line);
	fclose(fp);
	return lines;
}

TestSuite(audit, .init = setup, .fini = teardown, .timeout = 60);

Test(audit, threads_lines_atomic)
{
	char *path = tpath("threads.log");
	char *err = NULL;
	struct audit_log *a = audit_open(path, AUDIT_SYNC_FLUSH, &err);
	struct audit_log *b = audit_open(path, AUDIT_SYNC_NONE, &err);	/* second fd */
	pthread_t t[NTHREADS];
	struct writer_arg wa[NTHREADS];
	static int counts[NTHREADS][NLINES];

	cr_assert_not_null(a);
	cr_assert_not_null(b);
	for (int i = 0; i < NTHREADS; i++) {
		wa[i].a = (i % 2) ? b : a;
		wa[i].w = i;
		cr_assert_eq(pthread_create(&t[i], NULL, writer, &wa[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(audit_written(a) + audit_written(b), (unsigned long)NTHREADS * NLINES);
	cr_assert_eq(audit_failures(a) + audit_failures(b), 0);
	audit_close(a);
	audit_close(b);
	memset(counts, 0, sizeof(counts));
	cr_assert_eq(check_file(path, NTHREADS, counts), NTHREADS * NLINES);
	for (int w = 0; w < NTHREADS; w++)
		for (int s = 0; s < NLINES; s++)
			cr_assert_eq(counts[w][s], 1, "writer %d line %d seen %d times", w, s, counts[w][s]);
	free(path);
}

Test(audit, processes_lines_atomic)
{
	char *path = tpath("procs.log");
	static int counts[NPROCS][NLINES];
	pid_t pids[NPROCS];

	for (int p = 0; p < NPROCS; p++) {
		pids[p] = fork();
		cr_assert(pids[p] >= 0);
		if (pids[p] == 0) {
			char *err = NULL;
			struct writer_arg wa = { audit_open(path, AUDIT_SYNC_FSYNC, &err), p };

			if (wa.a == NULL)
				_exit(2);
			writer(&wa);
			_exit(audit_failures(wa.a) == 0 ? 0 : 3);
		}
	}
	for (int p = 0; p < NPROCS; p++) {
		int st;

		cr_assert_eq(waitpid(pids[p], &st, 0), pids[p]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d failed", p);
	}
	memset(counts, 0, sizeof(counts));
	cr_assert_eq(check_file(path, NPROCS, counts), NPROCS * NLINES);
	for (int w = 0; w < NPROCS; w++)
		for (int s = 0; s < NLINES; s++)
			cr_assert_eq(counts[w][s], 1);
	free(path);
}

static int
count_lines(const char *path)
{
	FILE *fp = fopen(path, "r");
	int c, n = 0;

	if (fp == NULL)
		return -1;
	while ((c = getc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

Test(audit, reopen_after_rename)
{
	char *path = tpath("r.log"), *moved = tpath("r.log.1");
	char *err = NULL;
	struct audit_log *a = audit_open(path, AUDIT_SYNC_FLUSH, &err);
	json_t *o = json_pack("{s:s}", "x", "y");

	cr_assert_not_null(a);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(audit_write(a, o), 0);
	cr_assert_eq(rename(path, moved), 0);
	cr_assert_eq(audit_write(a, o), 0);	/* still the old file */
	cr_assert_eq(audit_reopen(a), 0);
	cr_assert_eq(audit_write(a, o), 0);
	cr_assert_eq(audit_write(a, o), 0);
	cr_assert_eq(count_lines(moved), 4);
	cr_assert_eq(count_lines(path), 2);
	/* reopen failing (directory gone) keeps the old descriptor */
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(unlink(moved), 0);
	cr_assert_eq(rmdir(tmpdir), 0);
	cr_assert_eq(audit_reopen(a), -1);
	cr_assert_eq(audit_write(a, o), 0);
	cr_assert_eq(audit_written(a), 7);
	json_decref(o);
	audit_close(a);
	free(path);
	free(moved);
}

static int warnings;

static void
capture(int prio, const char *line)
{
	(void)line;
	if (prio == 4)	/* LOG_WARNING */
		__atomic_fetch_add(&warnings, 1, __ATOMIC_SEQ_CST);
}

Test(audit, write_failure_counted_not_fatal)
{
	char *err = NULL;
	struct audit_log *a = audit_open("/dev/full", AUDIT_SYNC_FLUSH, &err);
	json_t *o = json_pack("{s:s}", "x", "y");

	cr_assert_not_null(a, "%s", err ? err : "");
	msg_set_capture(capture);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(audit_write(a, o), -1);
	msg_set_capture(NULL);
	cr_assert_eq(warnings, 1, "failures are logged rate-limited (got %d warnings)", warnings);
	cr_assert_eq(audit_failures(a), 5);
	cr_assert_eq(audit_written(a), 0);
	json_decref(o);
	audit_close(a);
}

/* Three lines of obj {"n": i} made by audit_line_with() into b; a pad
 * makes each line exactly 100 bytes. */
static void
three_lines(struct audit_log *a, struct buf *b)
{
	for (int i = 0; i < 3; i++) {
		char pad[128];
		json_t *o;

		memset(pad, 'p', 73);
		pad[73] = 0;
		o = json_pack("{s:i,s:s}", "n", i, "pad", pad);
		/* {"n":0,"pad":"<73>"} + ,"x":12345 + } + \n: 100 bytes */
		cr_assert_eq(audit_line_with(a, b, o, "x", "12345", 5), 0);
		json_decref(o);
	}
	cr_assert_eq(b->len, 300, "3 lines of 100 bytes, got %zu bytes", b->len);
}

Test(audit, lines_in_one_write)
{
	char *path = tpath("batch.log"), *err = NULL, *text = NULL;
	struct audit_log *a = audit_open(path, AUDIT_SYNC_FSYNC, &err);
	struct buf b;
	FILE *fp;
	size_t cap = 0;
	int n = 0;

	cr_assert_not_null(a, "%s", err ? err : "");
	buf_init(&b);
	three_lines(a, &b);
	cr_assert_eq(audit_write_lines(a, b.s, b.len, 3), 0);
	cr_assert_eq(audit_write_lines(a, b.s, 0, 0), 0, "no line: nothing to do");
	cr_assert_eq(audit_written(a), 3);
	cr_assert_eq(audit_line_with(NULL, &b, NULL, NULL, NULL, 0), 0);
	cr_assert_eq(audit_write_lines(NULL, b.s, b.len, 3), 0);
	audit_close(a);
	cr_assert_not_null(fp = fopen(path, "r"));
	for (; getline(&text, &cap, fp) > 0; n++) {
		char want[32];

		snprintf(want, sizeof(want), "{\"n\":%d,", n);
		cr_expect_eq(strncmp(text, want, strlen(want)), 0, "line %d in order: %s", n, text);
	}
	cr_expect_eq(n, 3);
	free(text);
	fclose(fp);
	buf_free(&b);
	free(path);
}

/*
 * A batch cut short (the file size limit, as a full disk would) keeps the
 * whole lines it wrote and removes the part of the line it split; the
 * lines not written are each counted lost.
 */
Test(audit, lines_cut_short_keep_whole_lines)
{
	char *path = tpath("short.log"), *err = NULL;
	struct audit_log *a = audit_open(path, AUDIT_SYNC_FLUSH, &err);
	struct rlimit rl = { .rlim_cur = 250, .rlim_max = RLIM_INFINITY };
	struct stat st;
	struct buf b;

	cr_assert_not_null(a, "%s", err ? err : "");
	buf_init(&b);
	three_lines(a, &b);
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	msg_set_capture(capture);
	cr_assert_eq(audit_write_lines(a, b.s, b.len, 3), -1);
	msg_set_capture(NULL);
	cr_assert_eq(audit_written(a), 2);
	cr_assert_eq(audit_failures(a), 1);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 200, "the two whole lines stay, the cut one goes (size %lld)",
	    (long long)st.st_size);
	audit_close(a);
	a = audit_open("/dev/full", AUDIT_SYNC_FLUSH, &err);
	cr_assert_not_null(a);
	cr_assert_eq(audit_write_lines(a, b.s, b.len, 3), -1);
	cr_assert_eq(audit_failures(a), 3, "nothing written: every line lost");
	audit_close(a);
	buf_free(&b);
	free(path);
}

Test(audit, open_failure_reports)
{
	char *err = NULL;
	struct audit_log *a = audit_open("/nonexistent-dir/x/audit.log", AUDIT_SYNC_NONE, &err);

	cr_assert_null(a);
	cr_assert_not_null(err);
	cr_assert_not_null(strstr(err, "/nonexistent-dir/x/audit.log"));
	free(err);
	cr_assert_eq(audit_write(NULL, NULL), 0);
	cr_assert_eq(audit_failures(NULL), 0);
}

Test(audit, stdout_dash, .init = cr_redirect_stdout)
{
	char *err = NULL;
	struct audit_log *a = audit_open("-", AUDIT_SYNC_FLUSH, &err);
	json_t *o = json_pack("{s:i}", "n", 1);

	cr_assert_not_null(a);
	cr_assert_eq(audit_write(a, o), 0);
	cr_assert_eq(audit_reopen(a), 0);	/* no-op on stdout */
	json_decref(o);
	audit_close(a);		/* must not close fd 1 */
	fflush(stdout);
	cr_assert_stdout_eq_str("{\"n\":1}\n");
}

Test(audit, write_with_appends_a_rendered_member, .init = cr_redirect_stdout)
{
	char *err = NULL;
	struct audit_log *a = audit_open("-", AUDIT_SYNC_FLUSH, &err);
	json_t *o = json_pack("{s:i,s:s}", "n", 1, "s", "x\"y");
	json_t *empty = json_object();
	const char raw[] = "{\"domain\":\"a.example\",\"hosts\":[]}";

	cr_assert_not_null(a);
	cr_assert_eq(audit_write_with(a, o, "decision", raw, strlen(raw)), 0);
	cr_assert_eq(audit_write_with(a, empty, "decision", "null", 4), 0);
	cr_assert_eq(audit_write_with(a, o, NULL, NULL, 0), 0);
	cr_assert_eq(audit_written(a), 3);
	cr_assert_eq(audit_write_with(NULL, o, "decision", "null", 4), 0);
	json_decref(o);
	json_decref(empty);
	audit_close(a);
	fflush(stdout);
	cr_assert_stdout_eq_str(
	    "{\"n\":1,\"s\":\"x\\\"y\",\"decision\":{\"domain\":\"a.example\",\"hosts\":[]}}\n"
	    "{\"decision\":null}\n"
	    "{\"n\":1,\"s\":\"x\\\"y\"}\n");
}

static const struct audit_txn txn = {
	.session = "00000001000000aa", .queue_id = "", .client_name = "client.test",
	.client_addr = "192.0.2.7", .sender = "s@probe.test", .auth_user = NULL,
};

static int
time_ok(const char *t)
{
	/* 2026-11-23T18:00:00.123Z */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	if (strlen(t) != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i])
			return 0;
	return 1;
}

Test(audit, rcpt_event_fields)
{
	struct policy_decision *d = policy_decision_simple("bogus.example", POLICY_DEFER,
	    TLS_LEVEL_DANE, POLICY_R_MX_BOGUS, "test");
	json_t *ev = audit_rcpt_event(&txn, "bob@bogus.example", "bogus.example", "tempfail",
	    "450 4.7.5 x", policy_json_decision(d, NULL, NULL), 1, 12);
	const char *event, *time, *action, *reply, *verdict;
	json_t *qid, *auth, *client;
	int hit, ms;

	cr_assert_not_null(ev);
	cr_assert_eq(json_unpack(ev, "{s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:b, s:i, s:{s:s}}",
	    "event", &event, "time", &time, "queue_id", &qid, "auth_user", &auth,
	    "client", &client, "action", &action, "reply", &reply, "cache_hit", &hit,
	    "elapsed_ms", &ms, "decision", "verdict", &verdict), 0);
	cr_assert_str_eq(event, "rcpt");
	cr_assert(time_ok(time), "bad time %s", time);
	cr_assert(json_is_null(qid), "empty queue id must be null");
	cr_assert(json_is_null(auth));
	cr_assert_str_eq(json_string_value(json_object_get(client, "addr")), "192.0.2.7");
	cr_assert_str_eq(action, "tempfail");
	cr_assert_str_eq(reply, "450 4.7.5 x");
	cr_assert_str_eq(verdict, "defer");
	cr_assert_eq(hit, 1);
	cr_assert_eq(ms, 12);
	json_decref(ev);
	policy_decision_unref(d);
}

Test(audit, hostile_strings_one_line)
{
	char *path = tpath("h.log");
	char *err = NULL;
	struct audit_log *a = audit_open(path, AUDIT_SYNC_FLUSH, &err);
	json_t *ev = audit_rcpt_event(&txn, "a\xff\xfe\nb@x\r\n{\"event\":\"forged\"}",
	    "x\x01y", "continue", NULL, NULL, 0, 0);
	json_t *back;
	json_error_t e;
	const char *r;

	cr_assert_not_null(a);
	cr_assert_eq(audit_write(a, ev), 0);
	audit_close(a);
	cr_assert_eq(count_lines(path), 1, "a recipient must not split the line");
	back = json_load_file(path, 0, &e);
	cr_assert_not_null(back, "%s", e.text);
	r = json_string_value(json_object_get(back, "recipient"));
	cr_assert_str_eq(r, "a??\nb@x\r\n{\"event\":\"forged\"}");
	cr_assert_str_eq(json_string_value(json_object_get(back, "event")), "rcpt");
	cr_assert(json_is_null(json_object_get(back, "reply")));
	json_decref(back);
	json_decref(ev);
	free(path);
}

Test(audit, message_event_fields)
{
	struct audit_rcpts rc;
	json_t *ev;
	const char *end, *qid;
	int acc, def, omitted;
	json_t *list;

	audit_rcpts_init(&rc);
	audit_rcpts_add(&rc, "a@x", "x", "require", "continue");
	audit_rcpts_add(&rc, "b@y", "y", "defer", "tempfail");
	struct audit_txn t = txn;

	t.queue_id = "4XyZ";
	ev = audit_message_event(&t, "close", &rc, 1, 1);
	cr_assert_null(rc.list, "the list was taken");
	cr_assert_eq(json_unpack(ev, "{s:s, s:s, s:o, s:i, s:i, s:i}", "end", &end, "queue_id", &qid,
	    "recipients", &list, "recipients_omitted", &omitted, "accepted", &acc, "deferred", &def), 0);
	cr_assert_str_eq(end, "close");
	cr_assert_str_eq(qid, "4XyZ");
	cr_assert_eq(json_array_size(list), 2);
	cr_assert_eq(omitted, 0);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 1), "action")),
	    "tempfail");
	cr_assert_eq(acc, 1);
	cr_assert_eq(def, 1);
	json_decref(ev);
	ev = audit_message_event(&txn, "abort", NULL, 0, 0);
	cr_assert(json_is_array(json_object_get(ev, "recipients")));
	cr_assert_eq(json_array_size(json_object_get(ev, "recipients")), 0);
	cr_assert_eq(json_integer_value(json_object_get(ev, "recipients_omitted")), 0);
	json_decref(ev);
}

/*
 * The list is bounded in bytes and entries; what is left out is counted,
 * the kept part is a prefix, and its JSON size is what was accounted.
 */
Test(audit, message_recipients_bounded)
{
	struct audit_rcpts rc;
	char big[1001], small[32];
	size_t n;
	char *text;
	json_t *ev, *list;

	memset(big, 'b', 1000);
	big[1000] = 0;
	big[990] = '\x01';			/* escaped as \u0001: 6 bytes */
	audit_rcpts_init(&rc);
	for (int i = 0; i < 20000; i++)
		audit_rcpts_add(&rc, big, "bogus.example", "defer", "tempfail");
	n = json_array_size(rc.list);
	cr_assert(n > 50 && n < 200, "%zu entries kept", n);
	cr_assert_eq(rc.omitted, 20000 - n);
	text = json_dumps(rc.list, JSON_COMPACT);
	cr_assert_eq(strlen(text), 2 + rc.bytes, "accounted %zu, real %zu", rc.bytes, strlen(text));
	cr_assert_leq(strlen(text), AUDIT_MSG_RCPT_BYTES);
	free(text);
	audit_rcpts_add(&rc, "x@y", "y", "try", "continue");	/* small: still omitted */
	cr_assert_eq(rc.omitted, 20001 - n);
	ev = audit_message_event(&txn, "eom", &rc, 0, 20001);
	cr_assert_eq(json_integer_value(json_object_get(ev, "recipients_omitted")), 20001 - n);
	json_decref(ev);
	/* small entries: the count bound */
	audit_rcpts_init(&rc);
	for (int i = 0; i < AUDIT_MSG_RCPTS_MAX + 5; i++) {
		snprintf(small, sizeof(small), "u%d@a", i);
		audit_rcpts_add(&rc, small, "a", "try", "continue");
	}
	list = rc.list;
	cr_assert_eq(json_array_size(list), AUDIT_MSG_RCPTS_MAX);
	cr_assert_eq(rc.omitted, 5);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "recipient")), "u0@a");
	audit_rcpts_free(&rc);
	cr_assert_null(rc.list);
}
