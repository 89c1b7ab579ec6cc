/*
 * tls_level.h - the TLS security levels, in Postfix's words (none, may,
 * encrypt, dane, dane-only): the values of default_level and of the local
 * policy table.
 *
 * Contract: pure functions over static tables; any thread.  Names returned
 * are static strings (never freed).
 */
#ifndef DANEPOL_TLS_LEVEL_H
#define DANEPOL_TLS_LEVEL_H

enum tls_level {
	TLS_LEVEL_NONE,
	TLS_LEVEL_MAY,
	TLS_LEVEL_ENCRYPT,
	TLS_LEVEL_DANE,
	TLS_LEVEL_DANE_ONLY,
	/* output only (an MTA-STS enforce decision), never parsed from the
	 * configuration: Postfix's "secure" with the policy's match list */
	TLS_LEVEL_SECURE,
};

/* tls_level_name - the level's name, "unknown" when l is out of range. */
const char *tls_level_name(enum tls_level l);

/* tls_level_parse - 0 and *l set when s names a level (not secure), else -1. */
int tls_level_parse(const char *s, enum tls_level *l);

#endif
