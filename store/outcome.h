/*
 * outcome.h - one TLS validation outcome of one SMTP session (or probe)
 * toward one MX host, the unit RFC 8460 reports are counted from.
 *
 * Producers: the STARTTLS probe (probe/probe*.c), the Postfix mail log
 * reader (report/), Exim event_action lines (milter/exim.c). Consumer:
 * the outcome store (store/store.h) and the report builder (report/).
 *
 * Ownership: a struct tls_outcome owns every string it points to except
 * result_type (a static RFC 8460 name); outcome_clear() frees them.
 * Producers fill one on the stack, hand it to store_add() (which copies),
 * then clear it.
 */
#ifndef DANEPOL_OUTCOME_H
#define DANEPOL_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

enum outcome_source {
	OUTCOME_SRC_PROBE,
	OUTCOME_SRC_POSTFIX,
	OUTCOME_SRC_EXIM,
	OUTCOME_SRC_STS /* an MTA-STS policy fetch of danepold (a failure) */
};

/* the RFC 8460 policy-type of an outcome (stored as this number) */
enum outcome_policy {
	OUTCOME_POLICY_NONE = 0, /* no-policy-found */
	OUTCOME_POLICY_TLSA = 1, /* a DANE policy: policy_strings are TLSA records */
	OUTCOME_POLICY_STS = 2	 /* an MTA-STS policy: policy_strings are its lines */
};

struct tls_outcome {
	int64_t time; /* Unix seconds (UTC) of the session */
	enum outcome_source source;
	char *policy_domain;   /* RFC 8460 policy-domain: the recipient domain */
	enum outcome_policy policy_type;
	char **policy_strings; /* RFC 8460 policy-string: TLSA records "3 1 1 HEX", or
				* the STS policy's lines ("mode: enforce", "mx: ...") */
	size_t npolicy_strings;
	char *mx_host;		 /* receiving-mx-hostname, or NULL */
	char *receiving_ip;	 /* receiving-ip, or NULL */
	char *sending_ip;	 /* sending-mta-ip, or NULL */
	char *mx_helo;		 /* receiving-mx-helo (banner/EHLO name), or NULL */
	int success;		 /* 1: TLS established and (if a policy applied) authenticated */
	const char *result_type; /* static RFC 8460 result type when !success, else NULL */
	char *detail;		 /* failure-reason-code / additional information, or NULL */
	char *relay;		 /* the relay that saw it (store_set_relay()): set by the
				  * store when added, read back from it; NULL before */
};

/** Free every owned string and zero *o. NULL-safe. */
void outcome_clear(struct tls_outcome *o);

/** Deep copy of src into *dst (dst's old contents are not freed). */
void outcome_copy(struct tls_outcome *dst, const struct tls_outcome *src);

/** "probe", "postfix", "exim", "sts-fetch". */
const char *outcome_source_name(enum outcome_source s);

/**
 * The static RFC 8460 result-type string equal to name (one of the 11
 * registered types, exact match), or NULL when name is not one of them.
 * Lets producers and the store turn text into the static result_type.
 */
const char *outcome_result_type(const char *name);

/** "no-policy-found", "tlsa", "sts" (RFC 8460 policy-type); NULL when out of range. */
const char *outcome_policy_name(enum outcome_policy t);

struct kvline;

/**
 * The TLS outcome an Exim event line carries (fields f as
 * proto_exim_event() parsed them, name the event name), at time now, into
 * *o (which the caller clears with outcome_clear()):
 *   msg:delivery  with host set: success when cipher is set (TLS), with a
 *                 DANE policy when dane=yes; without cipher a failure
 *                 starttls-not-supported (delivered in cleartext)
 *   dane:fail     a failure under a DANE policy whose result type is
 *                 tlsrpt_class_text(data): data itself when it is an RFC
 *                 8460 result type, else data (kept as the
 *                 failure-reason-code) classified by the shared X509
 *                 table (tlsrpt_class.h), validation-failure otherwise
 * domain, host and ip become policy-domain, receiving-mx-hostname and
 * receiving-ip. 0, or -1 (and *o empty) when the line carries no outcome
 * (other events, no domain or host). Thread-safe.
 */
int outcome_exim_event(const char *name, const struct kvline *f, int64_t now,
    struct tls_outcome *o);

#endif
