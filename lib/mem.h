/*
 * mem.h - allocation that either succeeds or does not return.
 *
 * Out of memory is not handled at call sites: these wrappers log through
 * msg_fatal() and exit. Everything they return is freed with free(3).
 */
#ifndef DANEPOL_MEM_H
#define DANEPOL_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/** Like reallocarray(3): grows an array, checking nmemb * size overflow. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/** xstrdup() that passes NULL through. */
char *xstrdup_null(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
