/*
 * lineread.c - config-like files: bounded read, lines, the one policy for
 * hostile lines (contract in lineread.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "lineread.h"
#include "mem.h"

#define LINEREAD_STR2(x) #x
#define LINEREAD_STR(x)	 LINEREAD_STR2(x)

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

const char *
lineread_check(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	if (n > LINEREAD_LINE_MAX)
		return "line too long (more than " LINEREAD_STR(
		    LINEREAD_LINE_MAX) " bytes): refused";
	if (memchr(s, 0, n))
		return "NUL byte in line";
	for (size_t i = 0, l; i < n; i += l) {
		if ((l = utf8_len(u + i, n - i)) == 0)
			return "invalid UTF-8";
		if (l == 1 && ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f))
			return "control character in line";
	}
	return NULL;
}

int
lineread_each(const char *text, size_t n, const char *name, lineread_fn fn, void *arg, char **err)
{
	const char *p = text, *end = text + n, *nl, *bad;
	unsigned line = 0;
	size_t len;
	char *s, *why;

	*err = NULL;
	for (; p < end; p = nl ? nl + 1 : end) {
		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl ? nl : end) - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if ((bad = lineread_check(p, len)) != NULL) {
			*err = xasprintf("%s:%u: %s", name, line, bad);
			return -1;
		}
		s = xstrndup(p, len);
		why = fn(arg, s, line);
		free(s);
		if (why) {
			*err = xasprintf("%s:%u: %s", name, line, why);
			free(why);
			return -1;
		}
	}
	return 0;
}

int
lineread_file(const char *path, size_t max, int (*trusted)(int fd, const char *path, char **err),
    char **text, size_t *len, char **err)
{
	char eb[128], chunk[65536];
	struct stat st;
	struct buf b;
	ssize_t r;
	int fd, rc = -1;

	*err = NULL;
	buf_init(&b);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*err = xasprintf("%s: cannot open: %s", path, strerror_r(errno, eb, sizeof(eb)));
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		*err = xasprintf("%s: is a directory", path);
		goto out;
	}
	if (trusted != NULL && trusted(fd, path, err) < 0)
		goto out;
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*err = xasprintf("%s: read error: %s", path,
			    strerror_r(errno, eb, sizeof(eb)));
			goto out;
		}
		buf_append(&b, chunk, (size_t)r);
		if (b.len > max) {
			*err = xasprintf("%s: file larger than %zu MiB: refused", path,
			    max / (1024 * 1024));
			goto out;
		}
	}
	*len = b.len;
	*text = buf_steal(&b);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return rc;
}
