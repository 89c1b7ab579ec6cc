/*
 * conf_value.h - parsers and validators of single danepol.conf values
 * (the right-hand side of "key = value"), used by conf.c's key table.
 *
 * Every parser takes v, a NUL-terminated, non-empty, trimmed value, and
 * returns NULL when v is valid (storing the result in *out where there is
 * one) or the reason it is not, as text the caller frees; on error *out is
 * left alone. The reasons are the tail of the "name:line: key: reason"
 * errors of conf_parse(), so they name the expected syntax and, for
 * numbers, the allowed range in the key's own syntax.
 *
 * The formatters write a value in file syntax, so that what conf_print()
 * writes parses back to the same value.
 *
 * Thread safety: no shared state; nothing here logs.
 */
#ifndef DANEPOL_CONF_VALUE_H
#define DANEPOL_CONF_VALUE_H

#include "buf.h"

/* The characters of user and group names (and of danepol.conf keys). */
#define CONF_VALUE_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

/** yes/true/on/1 -> 1, no/false/off/0 -> 0, any case. */
char *conf_value_bool(const char *v, unsigned *out);

/** Decimal digits only, min <= value <= max. */
char *conf_value_uint(const char *v, unsigned min, unsigned max, unsigned *out);

/**
 * Decimal digits with unit ms, s, m or h (bare numbers are seconds),
 * converted to the field unit: unit_ms must be 1 for a field in
 * milliseconds or 1000 for one in seconds (then the time must be whole
 * seconds). min and max are in the field unit.
 */
char *conf_value_time(const char *v, unsigned unit_ms, unsigned min, unsigned max, unsigned *out);

/** Octal file mode of 1 to 4 digits (e.g. 0660), min <= value <= max. */
char *conf_value_mode(const char *v, unsigned min, unsigned max, unsigned *out);

/**
 * Exactly one of names (NULL-terminated, case-sensitive); *out is its
 * index. The error lists every name.
 */
char *conf_value_enum(const char *v, const char *const *names, unsigned *out);

/**
 * A libmilter socket spec: unix:/path or local:/path (absolute, at most
 * sizeof(sun_path) - 1 bytes), inet:PORT[@HOST] or inet6:PORT[@HOST] (port
 * 1..65535; host an LDH name or an address, "[v6]" or bare for inet6).
 */
char *conf_value_socket(const char *v);

/** "addr[@port]": an IPv4 or IPv6 address, as unbound's forward-addr. */
char *conf_value_forward(const char *v);

/** A user or group name: at most 32 of [A-Za-z0-9_.-], not starting with '-'. */
char *conf_value_name(const char *v);

/** A policy level name (tls_level_parse()). */
char *conf_value_level(const char *v);

/**
 * A list of names (Postfix transports, domains in A-labels): 1 to
 * CONF_VALUE_WORDS_MAX names of at most CONF_VALUE_WORD_MAX bytes of
 * CONF_VALUE_NAME_CHARS each, separated by commas and/or blanks.
 */
#define CONF_VALUE_WORDS_MAX 32
#define CONF_VALUE_WORD_MAX  64
char *conf_value_words(const char *v);

/**
 * Whether list (a value conf_value_words() accepted, or NULL) holds name
 * exactly (case-sensitive, as Postfix service names). NULL list: no.
 */
int conf_value_words_has(const char *list, const char *name);

/**
 * Append time v (in the field unit of unit_ms, as for conf_value_time()) to
 * b: "500ms" when an ms field is not whole seconds (or is 0), else "5s".
 */
void conf_value_put_time(struct buf *b, unsigned v, unsigned unit_ms);

/** Append mode v to b as 4 octal digits ("0660"). */
void conf_value_put_mode(struct buf *b, unsigned v);

#endif
