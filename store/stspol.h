/*
 * stspol.h - MTA-STS policies kept across restarts (RFC 8461 section 5.1:
 * a policy is applied until its max_age runs out, whatever happens to
 * the process), in the outcome store's table sts_policies (store.c's
 * schema): one row per policy domain.
 *
 * The store does not interpret a policy: sts/ hands it the fields and
 * re-checks what it reads back (sts_cache.c). Hostile data: domain, id,
 * mode and mx are bounded UTF-8 without control characters (else *err,
 * nothing written); rows read back are returned as they are.
 *
 * Threads: the calls take the store's lock (store.h); any thread.
 * Ownership: a struct stspol_row's strings are malloc'd, freed by
 * stspol_row_clear().
 */
#ifndef DANEPOL_STSPOL_H
#define DANEPOL_STSPOL_H

#include <stdint.h>

#include "store.h"

#define STSPOL_MAX_MX 16384 /* bytes of the space-separated mx patterns */

struct stspol_row {
	char *domain;	 /* policy domain, canonical */
	char *id;	 /* the _mta-sts TXT id the policy was fetched under */
	char *mode;	 /* "enforce", "testing", "none" */
	int64_t max_age; /* seconds */
	char *mx;	 /* the mx patterns, separated by one space */
	int64_t fetched; /* Unix seconds */
	int64_t expires; /* fetched + max_age, Unix seconds */
};

/** Insert or replace the row of r->domain. 0, or -1 with *err (caller frees). */
int stspol_put(struct store *s, const struct stspol_row *r, char **err);

/** The row of domain: 1 with *r filled, 0 when none, -1 with *err. */
int stspol_get(struct store *s, const char *domain, struct stspol_row *r, char **err);

/** Free r's strings and zero it. */
void stspol_row_clear(struct stspol_row *r);

#endif
