/*
 * lineread.h - the reader of danepol's config-like files (danepol.conf,
 * the local policy table): the file read whole and bounded, then cut into
 * lines, with one policy for hostile lines.
 *
 * Lines end in LF; a CR right before the LF (CRLF) is dropped. A line is
 * refused, never truncated or skipped, when it is longer than
 * LINEREAD_LINE_MAX bytes (without its line end), holds a NUL byte, is
 * not valid UTF-8 (overlong forms, surrogates and code points past
 * U+10FFFF included), or holds a control character (below 0x20 but tab,
 * and 0x7f). The reason is a static string; the caller reports it as
 * "file:line: reason".
 *
 * Contract: no shared state, any thread. Results are allocated (mem.h)
 * and owned by the caller.
 */
#ifndef DANEPOL_LINEREAD_H
#define DANEPOL_LINEREAD_H

#include <stddef.h>

#define LINEREAD_LINE_MAX 4096 /* bytes per line, without the line end */

/**
 * Check one line s[0..n) (without its line end) against the policy.
 * NULL when it may be parsed, else the reason (static), e.g.
 * "NUL byte in line".
 */
const char *lineread_check(const char *s, size_t n);

/**
 * A line's parser: gets each line as a NUL-terminated copy without its
 * line end (the parser may change it; lineread_each() frees it) and its
 * number (from 1). Returns NULL, or the reason the line is refused
 * (allocated; lineread_each() frees it).
 */
typedef char *(*lineread_fn)(void *arg, char *line, unsigned lineno);

/**
 * Cut text[0..n) into lines, check each with lineread_check() and hand
 * it to fn. Stops at the first refused line: -1 with *err ("name:N:
 * reason", caller frees). 0 when every line passed.
 */
int lineread_each(const char *text, size_t n, const char *name, lineread_fn fn, void *arg,
    char **err);

/**
 * Read the file path whole into *text (NUL-terminated, caller frees) and
 * *len. A directory or a file of more than max bytes is refused; trusted,
 * when not NULL, vets the open descriptor first (conf_file_trusted()).
 * 0, or -1 with *err ("path: reason", caller frees): "cannot open: ...",
 * "is a directory", "read error: ...", "file larger than N MiB: refused".
 */
int lineread_file(const char *path, size_t max,
    int (*trusted)(int fd, const char *path, char **err), char **text, size_t *len, char **err);

#endif
