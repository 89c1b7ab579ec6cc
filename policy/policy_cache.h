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
 * policy_cache_abandon() for that key exactly once.
 */
#ifndef DANEPOL_POLICY_CACHE_H
#define DANEPOL_POLICY_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

enum policy_cache_result { POLICY_CACHE_HIT, POLICY_CACHE_MISS, POLICY_CACHE_TIMEOUT };

struct policy_cache;

/** max_entries >= 1. Free with policy_cache_free() once no thread uses it. */
struct policy_cache *policy_cache_new(size_t max_entries);
void policy_cache_free(struct policy_cache *c);

/**
 * Look up key (copied). HIT: *out is a new reference. MISS: caller now
 * owns the resolution of key. TIMEOUT: another thread's resolution did not
 * finish by deadline_ms (dns_now_ms() clock); *out is NULL.
 */
enum policy_cache_result policy_cache_begin(struct policy_cache *c, const char *key,
    int64_t deadline_ms, struct policy_decision **out);

/** Store d (the cache takes its own reference) for ttl_s seconds and wake waiters. */
void policy_cache_publish(struct policy_cache *c, const char *key,
    struct policy_decision *d, unsigned ttl_s);

/** Give up a MISS without storing; one waiter (if any) becomes the resolver. */
void policy_cache_abandon(struct policy_cache *c, const char *key);

/** Drop every entry (e.g. on reload). */
void policy_cache_flush(struct policy_cache *c);

size_t policy_cache_size(struct policy_cache *c);

/** Test hook: replace the clock (seconds) used for expiry; NULL restores. */
void policy_cache_set_clock(struct policy_cache *c, int64_t (*now_s)(void));

#endif
