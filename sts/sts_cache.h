/*
 * sts_cache.h - MTA-STS policies as RFC 8461 sections 3.3 and 5.1 want
 * them kept: applied until max_age after their fetch, refreshed when the
 * _mta-sts TXT id changes or the policy nears its end, a failed refresh
 * keeping the policy it had, and no new fetch for the same id within
 * STS_CACHE_RETRY_S of a failure.
 *
 * Two levels: a bounded in-memory table, and, when a store is given, the
 * outcome store's sts_policies table (store/stspol.h), which survives
 * restarts and is read back through sts_policy_parse() (what the file
 * holds is checked again, never trusted).
 *
 * Who fetches is the caller's choice: sts_cache_lookup() never blocks on
 * the network; sts_cache_refresh() does (sts_fetch(), bounded);
 * sts_cache_refresh_later() hands it to the cache's background threads.
 * Threads: any; one mutex inside; the store has its own lock.
 * Ownership: the cache is its creator's (sts_cache_free()); the store
 * stays the caller's and must outlive the cache.
 */
#ifndef DANEPOL_STS_CACHE_H
#define DANEPOL_STS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "sts_fetch.h"
#include "sts_policy.h"

struct store;
struct sts_cache;

#define STS_CACHE_RETRY_S   300	  /* section 3.3: at least 5 min between fetches of one id */
#define STS_CACHE_REFRESH_S 86400 /* refresh a policy this long before it runs out */
#define STS_CACHE_MAX	    8192  /* policies kept in memory */
#define STS_CACHE_QUEUE_MAX 256	  /* background refreshes waiting */

/** What sts_cache_lookup() found. */
struct sts_cache_state {
	int have;	      /* 1: *policy holds an unexpired policy */
	int want_fetch;	      /* 1: fetch now (no policy, a new id, near its end), not backing off */
	int64_t fetched;      /* when the policy was fetched (have) */
	int64_t expires;      /* when it runs out (have) */
	char id[33];	      /* the id it was fetched under (have) */
};

/** A new cache; st may be NULL (memory only). fo is copied (its strings are not). */
struct sts_cache *sts_cache_new(struct store *st, const struct sts_fetch_opts *fo);

void sts_cache_free(struct sts_cache *c);

/**
 * New fetch options (a reload changed sts_ca_file, sts_fetch_timeout or
 * sts_https_port); fo's strings are copied. Fetches under way keep theirs.
 */
void sts_cache_set_opts(struct sts_cache *c, const struct sts_fetch_opts *fo);

/**
 * The policy of domain as of now, given the id of its current TXT record
 * (NULL: no valid record was found, which does not drop a cached policy).
 * Fills *state; when state->have, *policy is a copy (sts_policy_clear()).
 */
void sts_cache_lookup(struct sts_cache *c, const char *domain, const char *txt_id, int64_t now,
    struct sts_policy *policy, struct sts_cache_state *state);

/**
 * Fetch domain's policy for txt_id now (blocking, bounded by the fetch
 * options, or by timeout_ms when not 0; addrs[0..naddrs) the addresses of
 * mta-sts.<domain>, or NULL: libcurl resolves) and keep it; on failure keep what was kept before and
 * note the failure for the retry wait. Returns the fetch status; *err
 * (may be NULL) gets the reason of a failure (caller frees).
 */
enum sts_fetch_status sts_cache_refresh(struct sts_cache *c, const char *domain,
    const char *txt_id, const char *const *addrs, size_t naddrs, unsigned timeout_ms, int64_t now,
    char **err);

/**
 * Run refreshes in the background on threads (1..4) of the cache's own:
 * sts_cache_refresh_later() queues them. Once per cache; the threads stop
 * in sts_cache_free(). 0, or -1 (logged) when no thread could start.
 */
int sts_cache_background(struct sts_cache *c, unsigned threads);

/**
 * Queue a refresh of domain for txt_id (addrs: see sts_cache_refresh;
 * copied) on the background threads, when it is not queued already.
 * Returns 1 queued (or already queued), 0 when there are no background
 * threads or the queue (STS_CACHE_QUEUE_MAX) is full: the caller then
 * fetches itself or leaves it to a later decision. Never blocks on I/O.
 */
int sts_cache_refresh_later(struct sts_cache *c, const char *domain, const char *txt_id,
    const char *const *addrs, size_t naddrs);

/**
 * Called after every fetch (on the fetching thread, no lock held): the
 * domain, the TXT id fetched for, the status, the policy (STS_FETCH_OK)
 * or NULL, and the reason of a failure or NULL. danepold writes it to the
 * audit log: no fetch, failed or not, goes unrecorded.
 */
typedef void (*sts_cache_fetch_fn)(void *arg, const char *domain, const char *txt_id,
    enum sts_fetch_status st, const struct sts_policy *p, const char *err);

/** Set the fetch callback (before the cache is shared). */
void sts_cache_on_fetch(struct sts_cache *c, sts_cache_fetch_fn fn, void *arg);

/**
 * The MTA-STS policy kept in store st for domain that applied at time at
 * (Unix seconds): the latest policy fetched, when at is before it runs
 * out, and its mode is enforce or testing. The report readers use it to
 * tell an MTA-STS session from one without a policy (Postfix logs a
 * "Verified" session alike for DANE and MTA-STS). 1 with *p filled
 * (sts_policy_clear()), 0 when none, -1 when the store failed (logged).
 * Any thread (the store's lock).
 */
int sts_cache_stored(struct store *st, const char *domain, int64_t at, struct sts_policy *p);

struct tls_outcome;

/**
 * The session outcome o (policy_domain and time set, no policy strings
 * yet) made an sts one when store st kept an MTA-STS policy that applied
 * then (sts_cache_stored()): policy_type OUTCOME_POLICY_STS and the
 * policy's lines as policy strings (o owns them). 1 when it did, else 0.
 */
int sts_cache_outcome(struct store *st, struct tls_outcome *o);

/**
 * The store several relays share (a PostgreSQL outcome_db), or NULL when
 * it is not reachable now; called on the background threads only, never
 * by a decision. The store stays the caller's.
 */
typedef struct store *(*sts_cache_shared_fn)(void *arg);

/**
 * Share fetched policies and the fetch work with the other relays of a
 * shared store (before the cache is shared between threads; needs the
 * background threads). Then a background refresh first looks at the
 * shared store's policy of the domain: one for the same TXT id that does
 * not need a refresh yet is taken as it is (counted in
 * sts_cache_shared_taken()); else the refresh claims ("sts-fetch",
 * DOMAIN/ID) for lease_s and fetches, and when another relay holds that
 * claim it leaves the fetch to it. Every policy this cache keeps, in
 * a decision or in the background, is published to the shared store by
 * the background threads (at most STS_CACHE_QUEUE_MAX waiting; more are
 * dropped, and logged). A decision never waits for the shared store.
 */
void sts_cache_share(struct sts_cache *c, sts_cache_shared_fn get, void *arg, unsigned lease_s);

/** Policies taken from the shared store instead of fetched, since the start. */
unsigned long sts_cache_shared_taken(struct sts_cache *c);

/** Tests: wait (at most ms) until no refresh is queued or running. 0, or -1 on timeout. */
int sts_cache_idle(struct sts_cache *c, unsigned ms);

#endif
