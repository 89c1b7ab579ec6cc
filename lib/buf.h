/*
 * buf.h - growable, always NUL-terminated byte string.
 *
 * A struct buf lives wherever the caller puts it (stack, struct member);
 * buf_init() makes it empty, buf_free() releases its storage. buf_steal()
 * hands the string to the caller (free with free(3)) and leaves the buf
 * empty. No fixed-size buffers: text of any length fits.
 */
#ifndef DANEPOL_BUF_H
#define DANEPOL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *s;    /* always NUL-terminated once initialised */
	size_t len; /* bytes before the NUL */
	size_t cap; /* allocated bytes */
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, int c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/**
 * Return the string (caller frees) and leave b empty but usable: b->s is
 * NULL until the next write or buf_reset(); buf_free() is not needed.
 */
char *buf_steal(struct buf *b);

#endif
