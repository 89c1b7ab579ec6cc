/*
 * report_send.c - RFC 8460 section 5: report files and their delivery
 * (contract in report_send.h).
 *
 * Files: "sender!policy-domain!begin!end!uid.json.gz" in report_dir,
 * written atomically (temporary file, fsync, rename), mode 0640.
 *
 * mailto: the message is built here (multipart/report;
 * report-type="tlsrpt", a short text part and the gzipped report as a
 * base64 application/tlsrpt+gzip attachment, the RFC 8460 headers and
 * "TLS-Required: No" of RFC 8689) and handed to report_sendmail with
 * "-oi -f <report_from> -- <address>" on its standard input; the command
 * gets no shell, its standard output goes to /dev/null, its exit status
 * 0 means the MTA took the message. The addresses were validated by the
 * rua parser (report_rua.c) and report_from here, so no argument can be
 * read as an option and no header can be forged with a line break.
 * DKIM signing is the MTA's job (a milter such as OpenDKIM).
 *
 * https: POST of the gzipped report as application/tlsrpt+gzip through
 * libcurl: https only (no redirects, no other protocol), certificate and
 * host name verified, bounded connect and total time; any 2xx status is
 * delivery. DANEPOL_REPORT_CAFILE (test-only, danepol(1)) names a CA file
 * to verify against instead of the system store.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <curl/curl.h>

#include "buf.h"
#include "clock.h"
#include "dnsname.h"
#include "io.h"
#include "log.h"
#include "mem.h"
#include "report_send.h"

extern char **environ;

#define FILE_MAX	    (64u << 20) /* report files read back: 64 MB */
#define SENDMAIL_TIMEOUT_MS 120000	/* write the message and wait for the exit */
#define HTTPS_CONNECT_S	    30L
#define HTTPS_TOTAL_S	    120L
#define B64_LINE	    76

/* ------------------------------------------------------------ names */

/* Lower-case LDH name with dots, 1..253 chars, no empty label. */
static int
ldh_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") != NULL)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
			*p == '.'))
			return 0;
	return 1;
}

/** report_send_filename - see report_send.h. */
char *
report_send_filename(const char *sender, const char *policy_domain, int64_t start, int64_t end,
    const char *uid, char **err)
{
	size_t ulen = strlen(uid);

	if (!ldh_name_ok(sender) || !ldh_name_ok(policy_domain)) {
		*err = xasprintf("not a file-name-safe domain: %.255s / %.255s", sender,
		    policy_domain);
		return NULL;
	}
	if (ulen == 0 || ulen > 32 ||
	    strspn(uid,
		"0123456789abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ") != ulen) {
		*err = xasprintf("unique-id must be 1..32 alphanumerics: %.40s", uid);
		return NULL;
	}
	if (start < 0 || end <= start) {
		*err = xasprintf("bad time range %lld..%lld", (long long)start, (long long)end);
		return NULL;
	}
	return xasprintf("%s!%s!%lld!%lld!%s.json.gz", sender, policy_domain, (long long)start,
	    (long long)(end - 1), uid);
}

/** report_send_submitter - see report_send.h. */
char *
report_send_submitter(const struct conf *c, char **err)
{
	const char *at = c->report_contact ? strrchr(c->report_contact, '@') : NULL;
	char dom[DNSNAME_MAX];
	const char *why = "no '@'";

	if (at == NULL || dnsname_normalize(at + 1, 0, dom, &why) < 0 || !ldh_name_ok(dom)) {
		*err = xasprintf("report_contact %.255s: not an address with a domain (%s)",
		    c->report_contact ? c->report_contact : "(unset)", why);
		return NULL;
	}
	return xstrdup(dom);
}

/* ------------------------------------------------------------ files */

/** report_send_gzip - see report_send.h. */
unsigned char *
report_send_gzip(const void *data, size_t len, size_t *outlen, char **err)
{
	z_stream z;
	unsigned char *out;
	size_t cap;
	int rc;

	memset(&z, 0, sizeof(z));
	if (len > UINT_MAX / 2 ||
	    deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) !=
		Z_OK) {
		*err = xstrdup("gzip: cannot initialise (or input too large)");
		return NULL;
	}
	cap = deflateBound(&z, (uLong)len) + 32;
	out = xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	rc = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		*err = xasprintf("gzip: deflate failed (%d)", rc);
		free(out);
		return NULL;
	}
	return out;
}

/** report_send_write_file - see report_send.h. */
int
report_send_write_file(const char *dir, const char *name, const void *data, size_t len, char **err)
{
	char *tmp = xasprintf("%s/.%s.tmp", dir, name), *path = xasprintf("%s/%s", dir, name);
	int fd = -1, rc = -1;

	if (strchr(name, '/') != NULL || name[0] == '.') {
		*err = xasprintf("unsafe file name %.255s", name);
		goto out;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		*err = xasprintf("mkdir %s: %s", dir, strerror(errno));
		goto out;
	}
	(void)unlink(tmp); /* a stale one from a crashed run */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640)) < 0 ||
	    io_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		*err = xasprintf("write %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc < 0 || rename(tmp, path) < 0) {
		rc = -1;
		*err = xasprintf("close/rename to %s: %s", path, strerror(errno));
		goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		(void)unlink(tmp);
	free(tmp);
	free(path);
	return rc;
}

/** report_send_read_file - see report_send.h. */
unsigned char *
report_send_read_file(const char *path, size_t *len, char **err)
{
	unsigned char *p = NULL;
	struct stat st;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)FILE_MAX) {
		*err = xasprintf("%s: not a regular file of at most %u bytes", path, FILE_MAX);
		goto out;
	}
	p = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		ssize_t r = read(fd, p + off, (size_t)st.st_size - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*err = xasprintf("%s: short read", path);
			free(p);
			p = NULL;
			goto out;
		}
		off += (size_t)r;
	}
	*len = off;
out:
	if (fd >= 0)
		close(fd);
	return p;
}

/* ------------------------------------------------------------ mail */

static void
put_base64(struct buf *b, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		buf_putc(b, tab[(v >> 18) & 63]);
		buf_putc(b, tab[(v >> 12) & 63]);
		buf_putc(b, i + 1 < n ? tab[(v >> 6) & 63] : '=');
		buf_putc(b, i + 2 < n ? tab[v & 63] : '=');
		if ((col += 4) >= B64_LINE) {
			buf_putc(b, '\n');
			col = 0;
		}
	}
	if (col > 0)
		buf_putc(b, '\n');
}

/* s with every character that may not appear in a msg-id/header token as '_'. */
static void
put_token(struct buf *b, const char *s)
{
	for (; *s; s++) {
		int c = (unsigned char)*s;

		buf_putc(b, c > 0x20 && c < 0x7f && strchr("<>()[]\\\",;@", c) == NULL ? c : '_');
	}
}

static void
random_hex(char *out, size_t nbytes)
{
	unsigned char r[16];

	if (nbytes > sizeof(r))
		nbytes = sizeof(r);
	if (getrandom(r, nbytes, 0) != (ssize_t)nbytes) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		for (size_t i = 0; i < nbytes; i++)
			r[i] = (unsigned char)((uint64_t)ts.tv_nsec >> (i % 8 * 8) ^
			    (unsigned)getpid() >> i);
	}
	for (size_t i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* The header block up to and including the blank line after it. */
static void
put_headers(struct buf *b, const struct report_send_item *it, const char *from, const char *to,
    int64_t now, const char *boundary)
{
	char date[64], rnd[33];
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	random_hex(rnd, 12);
	buf_printf(b, "From: %s\nTo: %s\nDate: %s\nMessage-ID: <tlsrpt.%lld.%s@%s>\n", from, to,
	    date, (long long)now, rnd, it->submitter);
	buf_printf(b, "Subject: Report Domain: %s Submitter: %s\n Report-ID: <", it->policy_domain,
	    it->submitter);
	put_token(b, it->report_id);
	buf_printf(b, "@%s>\n", it->submitter);
	buf_printf(b,
	    "TLS-Report-Domain: %s\nTLS-Report-Submitter: %s\nTLS-Required: No\n"
	    "Auto-Submitted: auto-generated\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=\"tlsrpt\";\n boundary=\"%s\"\n\n",
	    it->policy_domain, it->submitter, boundary);
}

/** report_send_mail_message - see report_send.h. */
char *
report_send_mail_message(const struct report_send_item *it, const char *from, const char *to,
    int64_t now)
{
	char rnd[33], boundary[64];
	struct buf b;

	random_hex(rnd, 12);
	snprintf(boundary, sizeof(boundary), "=_danepol_tlsrpt_%s", rnd);
	buf_init(&b);
	put_headers(&b, it, from, to, now, boundary);
	buf_printf(&b,
	    "This is a MIME-formatted message.\n\n--%s\n"
	    "Content-Type: text/plain; charset=\"us-ascii\"\nContent-Transfer-Encoding: 7bit\n\n"
	    "This is an aggregate TLS report (RFC 8460) from %s\nfor the policy domain %s.\n"
	    "Report-ID: ",
	    boundary, it->submitter, it->policy_domain);
	put_token(&b, it->report_id);
	buf_printf(&b,
	    "\n\n--%s\nContent-Type: application/tlsrpt+gzip\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment;\n filename=\"%s\"\n\n",
	    boundary, it->filename);
	put_base64(&b, it->gz, it->gzlen);
	buf_printf(&b, "\n--%s--\n", boundary);
	return buf_steal(&b);
}

/* report_from: printable ASCII, no space, not an option, one '@'. */
static int
from_ok(const char *s)
{
	if (s == NULL || *s == 0 || *s == '-' || strlen(s) > 254 || strchr(s, '@') == NULL)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("<>,;\"\\", *s))
			return 0;
	return 1;
}

/* Write msg to fd with SIGPIPE blocked (a dead reader gives EPIPE). 0 or -1. */
static int
pipe_write(int fd, const char *msg, size_t len, int64_t deadline)
{
	sigset_t pipe_set, old;
	struct timespec zero = { 0, 0 };
	int rc;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	rc = io_write_until(fd, msg, len, deadline);
	if (rc < 0 && errno == EPIPE)
		(void)sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* Wait for pid until deadline, then kill it. Its wait status, or -1. */
static int
wait_child(pid_t pid, int64_t deadline)
{
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -1;
		if (clock_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
		poll(NULL, 0, 10);
	}
}

/* Run sendmail with msg on stdin. 0, or -1 with *err. */
static int
run_sendmail(const char *cmd, const char *from, const char *to, const char *msg, char **err)
{
	char *argv[] = { (char *)cmd, (char *)"-oi", (char *)"-f", (char *)from, (char *)"--",
		(char *)to, NULL };
	int64_t deadline = clock_now_ms() + SENDMAIL_TIMEOUT_MS;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def, none;
	int fds[2], st, rc = -1, e;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		*err = xasprintf("pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	e = posix_spawn(&pid, cmd, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(fds[0]);
	if (e != 0) {
		close(fds[1]);
		*err = xasprintf("cannot run %s: %s", cmd, strerror(e));
		return -1;
	}
	if (pipe_write(fds[1], msg, strlen(msg), deadline) < 0)
		*err = xasprintf("%s did not read the message: %s", cmd, strerror(errno));
	close(fds[1]);
	st = wait_child(pid, deadline);
	if (*err != NULL)
		return -1; /* the exit status of a child that did not read adds nothing */
	if (st == -1)
		*err =
		    xasprintf("%s: timed out after %d s (killed)", cmd, SENDMAIL_TIMEOUT_MS / 1000);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		rc = 0;
	else if (WIFEXITED(st))
		*err = xasprintf("%s exited with status %d", cmd, WEXITSTATUS(st));
	else
		*err = xasprintf("%s killed by signal %d", cmd, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return rc;
}

static int
deliver_mailto(const struct conf *c, const struct report_send_item *it,
    const struct report_rua *rua, int64_t now, char **err)
{
	char *msg;
	int rc = -1;

	if (!from_ok(c->report_from)) {
		*err = xasprintf("report_from is %s: mailto reports need a plain address",
		    c->report_from ? "not usable" : "unset");
		return -1;
	}
	if (c->report_sendmail == NULL || c->report_sendmail[0] != '/') {
		*err = xstrdup("report_sendmail must be an absolute path");
		return -1;
	}
	msg = report_send_mail_message(it, c->report_from, rua->addr, now);
	if (rua->max_size != 0 && strlen(msg) > rua->max_size)
		*err = xasprintf("message of %zu bytes exceeds the limit %llu of %s", strlen(msg),
		    (unsigned long long)rua->max_size, rua->uri);
	else
		rc = run_sendmail(c->report_sendmail, c->report_from, rua->addr, msg, err);
	free(msg);
	return rc;
}

/* ------------------------------------------------------------ https */

static size_t
discard_body(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int
deliver_https(const struct report_send_item *it, const struct report_rua *rua, char **err)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr = NULL;
	const char *cafile = getenv("DANEPOL_REPORT_CAFILE");
	CURL *h;
	CURLcode cc;
	long code = 0;

	if (rua->max_size != 0 && it->gzlen > rua->max_size) {
		*err = xasprintf("report of %zu bytes exceeds the limit %llu of %s", it->gzlen,
		    (unsigned long long)rua->max_size, rua->uri);
		return -1;
	}
	if ((h = curl_easy_init()) == NULL) {
		*err = xstrdup("libcurl: cannot create a handle");
		return -1;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/tlsrpt+gzip");
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, rua->uri);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, HTTPS_CONNECT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, HTTPS_TOTAL_S);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cafile != NULL && *cafile)
		curl_easy_setopt(h, CURLOPT_CAINFO, cafile);
	curl_easy_setopt(h, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)it->gz);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)it->gzlen);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	if ((cc = curl_easy_perform(h)) != CURLE_OK)
		*err =
		    xasprintf("POST %.200s: %s", rua->uri, ebuf[0] ? ebuf : curl_easy_strerror(cc));
	else if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code < 200 ||
	    code > 299)
		*err = xasprintf("POST %.200s: HTTP status %ld", rua->uri, code);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return *err == NULL ? 0 : -1;
}

/** report_send_deliver - see report_send.h. */
int
report_send_deliver(const struct conf *c, const struct report_send_item *it,
    const struct report_rua *rua, int64_t now, char **err)
{
	*err = NULL;
	if (rua->scheme == REPORT_RUA_MAILTO)
		return deliver_mailto(c, it, rua, now, err);
	return deliver_https(it, rua, err);
}

/** report_send_global_init - see report_send.h. */
int
report_send_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/** report_send_global_cleanup - see report_send.h. */
void
report_send_global_cleanup(void)
{
	curl_global_cleanup();
}

/** report_send_now - see report_send.h. */
int64_t
report_send_now(void)
{
	const char *s = getenv("DANEPOL_REPORT_NOW");
	char *end;
	long long v;

	if (s != NULL && *s) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno == 0 && *end == 0 && v > 0)
			return v;
		msg_warn("DANEPOL_REPORT_NOW=%.32s ignored: not Unix seconds", s);
	}
	return (int64_t)time(NULL);
}
