/*
 * policy_table.h - the local policy table: per-destination TLS levels
 * that outrank DNS.
 *
 * File format (Postfix-like, one entry per line):
 *     # comment
 *     example.com     dane-only     exactly example.com
 *     .example.net    dane          every subdomain of example.net (not itself)
 * Levels: dane-only, dane, encrypt, may, none. Names are normalised
 * (IDN -> A-label, lower case). Errors name file:line and the reason:
 * unknown level, invalid domain, missing/extra field, duplicate key.
 *
 * Lookup of d: the exact key d first, then ".parent" for each parent of d,
 * nearest first. The table is immutable after loading (config snapshot).
 */
#ifndef DANEPOL_POLICY_TABLE_H
#define DANEPOL_POLICY_TABLE_H

#include "policy.h"

struct policy_table;

/**
 * Load path. Returns the table, or NULL with *err set ("path:line: reason",
 * caller frees). An empty file gives an empty table.
 */
struct policy_table *policy_table_load(const char *path, char **err);

/** Same from a string (name used in error messages). */
struct policy_table *policy_table_parse(const char *text, const char *name, char **err);

void policy_table_free(struct policy_table *t);

/**
 * Look up canonical domain d. Returns 1 with *level and *key (the matching
 * key, valid for the table's lifetime) set, or 0 when nothing matches.
 * NULL table: 0.
 */
int policy_table_lookup(const struct policy_table *t, const char *d, enum tls_level *level,
    const char **key);

size_t policy_table_count(const struct policy_table *t);

#endif
