/*
 * selfcheck.h - danepol selfcheck: is the DANE of our own mail domains
 * healthy, as a sending MTA will see it, and will the certificate we are
 * about to deploy still match?
 *
 * For one own domain, selfcheck_domain() looks at:
 *   - the engine's decision (policy_run_decide_uncached()): the MX RRset
 *     is signed, every MX host has usable, secure TLSA records and secure
 *     addresses (what a DANE sender needs to require authenticated TLS);
 *   - every address of every MX host, IPv4 and IPv6, with the STARTTLS
 *     probe (probe/probe.h): STARTTLS offered, DANE authentication against
 *     the published records, the served leaf's expiry, the OCSP staple
 *     (missing is fine; bad, revoked, expired, or signed by a responder
 *     certificate that expires before the staple's nextUpdate is not);
 *     for DANE-TA records, that the trust anchor is in the served chain;
 *   - the certificate chain files the MTA is configured to serve (given by
 *     the caller), verified against each DANE host's records through the
 *     same OpenSSL DANE verification (probe_tls_chain_verify()) before they
 *     are deployed;
 *   - the RRSIGs over the MX, A/AAAA and TLSA RRsets (dns_answer's
 *     sig_expire): warning and critical windows before they expire; the
 *     TLSA TTL (it sets the pace of a key rollover).
 * Each finding (finding.h) carries a severity in the monitoring-plugin
 * scale, a stable code, what it is about and what to do. The codes are
 * listed in doc/selfcheck.schema.json and danepol(1).
 *
 * Ownership: a struct selfcheck_result is the caller's; clear it with
 * selfcheck_result_clear(). Threads: any; rt is used as policy_run.h
 * allows (any number of threads at once).
 */
#ifndef DANEPOL_SELFCHECK_H
#define DANEPOL_SELFCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "certload.h"
#include "finding.h"
#include "policy_run.h"
#include "store.h"

struct selfcheck_chain {
	char *path;	    /* the file it came from */
	struct certload c;  /* its certificates (leaf first) */
};

struct selfcheck_opts {
	unsigned cert_warn_days, cert_crit_days; /* served leaf expiry windows */
	unsigned sig_warn_days, sig_crit_days;	 /* RRSIG expiry windows */
	const struct selfcheck_chain *chains;	 /* certificate files to check, or NULL */
	size_t nchains;
	int no_probe;		  /* 1: no connections (DNS and files only) */
	unsigned port;		  /* connect to this port instead of 25 (a test aid), 0 */
	unsigned step_timeout_ms; /* the probe's bound on each step */
	const char *helo;	  /* the probe's EHLO name, or NULL */
	int64_t now;		  /* wall-clock Unix seconds the windows count from */
	struct store *store;	  /* when set, the published TLSA records go into the
				   * rollover history (rollover_observe()) */
	unsigned rollover_ttls;	  /* its gap bound, in TLSA TTLs */
};

struct selfcheck_result {
	char *domain;
	struct findings f;
	unsigned mx_hosts, dane_hosts; /* MX hosts; those with usable, secure TLSA */
	unsigned addrs, addrs_ok;      /* addresses probed; those that authenticated */
	int64_t cert_expire;	       /* earliest served leaf notAfter, 0: none seen */
	int64_t sig_expire;	       /* earliest RRSIG expiration, 0: none seen */
	uint32_t tlsa_ttl;	       /* smallest TLSA TTL, 0: none */
	int64_t time;		       /* opts->now */
};

/**
 * Check one own domain (see above) into *r (zeroed first). Never fails:
 * what cannot be checked is an UNKNOWN finding. Time is bounded by the
 * decision timeout, the DNS deadline and the probe's step timeouts.
 */
void selfcheck_domain(struct policy_runtime *rt, const char *domain,
    const struct selfcheck_opts *o, struct selfcheck_result *r);

void selfcheck_result_clear(struct selfcheck_result *r);

/**
 * Load the chain files at paths[0..n) into a new array (*out, *nout):
 * files holding only a key are skipped (Postfix's smtpd_tls_chain_files
 * may list keys apart). Each unreadable or broken file becomes an UNKNOWN
 * finding in f ("cert-file-unreadable") and is skipped. Free with
 * selfcheck_chains_free().
 */
void selfcheck_chains_load(char *const *paths, size_t n, struct findings *f,
    struct selfcheck_chain **out, size_t *nout);

void selfcheck_chains_free(struct selfcheck_chain *c, size_t n);

/**
 * The file names in out, the output of `postconf -h smtpd_tls_chain_files
 * smtpd_tls_cert_file smtpd_tls_eccert_file` (any bytes, NUL-terminated;
 * modified in place): the first line's words alone when it has any,
 * else those of the other lines; words split on blanks and commas,
 * duplicates and words with control bytes left out. Stores at most max
 * malloc'd strings in paths (caller frees each) and returns their number.
 */
size_t selfcheck_postconf_parse(char *out, char **paths, size_t max);

/**
 * The certificate files a Postfix instance serves: postconf -h of
 * smtpd_tls_chain_files, smtpd_tls_cert_file and smtpd_tls_eccert_file
 * (config_dir given: postconf -c config_dir); a non-empty
 * smtpd_tls_chain_files alone, as smtpd does. Words split on blanks and
 * commas, "$name" values expanded by postconf itself (-x). Returns the
 * number of paths in *paths (caller frees each and the array), or -1
 * with *err when postconf cannot be run or fails. Bounded: at most 64 KB
 * of output, 10 s.
 */
int selfcheck_postconf_files(const char *postconf, const char *config_dir, char ***paths,
    char **err);

/* ------------------------------------- selfcheck_run.c: many domains at once */

/** Options from the configuration's selfcheck_* and probe_* keys, the clock now. */
void selfcheck_opts_conf(struct selfcheck_opts *o, const struct conf *c, int64_t now);

/**
 * The words of a selfcheck_domains / selfcheck_cert_files value (blanks
 * and commas separate) as a NULL-terminated array (*out; free each and
 * the array); the count. NULL value: 0 words.
 */
size_t selfcheck_words(const char *value, char ***out);

/**
 * The served certificate files to check: files when nfiles > 0, else the
 * configuration's selfcheck_cert_files, else postconf's (Postfix's
 * smtpd_tls_*; postconf_dir: its -c, or NULL). Not finding postconf
 * (an Exim relay) is no error: no files. Returns the count, the paths in
 * *out (free each and the array); a postconf failure becomes an UNKNOWN
 * finding in f.
 */
size_t selfcheck_served_files(const struct conf *c, char *const *files, size_t nfiles,
    const char *postconf_dir, int use_postconf, struct findings *f, char ***out);

/**
 * Check domains[0..n) (selfcheck_domain()), each also against the chain
 * files paths[0..npaths) (loaded once; a file that cannot be read is an
 * UNKNOWN finding of every domain, as is each finding in pre). Returns
 * an array of n results (selfcheck_results_free()).
 */
struct selfcheck_result *selfcheck_all(struct policy_runtime *rt, char *const *domains,
    size_t n, char *const *paths, size_t npaths, const struct findings *pre,
    const struct selfcheck_opts *o);

void selfcheck_results_free(struct selfcheck_result *r, size_t n);

/* --------------------------------------------- selfcheck_out.c: the outputs */

/**
 * The monitoring-plugin output (Nagios/Icinga "as is"): a first line
 * "DANE SELFCHECK STATE - summary | perfdata", then one line per finding
 * "STATE code subject: text -> action". Returns the exit status: the
 * worst state of all results (finding.h's order).
 */
int selfcheck_print_text(FILE *fp, const struct selfcheck_result *r, size_t n);

/** The results as one JSON object (doc/selfcheck.schema.json); new reference. */
json_t *selfcheck_json(const struct selfcheck_result *r, size_t n);

/**
 * The Prometheus textfile-collector file at path, written atomically
 * (a temporary file in the same directory, fsync, rename). 0, or -1 with
 * *err (caller frees).
 */
int selfcheck_write_prometheus(const char *path, const struct selfcheck_result *r, size_t n,
    char **err);

/** The worst state over n results (FINDING_OK for none). */
enum finding_sev selfcheck_worst(const struct selfcheck_result *r, size_t n);

#endif
