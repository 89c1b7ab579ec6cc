/*
 * report_send.h - getting RFC 8460 reports to the policy domain: rua
 * discovery, report files, mailto and https delivery, the retry queue.
 *
 * Three files implement it, all with the prefix report_send_:
 *   report_rua.c    the _smtp._tls TXT record (RFC 8460 section 3): the
 *                   parser (pure, unit-tested with hostile records) and
 *                   the lookup through the validating resolver (dns.h);
 *   report_send.c   file naming (section 5.1), gzip (5.2), the mailto
 *                   message (5.3) handed to report_sendmail, the https
 *                   POST (5.4) through libcurl;
 *   report_queue.c  the delivery queue (5.5) in the outcome database, in
 *                   tables of its own (report_queue), with backoff.
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

/* Longest rua URI accepted (bytes); longer ones are ignored. */
#define REPORT_SEND_URI_MAX	2048
/* At most this many rua URIs are kept from one record. */
#define REPORT_SEND_RUA_MAX	16

enum report_rua_scheme { REPORT_RUA_MAILTO, REPORT_RUA_HTTPS };

/* One usable rua URI. */
struct report_rua {
	enum report_rua_scheme scheme;
	char *uri;		/* as published, without a "!size" suffix */
	char *addr;		/* mailto: the %-decoded addr-spec; https: NULL */
	uint64_t max_size;	/* bytes from a "!10m" style suffix; 0: no limit */
};

/* The TLSRPT endpoints of one policy domain. */
struct report_rua_set {
	struct report_rua *v;
	size_t n;		/* 0: the domain has no (usable) TLSRPT record */
	enum dns_sec sec;	/* DNSSEC state of the TXT answer */
	char *why;		/* when n == 0: why (no record, two records, ...) */
};

/** Free the members of *set and zero it. NULL-safe. */
void report_send_rua_clear(struct report_rua_set *set);

/**
 * Parse the text of one TLSRPT record (the TXT strings already joined,
 * len bytes, may contain NUL: then it is invalid). The record must start
 * with "v=TLSRPTv1" and a ';' (RFC 8460 section 3), hold exactly one
 * "rua=" field; other fields are ignored. URIs of unknown schemes and
 * malformed URIs are skipped (counted in *skipped, may be NULL). Returns
 * the number of usable URIs added to set (0 is possible), or -1 with
 * *err when the record itself is not a valid TLSRPT record.
 */
int report_send_parse_record(const char *txt, size_t len, struct report_rua_set *set,
    size_t *skipped, char **err);

/**
 * Join the character-strings of one TXT RDATA (wire form) without
 * separators. Returns the text (caller frees; *outlen its length, NUL
 * terminated) or NULL when the RDATA is malformed.
 */
char *report_send_txt_join(const uint8_t *rdata, size_t len, size_t *outlen);

/**
 * From a TXT answer: keep the records starting with "v=TLSRPTv1;" (after
 * joining their strings); exactly one must remain and parse. Fills set
 * (set->n == 0 and set->why when the domain has no usable record).
 * Returns 0 (also when there is no record), or -1 with *err when the
 * lookup failed (SERVFAIL, timeout, bogus: try again later).
 */
int report_send_rua_from_answer(const struct dns_answer *a, struct report_rua_set *set,
    char **err);

/**
 * Look up "_smtp._tls.<policy_domain>" TXT through res with a deadline of
 * timeout_ms, then report_send_rua_from_answer(). Same returns.
 */
int report_send_discover(struct dns_resolver *res, const char *policy_domain,
    unsigned timeout_ms, struct report_rua_set *set, char **err);

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
	const char *submitter;		/* TLS-Report-Submitter */
	const char *report_id;		/* the JSON's report-id */
	const char *filename;		/* base name of the .json.gz */
	const unsigned char *gz;	/* the gzipped report */
	size_t gzlen;
};

/**
 * The mailto message (RFC 8460 section 5.3): multipart/report;
 * report-type="tlsrpt", a text part and the base64 application/tlsrpt+gzip
 * attachment, with From, To, Date, Message-ID, Subject, TLS-Report-Domain,
 * TLS-Report-Submitter, TLS-Required: No. now: the Date. Caller frees.
 */
char *report_send_mail_message(const struct report_send_item *it, const char *from,
    const char *to, int64_t now);

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

/* ------------------------------------------------------------ queue */

struct report_queue;

/* One queued delivery: a report file not yet accepted by any endpoint. */
struct report_queue_entry {
	int64_t id;
	char *path;		/* the .json.gz file */
	char *policy_domain;
	char *report_id;
	char *submitter;
	int64_t first_attempt;	/* Unix seconds */
	int64_t next_attempt;
	unsigned attempts;
	char *last_error;
};

void report_queue_entry_clear(struct report_queue_entry *e);

/** Open the queue tables in the SQLite file path (created if needed). NULL with *err. */
struct report_queue *report_queue_open(const char *path, char **err);
void report_queue_close(struct report_queue *q);

/**
 * Queue (or re-queue: same path) a report after a failed attempt at now:
 * next attempt after the backoff (5 min doubling, at most 6 h).
 */
int report_queue_add(struct report_queue *q, const struct report_queue_entry *e, int64_t now,
    char **err);

/**
 * Every entry with next_attempt <= now, oldest first, into *v (caller
 * clears each entry and frees *v). 0 or -1.
 */
int report_queue_due(struct report_queue *q, int64_t now, struct report_queue_entry **v,
    size_t *n, char **err);

/** Delete entry id (delivered, or given up). 0 or -1. */
int report_queue_remove(struct report_queue *q, int64_t id, char **err);

/** Record a failed retry of e at now: attempts + 1, next by backoff. 0 or -1. */
int report_queue_failed(struct report_queue *q, const struct report_queue_entry *e, int64_t now,
    const char *why, char **err);

/** Number of queued entries, or -1. */
long report_queue_count(struct report_queue *q, char **err);

/** The backoff after attempt number attempts (>= 1): seconds. */
int64_t report_queue_backoff(unsigned attempts);

#endif
