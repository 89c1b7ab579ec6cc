/*
 * buf.c - growable string (see buf.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

void
buf_init(struct buf *b)
{
	b->cap = 64;
	b->s = xmalloc(b->cap);
	b->s[0] = 0;
	b->len = 0;
}

void
buf_free(struct buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* Make room for more bytes plus the NUL; a stolen-from buf (s NULL) gets storage again. */
static void
buf_reserve(struct buf *b, size_t more)
{
	if (b->s != NULL && b->len + more + 1 <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->len + more + 1 > b->cap)
		b->cap *= 2;
	b->s = xrealloc(b->s, b->cap);
	if (b->len == 0)
		b->s[0] = 0;
}

void
buf_reset(struct buf *b)
{
	buf_reserve(b, 0);
	b->len = 0;
	b->s[0] = 0;
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = 0;
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, int c)
{
	char ch = (char)c;

	buf_append(b, &ch, 1);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	buf_reserve(b, 0);
	va_copy(ap2, ap);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *
buf_steal(struct buf *b)
{
	char *s = b->s ? b->s : xstrdup("");

	b->s = NULL; /* storage comes back with the next write */
	b->len = b->cap = 0;
	return s;
}
