/*
 * finding.h - what the operator's own-side checks (danepol selfcheck,
 * danepol rollover) found: one list of findings, each with a severity in
 * the monitoring-plugin scale, a stable code for programs, the thing it
 * is about, what was seen and what to do.
 *
 * The exit status of a check is the worst severity in its list, ranked
 * CRITICAL > WARNING > UNKNOWN > OK (the monitoring-plugins max_state_alt
 * order: a check that could not look is better than one that saw harm,
 * worse than a clean one).
 *
 * Ownership: a struct findings owns its strings; findings_clear() frees
 * them. Thread safety: no shared state; one list per thread.
 */
#ifndef DANEPOL_FINDING_H
#define DANEPOL_FINDING_H

#include <stddef.h>
#include <stdio.h>

enum finding_sev {
	FINDING_OK = 0,
	FINDING_WARNING = 1,
	FINDING_CRITICAL = 2,
	FINDING_UNKNOWN = 3
};

struct finding {
	enum finding_sev sev;
	char *code;    /* stable, for programs: "tlsa-mismatch", ... */
	char *subject; /* what it is about: a domain, host, address or file */
	char *text;    /* what was seen, one line */
	char *action;  /* what to do, one line; NULL for OK */
};

struct findings {
	struct finding *v;
	size_t n, cap;
};

/** Append a finding; the strings are copied (action may be NULL). */
void findings_add(struct findings *f, enum finding_sev sev, const char *code,
    const char *subject, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/** Append copies of every finding of src (NULL: none) to dst. */
void findings_append(struct findings *dst, const struct findings *src);

/** The worst severity in f (FINDING_OK for an empty list), ranked as above. */
enum finding_sev findings_worst(const struct findings *f);

/** How many findings of severity sev f holds. */
size_t findings_count(const struct findings *f, enum finding_sev sev);

/** "OK", "WARNING", "CRITICAL", "UNKNOWN" (the plugin words). */
const char *finding_sev_name(enum finding_sev sev);

/**
 * One line per finding to fp: "STATE label code subject: text -> action"
 * ('|' and line breaks in the text replaced: the monitoring-plugin
 * output's perfdata separator).
 */
void findings_print(FILE *fp, const char *label, const struct findings *f);

/** Free every finding and zero f. NULL-safe. */
void findings_clear(struct findings *f);

#endif
