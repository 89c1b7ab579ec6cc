/*
 * report_send.h - getting RFC 8460 reports to the policy domain: file
 * naming (section 5.1), gzip (5.2), the mailto message (5.3) handed to
 * report_sendmail, the https POST (5.4) through libcurl. Implemented by
 * report_send.c. Its neighbours: report_rua.h (where to send: the
 * _smtp._tls TXT record) and report_queue.h (the retry queue, 5.5, in the
 * outcome store's database).
 *
 * No report about reports: nothing here ever adds an outcome to the store
 * (a failed report delivery is logged and queued, never counted), and the
 * mailed report carries "TLS-Required: No" (RFC 8689) so that the MTA
 * delivers it despite the recipient's DANE/MTA-STS policy.
 *
 * Ownership: every struct below owns its strings; the matching _free()
 * or _clear() releases them. Errors come back as -1 with *err (caller
 * frees); nothing aborts on outside data.
 */
#ifndef DANEPOL_REPORT_SEND_H
#define DANEPOL_REPORT_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "dns.h"
#include "report_rua.h"

/**
 * RFC 8460 section 5.1 file name "sender!policy-domain!begin!end!uid.json.gz"
 * (begin = start, end = end - 1, Unix seconds). sender and policy_domain
 * must be LDH domain names, uid alphanumeric: otherwise NULL with *err.
 * Caller frees.
 */
char *report_send_filename(const char *sender, const char *policy_domain, int64_t start,
    int64_t end, const char *uid, char **err);

/**
 * The submitter domain (TLS-Report-Submitter, the file name's sender):
 * the domain of c->report_contact, lower case. NULL with *err when the
 * contact is no address with a valid domain. Caller frees.
 */
char *report_send_submitter(const struct conf *c, char **err);

/** gzip (RFC 1952) of data. Returns the bytes (caller frees, *outlen) or NULL with *err. */
unsigned char *report_send_gzip(const void *data, size_t len, size_t *outlen, char **err);

/**
 * Write data to dir/name atomically (temporary file, fsync, rename),
 * mode 0640, creating dir (0750) if needed. 0, or -1 with *err.
 */
int report_send_write_file(const char *dir, const char *name, const void *data, size_t len,
    char **err);

/** Read a whole file (report files: at most 64 MB). NULL with *err. Caller frees. */
unsigned char *report_send_read_file(const char *path, size_t *len, char **err);

/* What is delivered: one gzipped report file and what its headers need. */
struct report_send_item {
	const char *policy_domain;
	const char *submitter;	 /* TLS-Report-Submitter */
	const char *report_id;	 /* the JSON's report-id */
	const char *filename;	 /* base name of the .json.gz */
	const unsigned char *gz; /* the gzipped report */
	size_t gzlen;
};

/**
 * The mailto message (RFC 8460 section 5.3): multipart/report;
 * report-type="tlsrpt", a text part and the base64 application/tlsrpt+gzip
 * attachment, with From, To, Date, Message-ID, Subject, TLS-Report-Domain,
 * TLS-Report-Submitter, TLS-Required: No. now: the Date. Caller frees.
 */
char *report_send_mail_message(const struct report_send_item *it, const char *from, const char *to,
    int64_t now);

/**
 * Deliver it to one rua URI: mailto through c->report_sendmail
 * ("-oi -f report_from -- ADDR", the message on stdin, exit 0 = queued by
 * the MTA), https by POST with Content-Type application/tlsrpt+gzip
 * (certificate verification on, no redirects, bounded time; 2xx =
 * delivered). Returns 0 delivered, or -1 with *err.
 */
int report_send_deliver(const struct conf *c, const struct report_send_item *it,
    const struct report_rua *rua, int64_t now, char **err);

/** Once per process before any https delivery (curl_global_init). 0 or -1. */
int report_send_global_init(void);
/** At exit. */
void report_send_global_cleanup(void);

/**
 * The clock of `danepol report`: time(NULL), or DANEPOL_REPORT_NOW (Unix
 * seconds; test-only, documented in danepol(1)) when set and valid.
 */
int64_t report_send_now(void);

#endif
