/*
 * rollover.h - danepol rollover: gate the switch to a new key on DNS
 * having caught up ("3 1 1 + 3 1 1": the current and the next key both
 * published, the next key deployed only after its record has been in
 * DNS for rollover_ttls x the TLSA TTL, so that no sender still holds a
 * cached RRset without it), and say which records may go afterwards.
 *
 * rollover_check(): for each own domain, every MX host must have a
 * secure, usable TLSA RRset holding a DANE-EE record of the next key
 * (3 1 1 or 3 1 2 of its public key; 3 0 1 / 3 0 2 of the next
 * certificate when one is given), seen without a break (store/seen.h,
 * kind "tlsa", owner "_25._tcp.HOST.") for at least ttls x TTL. Each
 * run writes what it saw to the store, so a timer builds the history;
 * a gap longer than ttls x TTL without a run restarts it.
 *
 * rollover_plan(): probes every MX address, records the key each one
 * serves (kind "served", owner "HOST[ADDR]:PORT"), and sorts the
 * published records into keep (the served key, a DANE-TA that matches
 * the served chain), publish (the next key, when not yet there), wait
 * (the next key, published too recently) and remove (a DANE-EE record of
 * no served and no next key: removable once the new key has been served
 * for ttls x TTL at every address).
 *
 * Findings (finding.h) carry the outcome; rollover_exit() maps them:
 * 0 go (OK), 1 wait (WARNING), 2 no (CRITICAL), 3 unknown.
 *
 * Ownership: results are the caller's (findings_clear()). Threads: any.
 */
#ifndef DANEPOL_ROLLOVER_H
#define DANEPOL_ROLLOVER_H

#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "finding.h"
#include "policy_run.h"
#include "store.h"

struct rollover_opts {
	EVP_PKEY *next_key; /* the next key (public half), or NULL (plan only) */
	X509 *next_cert;    /* the next certificate, or NULL */
	unsigned ttls;	    /* rollover_ttls */
	struct store *store; /* the seen history; NULL: no history (everything "too recent") */
	unsigned step_timeout_ms; /* the probe's (plan) */
	const char *helo;
	unsigned port; /* connect port (a test aid), 0: 25 */
	int64_t now;   /* wall-clock Unix seconds */
};

/**
 * The check for one domain, its findings appended to f: per MX host
 * "next-key-ready" (OK), "next-key-too-recent" (WARNING, with the time it
 * will be ready), "next-key-missing" (CRITICAL), or a host without
 * secure TLSA (CRITICAL). Store errors are UNKNOWN findings.
 */
void rollover_check(struct policy_runtime *rt, const char *domain, const struct rollover_opts *o,
    struct findings *f);

/**
 * Add what DNS publishes now at every DANE host of d to the history
 * (kind "tlsa", max gap ttls x ttl) without judging it: danepol
 * selfcheck calls this on each run, so a selfcheck timer builds the
 * history that rollover check later reads. No store: nothing.
 */
void rollover_observe(const struct policy_decision *d, uint32_t ttl,
    const struct rollover_opts *o, struct findings *f);

/**
 * The plan for one domain: zone-file lines into out (caller frees), one
 * per record with a comment saying keep / publish / wait / remove and
 * when; findings as for rollover_check() plus "old-key-removable" (OK)
 * and "old-key-in-use" (WARNING).
 */
char *rollover_plan(struct policy_runtime *rt, const char *domain, const struct rollover_opts *o,
    struct findings *f);

#endif
