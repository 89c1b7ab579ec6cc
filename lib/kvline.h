/*
 * kvline.h - "key=value key=\"quoted value\"" lines, the format of Exim's
 * ${extract{KEY}{STRING}}: parsing (the event lines Exim's event_action
 * sends to danepold) and writing (danepold's replies to Exim).
 *
 * Syntax parsed: fields separated by blanks (space, tab); a field is
 * KEY=VALUE with no blanks around '='; KEY is 1..KVLINE_KEY_MAX bytes of
 * [A-Za-z0-9_.:-]; VALUE is either bare (any bytes up to the next blank,
 * no '"') or double-quoted, where \" and \\ stand for '"' and '\' and
 * any other backslash is kept as it is. Control characters (bytes below
 * 0x20 other than tab, and 0x7f) are refused anywhere. A repeated key
 * keeps the last value.
 *
 * Pure functions; results are allocated (mem.h) and owned by the caller.
 */
#ifndef DANEPOL_KVLINE_H
#define DANEPOL_KVLINE_H

#include <stddef.h>

#include "buf.h"

#define KVLINE_KEY_MAX 64 /* bytes per key */

struct kvline_field {
	char *key;   /* owned */
	char *value; /* owned, unquoted */
};

struct kvline {
	struct kvline_field *f; /* owned array of n fields, in line order */
	size_t n;
};

/**
 * Parse s (NUL-terminated) into *out, at most max_fields fields. Returns
 * 0, or -1 with *why (static text: "unterminated quote", "field without
 * '='", ...) and *out empty. Free *out with kvline_free() in both cases.
 */
int kvline_parse(const char *s, size_t max_fields, struct kvline *out, const char **why);

/** Free the fields of l (l itself is the caller's); l becomes empty. */
void kvline_free(struct kvline *l);

/** The value of key in l (the last one), or NULL. Pointer into l. */
const char *kvline_get(const struct kvline *l, const char *key);

/** 1 when s is a valid key (see the file head), else 0. */
int kvline_key_ok(const char *s);

/**
 * Append value for ${extract}: bare when it is non-empty and holds only
 * printable ASCII other than '"', '\' and '='; else in double quotes with
 * '"' and '\' backslash-escaped. Control characters are written as '?'.
 */
void kvline_put_value(struct buf *b, const char *value);

/** Append "KEY=VALUE" (value as kvline_put_value), preceded by a space
 *  when b is not empty. */
void kvline_put(struct buf *b, const char *key, const char *value);

#endif
