/*
 * probe_smtp.c - the probe's SMTP client (probe_int.h): nonblocking TCP
 * connect bounded by a deadline, a bounded reply reader over a pure
 * parser, and the plaintext dialogue up to STARTTLS.
 *
 * Each step (connect, reading one reply, writing one command) has its own
 * deadline of step_timeout_ms from the step's start, checked around every
 * poll(), so neither silence nor a slow drip can hold a probe longer.
 * Replies are bounded (PROBE_LINE_MAX, PROBE_REPLY_LINES,
 * PROBE_REPLY_MAX); anything else is "malformed". Octets the server sends
 * after its 220 to STARTTLS, before the handshake (a command injection
 * attempt), are discarded and noted in the detail.
 *
 * Never sends MAIL FROM: the commands are EHLO, STARTTLS and QUIT.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "io.h"
#include "log.h"
#include "mem.h"
#include "probe_int.h"

/* strerror_r, GNU variant (_GNU_SOURCE): thread-safe text of e in eb. */
#define ERRTEXT(e, eb) strerror_r((e), (eb), sizeof(eb))

char *
probe_smtp_sanitize(const char *p, size_t n)
{
	char *s = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
	s[n] = 0;
	return s;
}

/* ------------------------------------------------------------ the parser */

void
probe_smtp_reply_free(struct probe_reply *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	memset(r, 0, sizeof(*r));
}

/* The code of line p[0..n) and its separator (' ', '-', or 0); -1 if malformed. */
static int
line_code(const char *p, size_t n, char *sep)
{
	if (n < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' || p[2] < '0' ||
	    p[2] > '9')
		return -1;
	if (n == 3)
		*sep = 0;
	else if (p[3] == ' ' || p[3] == '-')
		*sep = p[3];
	else
		return -1;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

int
probe_smtp_reply_parse(const char *p, size_t len, struct probe_reply *r, size_t *used,
    const char **why)
{
	size_t off = 0;
	int code = -1, last = 0;
	char sep = 0;

	memset(r, 0, sizeof(*r));
	while (!last) {
		const char *nl = memchr(p + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (p + off)) : len - off;
		int c;

		if (n + 1 > PROBE_LINE_MAX) {
			*why = "reply line too long";
			goto bad;
		}
		if (nl == NULL)
			goto more;
		if (r->nlines >= PROBE_REPLY_LINES || off + n + 1 > PROBE_REPLY_MAX) {
			*why = "reply too long";
			goto bad;
		}
		if (n > 0 && p[off + n - 1] == '\r')
			n--;
		if ((c = line_code(p + off, n, &sep)) < 0) {
			*why = "malformed reply line";
			goto bad;
		}
		if (code >= 0 && c != code) {
			*why = "reply code changes between lines";
			goto bad;
		}
		code = c;
		r->lines = xreallocarray(r->lines, r->nlines + 1, sizeof(char *));
		r->lines[r->nlines++] =
		    probe_smtp_sanitize(p + off + (n > 3 ? 4 : 3), n > 3 ? n - 4 : 0);
		off = (size_t)(nl - p) + 1;
		last = sep != '-';
	}
	r->code = code;
	*used = off;
	return 1;
more:
	if (off + (len - off) > PROBE_REPLY_MAX || r->nlines >= PROBE_REPLY_LINES) {
		*why = "reply too long";
		goto bad;
	}
	probe_smtp_reply_free(r);
	return 0;
bad:
	probe_smtp_reply_free(r);
	return -1;
}

int
probe_smtp_reply_has_ext(const struct probe_reply *r, const char *kw)
{
	size_t n = strlen(kw);

	for (size_t i = 1; i < r->nlines; i++) {
		const char *l = r->lines[i];

		if (strncasecmp(l, kw, n) == 0 && (l[n] == 0 || l[n] == ' '))
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ the socket */

int
probe_smtp_connect(const char *addr, unsigned port, unsigned ms, char **why)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd = -1, err = 0, rc;
	char eb[128];

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*s6);
	} else {
		*why = xasprintf("not a numeric address: %.64s", addr);
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		*why = xasprintf("socket: %s", ERRTEXT(errno, eb));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		err = errno;
		goto fail;
	}
	rc = io_wait(fd, POLLOUT, clock_now_ms() + ms);
	if (rc == 0) {
		*why = xasprintf("connect timed out after %u ms", ms);
		close(fd);
		return -1;
	}
	sl = sizeof(err);
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
		err = errno;
	if (err == 0)
		return fd;
fail:
	*why = xasprintf("connect: %s", ERRTEXT(err, eb));
	close(fd);
	return -1;
}

/*
 * Read one reply within ms into *r (input beyond it stays in *in).
 * 0, or -1 with *why (caller frees).
 */
static int
read_reply(int fd, struct buf *in, unsigned ms, struct probe_reply *r, char **why)
{
	long long deadline = clock_now_ms() + ms;
	const char *pwhy = NULL;
	char chunk[4096], eb[128];
	size_t used = 0;

	for (;;) {
		int rc = probe_smtp_reply_parse(in->s, in->len, r, &used, &pwhy);
		ssize_t got;

		if (rc > 0) {
			memmove(in->s, in->s + used, in->len - used + 1);
			in->len -= used;
			return 0;
		}
		if (rc < 0) {
			*why = xstrdup(pwhy);
			return -1;
		}
		got = recv(fd, chunk, sizeof(chunk), 0);
		if (got > 0) {
			buf_append(in, chunk, (size_t)got);
			continue;
		}
		if (got == 0) {
			*why = xstrdup(
			    in->len ? "connection closed inside a reply" : "connection closed");
			return -1;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			*why = xasprintf("read: %s", ERRTEXT(errno, eb));
			return -1;
		}
		if ((rc = io_wait(fd, POLLIN, deadline)) <= 0) {
			*why = rc == 0 ? xasprintf("no complete reply within %u ms", ms)
				       : xasprintf("poll: %s", ERRTEXT(errno, eb));
			return -1;
		}
	}
}

/* ------------------------------------------------------------ dialogue */

/* Send cmd ("EHLO x\r\n") and read its reply. 0, or -1 with *why. */
static int
command(int fd, struct buf *in, const char *cmd, unsigned ms, struct probe_reply *r, char **why)
{
	char eb[128];

	errno = 0;
	if (io_write_until(fd, cmd, strlen(cmd), clock_now_ms() + ms) < 0) {
		*why = xasprintf("cannot send %.8s: %s", cmd,
		    errno ? ERRTEXT(errno, eb) : "timed out");
		return -1;
	}
	return read_reply(fd, in, ms, r, why);
}

/* Record a failed step with a detail made of a prefix and a reply. */
static void
fail_step(struct probe_addr *a, enum probe_stage st, const char *what, const struct probe_reply *r,
    const char *why)
{
	a->stage = st;
	free(a->detail);
	if (r != NULL && r->nlines > 0)
		a->detail = xasprintf("%s: %d %.200s", what, r->code, r->lines[0]);
	else
		a->detail = xasprintf("%s: %s", what, why ? why : "failed");
}

/* The first word of s (a server's greeting or EHLO line), or NULL. */
static char *
first_word(const char *s)
{
	size_t n = strcspn(s, " ");

	return n ? xstrndup(s, n > 255 ? 255 : n) : NULL;
}

/* The EHLO name to send: o->helo, or this machine's name. */
static char *
ehlo_name(const struct probe_opts *o)
{
	char host[256];

	if (o->helo && *o->helo)
		return xstrdup(o->helo);
	if (gethostname(host, sizeof(host)) < 0 || host[0] == 0)
		return xstrdup("localhost");
	host[sizeof(host) - 1] = 0;
	return probe_smtp_sanitize(host, strlen(host));
}

static void
quit(int fd, struct buf *in, unsigned ms)
{
	struct probe_reply r;
	char *why = NULL;

	if (command(fd, in, "QUIT\r\n", ms, &r, &why) == 0)
		probe_smtp_reply_free(&r);
	free(why);
}

/* Banner and EHLO. 0, or -1 with the failure recorded (and *sane). */
static int
greet(int fd, struct buf *in, const struct probe_opts *o, struct probe_addr *a, int *sane)
{
	struct probe_reply r;
	char *why = NULL, *cmd, *name;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (read_reply(fd, in, o->step_timeout_ms, &r, &why) < 0) {
		fail_step(a, PROBE_ST_BANNER, "banner", NULL, why);
		goto out;
	}
	a->banner = xstrdup(r.lines[0]);
	a->helo_name = first_word(r.lines[0]);
	*sane = 1;
	if (r.code != 220) {
		fail_step(a, PROBE_ST_BANNER, "banner", &r, NULL);
		goto out;
	}
	probe_smtp_reply_free(&r);
	name = ehlo_name(o);
	cmd = xasprintf("EHLO %s\r\n", name);
	free(name);
	rc = command(fd, in, cmd, o->step_timeout_ms, &r, &why);
	free(cmd);
	if (rc < 0 || r.code != 250) {
		*sane = rc == 0;
		fail_step(a, PROBE_ST_EHLO, "EHLO", rc == 0 ? &r : NULL, why);
		rc = -1;
		goto out;
	}
	if ((name = first_word(r.lines[0])) != NULL) {
		free(a->helo_name);
		a->helo_name = name;
	}
	a->starttls_offered = probe_smtp_reply_has_ext(&r, "STARTTLS");
out:
	probe_smtp_reply_free(&r);
	free(why);
	return rc;
}

int
probe_smtp_starttls(int fd, const struct probe_opts *o, struct probe_addr *a)
{
	struct probe_reply r;
	struct buf in;
	char *why = NULL;
	int sane = 0, rc = -1;

	buf_init(&in);
	memset(&r, 0, sizeof(r));
	if (greet(fd, &in, o, a, &sane) < 0)
		goto out;
	if (!a->starttls_offered) {
		fail_step(a, PROBE_ST_STARTTLS, "STARTTLS", NULL, "not offered in the EHLO reply");
		goto out;
	}
	if (command(fd, &in, "STARTTLS\r\n", o->step_timeout_ms, &r, &why) < 0) {
		sane = 0;
		fail_step(a, PROBE_ST_STARTTLS, "STARTTLS", NULL, why);
		goto out;
	}
	if (r.code != 220) {
		fail_step(a, PROBE_ST_STARTTLS, "STARTTLS refused", &r, NULL);
		goto out;
	}
	if (in.len > 0) {
		msg_debug("probe %s: %zu octets after the 220 to STARTTLS discarded", a->addr,
		    in.len);
		a->detail = xasprintf("%zu octets after the 220 to STARTTLS discarded", in.len);
	}
	rc = 0;
out:
	if (rc < 0 && sane)
		quit(fd, &in, o->step_timeout_ms);
	probe_smtp_reply_free(&r);
	buf_free(&in);
	free(why);
	return rc;
}
