/*
 * policy_cache.h - decision cache keyed by destination, with single-flight.
 *
 * Thread-safe. Entries hold a reference to an immutable struct
 * policy_decision and expire after a TTL the caller gives (derived from
 * the RRsets, bounded, short for defers). The cache is bounded in entries;
 * when full, expired entries go first, then the least recently used.
 *
 * Single-flight: policy_cache_begin() for a key that is being resolved by
 * another thread blocks until that resolution is published (or abandoned,
 * or the caller's deadline passes), so N concurrent requests for one
 * domain cost one resolution.
 *
 * Usage:
 *     struct policy_decision *d;
 *     switch (policy_cache_begin(c, key, deadline, &d)) {
 *     case POLICY_CACHE_HIT:   use d; policy_decision_unref(d); break;
 *     case POLICY_CACHE_MISS:  d = resolve(); policy_cache_publish(c, key, d, ttl); ...
 *     case POLICY_CACHE_TIMEOUT: another thread is still resolving; caller decides
 *     }
 * A MISS obliges the caller to call policy_cache_publish() or
 * policy_cache_abandon() for that key exactly once (this includes a MISS
 * obtained by taking over an abandoned resolution). A thread must not call
 * policy_cache_begin() again for a key it is resolving: it would wait for
 * itself until its deadline.
 *
 * Keys are copied and compared byte for byte: callers canonicalise them.
 * Waits are on CLOCK_MONOTONIC (the clock_now_ms() clock) in milliseconds;
 * expiry is on a separate clock in seconds (CLOCK_MONOTONIC unless a test
 * replaces it with policy_cache_set_clock()). An entry published at t with
 * ttl_s expires at t + ttl_s: a begin() at or after that is a MISS for that
 * caller (and concurrent callers wait for it, as for any resolution).
 *
 * Size: max_entries bounds the number of entries, in-flight ones included.
 * In-flight entries are never evicted, so while more than max_entries keys
 * are being resolved at once the cache holds more entries than that, until
 * those resolutions end.
 */
#ifndef DANEPOL_POLICY_CACHE_H
#define DANEPOL_POLICY_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

enum policy_cache_result { POLICY_CACHE_HIT, POLICY_CACHE_MISS, POLICY_CACHE_TIMEOUT };

struct policy_cache;

/** max_entries >= 1 (0 is taken as 1). Free with policy_cache_free() once no thread uses it. */
struct policy_cache *policy_cache_new(size_t max_entries);
void policy_cache_free(struct policy_cache *c);

/**
 * Look up key (copied). HIT: *out is a new reference (a cached decision, or
 * the one another thread published while this caller waited). MISS: caller
 * now owns the resolution of key; *out is NULL. TIMEOUT: another thread's
 * resolution did not finish by deadline_ms (clock_now_ms() clock); *out is
 * NULL. A deadline already past returns TIMEOUT at once when key is in
 * flight; HIT and MISS never wait.
 */
enum policy_cache_result policy_cache_begin(struct policy_cache *c, const char *key,
    int64_t deadline_ms, struct policy_decision **out);

/**
 * Store d (the cache takes its own reference; the caller keeps its own) for
 * ttl_s seconds and wake waiters, who all get d. Not stored, only handed
 * to the waiters: ttl_s == 0, or a resolution that began before the last
 * policy_cache_flush(). Without a pending MISS this is a plain store
 * (replacing any cached decision; dropped if every entry is in flight).
 * d == NULL behaves as policy_cache_abandon().
 */
void policy_cache_publish(struct policy_cache *c, const char *key, struct policy_decision *d,
    unsigned ttl_s);

/**
 * Give up a MISS without storing; one waiter (if any) becomes the resolver:
 * its begin() returns MISS, the other waiters keep waiting. Waiters whose
 * deadline has passed return TIMEOUT instead of taking over; if none is
 * left the key is dropped. No-op when key is not in flight.
 */
void policy_cache_abandon(struct policy_cache *c, const char *key);

/**
 * Drop every cached decision (e.g. on reload). Resolutions in flight go on:
 * their result reaches the threads waiting for it but is not stored.
 */
void policy_cache_flush(struct policy_cache *c);

/** Entries held, in-flight ones included. */
size_t policy_cache_size(struct policy_cache *c);

/* ---- test hooks: not for production callers ------------------------- */

/**
 * Replace the clock (seconds) used for expiry; NULL restores the default
 * (CLOCK_MONOTONIC seconds). now_s is called with the cache lock held: it
 * must be thread-safe and must not call into the cache. Waits ignore it.
 */
void policy_cache_set_clock(struct policy_cache *c, int64_t (*now_s)(void));

/**
 * Threads asleep in policy_cache_begin() waiting for key's resolution.
 * A woken thread counts again only once it has rechecked and gone back to
 * sleep, so "n waiters" means n threads have seen the current state.
 */
size_t policy_cache_waiters(struct policy_cache *c, const char *key);

/**
 * Verify the internal invariants (hash chains, LRU list, expiry heap,
 * counts, size bound). Returns 0, or -1 after logging the first violation.
 * O(entries) under the lock.
 */
int policy_cache_check(struct policy_cache *c);

#endif
