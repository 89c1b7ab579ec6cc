/*
 * tlsrpt_class.h - the one classification of certificate verification
 * failures into RFC 8460 section 4.3 result types, used by every source
 * of TLS outcomes: the STARTTLS probe (probe/probe.c), the Postfix mail log
 * reader (report/report_postfix.c) and Exim's event lines
 * (milter/exim.c). The table and its reasons are in tlsrpt_class.c; the
 * same table, for operators, is in doc/status-codes.md ("TLS report
 * result types"; tests/unit/milter/test_tlsrpt_class.c keeps the two equal).
 *
 * Everything returned is static; all functions are pure and thread-safe.
 */
#ifndef DANEPOL_TLSRPT_CLASS_H
#define DANEPOL_TLSRPT_CLASS_H

#include <stddef.h>

/**
 * The RFC 8460 result type of OpenSSL verification error err
 * (X509_V_ERR_*): certificate-expired, certificate-host-mismatch,
 * certificate-not-trusted, or validation-failure (also for an error not in
 * the table). Never NULL.
 */
const char *tlsrpt_class_x509(long err);

/** The X509_V_ERR_* name of err, or NULL when err is not in the table. */
const char *tlsrpt_class_x509_name(long err);

/**
 * The result type of a failure described by text, as Exim's dane:fail
 * event data or an operator's event line carries it: a registered RFC
 * 8460 result type is itself; an X509_V_ERR_* name in the table is its
 * type; anything else (also NULL or "") is validation-failure. *known is
 * set to 1 when text was a result type, else 0 (then text is a
 * failure-reason-code worth keeping). known may be NULL.
 */
const char *tlsrpt_class_text(const char *text, int *known);

/** Number of rows of the table (for tests and documentation). */
size_t tlsrpt_class_count(void);

/**
 * Row i of the table (i < tlsrpt_class_count()): its error, name and
 * result type. 0, or -1 when i is out of range.
 */
int tlsrpt_class_row(size_t i, long *err, const char **name, const char **type);

#endif
