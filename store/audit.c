/*
 * audit.c - the JSON Lines audit writer and event builders (see audit.h).
 *
 * Line atomicity: the whole line (JSON + '\n') is built in memory, then
 * written by one write(2) on a descriptor opened with O_APPEND; Linux
 * serialises O_APPEND writes on a regular file, so concurrent lines from
 * threads and processes never interleave. A short write (disk full) is a
 * failure: nothing is retried, because a second write could interleave;
 * the partial line it left is cut off again (audit_unwrite()), so the
 * file never holds a torn line that the next line would continue.
 * EINTR before anything was written is retried (io_write_once(), lib/io.h).
 *
 * Reopen: writers hold a read lock on the descriptor, audit_reopen() the
 * write lock while it swaps in the new descriptor.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "io.h"
#include "log.h"
#include "mem.h"
#include "stats.h"

struct audit_log {
	char *path; /* as given; "-" = stdout */
	int fd;
	enum audit_sync sync;
	pthread_rwlock_t lock; /* read: writers; write: reopen */
	atomic_ulong written;
	struct msg_rate failures; /* lines lost, and the last warning about it */
};

static int
audit_open_fd(const char *path, char **err)
{
	char ebuf[128];
	int fd;

	if (strcmp(path, "-") == 0)
		return STDOUT_FILENO;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0)
		*err = xasprintf("audit log %s: %s", path, strerror_r(errno, ebuf, sizeof(ebuf)));
	return fd;
}

struct audit_log *
audit_open(const char *path, enum audit_sync sync, char **err)
{
	struct audit_log *a;
	int fd;

	*err = NULL;
	if ((fd = audit_open_fd(path, err)) < 0)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->path = xstrdup(path);
	a->fd = fd;
	a->sync = sync;
	pthread_rwlock_init(&a->lock, NULL);
	atomic_init(&a->written, 0);
	return a;
}

int
audit_reopen(struct audit_log *a)
{
	char *err = NULL;
	int fd, old;

	if (a == NULL || strcmp(a->path, "-") == 0)
		return 0;
	if ((fd = audit_open_fd(a->path, &err)) < 0) {
		msg_error("cannot reopen the %s; still writing to the old file", err);
		free(err);
		return -1;
	}
	pthread_rwlock_wrlock(&a->lock);
	old = a->fd;
	a->fd = fd;
	pthread_rwlock_unlock(&a->lock);
	close(old);
	msg_info("audit log %s reopened", a->path);
	return 0;
}

/* Count a failure; warn for the first one and then once per interval. */
static void
audit_failed(struct audit_log *a, const char *what)
{
	unsigned long long n = msg_rate_due(&a->failures, AUDIT_WARN_INTERVAL);

	stats_add(STATS_AUDIT_WRITE_ERRORS, 1);
	if (n != 0)
		msg_warn("audit log %s: %s (%llu line(s) lost so far; mail is not affected)",
		    a->path, what, n);
}

/*
 * A short write left the first w bytes of a line at the end of the file
 * (the disk filled up within the line): truncate them away again. Only
 * when the file still ends where our write ended (descriptor offset ==
 * size), i.e. nobody appended after us - on a full disk nobody can. Not
 * for pipes or terminals (lseek fails) and never fatal.
 */
static void
audit_unwrite(int fd, ssize_t w)
{
	struct stat st;
	off_t end = lseek(fd, 0, SEEK_CUR);

	if (w <= 0 || end < (off_t)w || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size != end)
		return;
	if (ftruncate(fd, end - (off_t)w) < 0)
		msg_warn("audit log: cannot remove a partly written line: %m");
}

int
audit_write_lines(struct audit_log *a, const char *lines, size_t n, unsigned long count)
{
	unsigned long whole = 0;
	ssize_t w;
	char ebuf[128];
	const char *why = "short write";

	if (a == NULL || count == 0)
		return 0;
	pthread_rwlock_rdlock(&a->lock);
	w = io_write_once(a->fd, lines, n);
	if (w < 0) /* strerror_r (GNU variant under _GNU_SOURCE): thread-safe */
		why = strerror_r(errno, ebuf, sizeof(ebuf));
	if (w == (ssize_t)n && a->sync == AUDIT_SYNC_FSYNC && fdatasync(a->fd) < 0 &&
	    errno != EINVAL && errno != EROFS) {
		why = strerror_r(errno, ebuf, sizeof(ebuf));
		w = -1;
	}
	if (w == (ssize_t)n) {
		whole = count;
	} else if (w > 0) { /* whole lines stay; the one cut in two goes */
		const char *end = lines;

		for (const char *nl; (nl = memchr(end, '\n', (size_t)(lines + w - end))) != NULL;
		     end = nl + 1)
			whole++;
		audit_unwrite(a->fd, (ssize_t)(lines + w - end));
	}
	pthread_rwlock_unlock(&a->lock);
	atomic_fetch_add(&a->written, whole);
	for (unsigned long i = whole; i < count; i++)
		audit_failed(a, why);
	return whole == count ? 0 : -1;
}

int
audit_write(struct audit_log *a, const json_t *obj)
{
	return audit_write_with(a, obj, NULL, NULL, 0);
}

int
audit_line_with(struct audit_log *a, struct buf *lines, const json_t *obj, const char *key,
    const char *raw, size_t rawlen)
{
	char *text;
	size_t n;

	if (a == NULL)
		return 0;
	if ((text = json_dumps(obj, JSON_COMPACT)) == NULL || (n = strlen(text)) < 2 ||
	    text[n - 1] != '}') {
		audit_failed(a, "event could not be serialised");
		free(text);
		return -1;
	}
	if (key == NULL) {
		buf_append(lines, text, n);
	} else {
		buf_append(lines, text, n - 1);
		if (n > 2)
			buf_putc(lines, ',');
		buf_putc(lines, '"');
		buf_puts(lines, key);
		buf_puts(lines, "\":");
		buf_append(lines, raw, rawlen);
		buf_putc(lines, '}');
	}
	buf_putc(lines, '\n');
	free(text);
	return 0;
}

int
audit_write_with(struct audit_log *a, const json_t *obj, const char *key, const char *raw,
    size_t rawlen)
{
	struct buf line;
	int rc;

	if (a == NULL)
		return 0;
	buf_init(&line);
	rc = audit_line_with(a, &line, obj, key, raw, rawlen);
	if (rc == 0)
		rc = audit_write_lines(a, line.s, line.len, 1);
	buf_free(&line);
	return rc;
}

unsigned long
audit_written(const struct audit_log *a)
{
	return a ? atomic_load(&((struct audit_log *)a)->written) : 0;
}

unsigned long
audit_failures(const struct audit_log *a)
{
	return a ? (unsigned long)atomic_load(&((struct audit_log *)a)->failures.events) : 0;
}

void
audit_close(struct audit_log *a)
{
	if (a == NULL)
		return;
	if (a->fd != STDOUT_FILENO)
		close(a->fd);
	pthread_rwlock_destroy(&a->lock);
	free(a->path);
	free(a);
}

/* ------------------------------------------------------------- events */

json_t *
audit_string(const char *s)
{
	json_t *j;
	char *copy;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	copy = xstrdup(s);
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j ? j : json_null();
}

static json_t *
audit_string_nonempty(const char *s)
{
	return audit_string(s && *s ? s : NULL);
}

void
audit_timestamp(char *out, unsigned long outlen)
{
	struct timespec ts;
	struct tm tm;
	char day[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%03ldZ", day, ts.tv_nsec / 1000000L);
}

/* The members every event starts with. */
static json_t *
audit_event_head(const char *event, const struct audit_txn *t)
{
	char ts[40];
	json_t *o = json_object();

	audit_timestamp(ts, sizeof(ts));
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "time", json_string(ts));
	json_object_set_new(o, "session", audit_string(t->session));
	json_object_set_new(o, "queue_id", audit_string_nonempty(t->queue_id));
	json_object_set_new(o, "client",
	    json_pack("{s:o, s:o}", "name", audit_string(t->client_name), "addr",
		audit_string(t->client_addr)));
	json_object_set_new(o, "sender", audit_string(t->sender));
	json_object_set_new(o, "auth_user", audit_string_nonempty(t->auth_user));
	return o;
}

json_t *
audit_rcpt_event(const struct audit_txn *t, const char *recipient, const char *destination,
    const char *action, const char *reply, json_t *decision, int cache_hit, unsigned elapsed_ms)
{
	json_t *o = audit_event_head("rcpt", t);

	json_object_set_new(o, "recipient", audit_string(recipient ? recipient : ""));
	json_object_set_new(o, "destination", audit_string(destination ? destination : ""));
	json_object_set_new(o, "action", json_string(action));
	json_object_set_new(o, "reply", audit_string(reply));
	json_object_set_new(o, "cache_hit", json_boolean(cache_hit));
	json_object_set_new(o, "elapsed_ms", json_integer((json_int_t)elapsed_ms));
	if (decision != NULL)
		json_object_set_new(o, "decision", decision);
	return o;
}

void
audit_rcpts_init(struct audit_rcpts *r)
{
	r->list = NULL;
	r->bytes = 0;
	r->omitted = 0;
}

void
audit_rcpts_add(struct audit_rcpts *r, const char *recipient, const char *destination,
    const char *verdict, const char *action)
{
	size_t have = r->list ? json_array_size(r->list) : 0, n;
	json_t *e;

	if (r->omitted > 0 || have >= AUDIT_MSG_RCPTS_MAX) { /* the list stays a prefix */
		r->omitted++;
		return;
	}
	e = json_pack("{s:o, s:o, s:s, s:s}", "recipient", audit_string(recipient ? recipient : ""),
	    "destination", audit_string(destination ? destination : ""), "verdict", verdict,
	    "action", action);
	/* json_dumpb with no buffer: the size alone, nothing allocated */
	n = e ? json_dumpb(e, NULL, 0, JSON_COMPACT) : 0;
	if (n == 0 || 2 + r->bytes + (have ? 1 : 0) + n > AUDIT_MSG_RCPT_BYTES) {
		json_decref(e);
		r->omitted++;
		return;
	}
	if (r->list == NULL)
		r->list = json_array();
	r->bytes += (have ? 1 : 0) + n;
	json_array_append_new(r->list, e);
}

void
audit_rcpts_free(struct audit_rcpts *r)
{
	json_decref(r->list);
	audit_rcpts_init(r);
}

json_t *
audit_message_event(const struct audit_txn *t, const char *end, struct audit_rcpts *r, int accepted,
    int deferred)
{
	json_t *o = audit_event_head("message", t);

	json_object_set_new(o, "end", json_string(end));
	json_object_set_new(o, "recipients", r && r->list ? r->list : json_array());
	json_object_set_new(o, "recipients_omitted", json_integer(r ? (json_int_t)r->omitted : 0));
	json_object_set_new(o, "accepted", json_integer(accepted));
	json_object_set_new(o, "deferred", json_integer(deferred));
	if (r != NULL)
		audit_rcpts_init(r); /* the list was taken */
	return o;
}

json_t *
audit_smime_event(const struct audit_txn *t, json_t *smime, const char *action,
    const char *header, unsigned removed)
{
	json_t *o = audit_event_head("smime", t);

	json_object_set_new(o, "action", json_string(action));
	json_object_set_new(o, "header", audit_string(header));
	json_object_set_new(o, "removed", json_integer(removed));
	json_object_set_new(o, "smime", smime ? smime : json_null());
	return o;
}
