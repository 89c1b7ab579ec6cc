/*
 * report.h - RFC 8460 TLS reports built from the outcome store.
 *
 * report_build.c (the JSON of one report), report_postfix.c (Postfix mail
 * log -> outcomes), report_send.c (file naming, gzip, rua discovery,
 * mailto and https delivery, retries). Contract of the shared parts here;
 * each .c documents its own functions.
 */
#ifndef DANEPOL_REPORT_H
#define DANEPOL_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "store.h"

/**
 * The RFC 8460 report (I-JSON, UTF-8, schema doc/tlsrpt.schema.json) for
 * policy_domain over the whole UTC day(s) [start, end) from the outcomes
 * in s: organization-name and contact-info from c (both must be set),
 * report-id unique per (org, domain, range), one "policies" entry per
 * distinct policy (tlsa policy-strings / no-policy-found), with
 * successful and failed session counts and failure-details aggregated by
 * (result-type, sending-mta-ip, receiving-mx-hostname, receiving-ip,
 * failure-reason-code). Returns the JSON text (caller frees), with
 * *noutcomes the number of outcomes counted (0: nothing to report), or
 * NULL with *err.
 */
char *report_build(struct store *s, const struct conf *c, const char *policy_domain, int64_t start,
    int64_t end, size_t *noutcomes, char **err);

/**
 * Read a Postfix mail log (path) and add the TLS outcomes of Postfix's
 * own SMTP client deliveries in [from, to) to s (see report_postfix.c for
 * the lines understood). Returns the number of outcomes added, or -1
 * with *err. Unknown or malformed lines are skipped and counted in
 * *skipped (may be NULL).
 */
long report_postfix_ingest(struct store *s, const char *path, int64_t from, int64_t to,
    size_t *skipped, char **err);

/**
 * report_postfix_ingest() that also leaves out every delivery of a message
 * whose envelope sender (Postfix's qmgr "from=<...>" line) is skip_sender
 * (compared without case; NULL: none): the reports danepol mailed itself,
 * so that no report is made about the delivery of reports (RFC 8460 s. 5).
 */
long report_postfix_ingest_skip(struct store *s, const char *path, int64_t from, int64_t to,
    const char *skip_sender, size_t *skipped, char **err);

#endif
