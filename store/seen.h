/*
 * seen.h - since when something has been seen without a break: the
 * history behind `danepol rollover` (a next key's TLSA record must have
 * been published for 2 x TTL before the key is deployed; an old key's
 * record may go once the new key has been served for 2 x TTL).
 *
 * Table seen (part of the outcome store's schema, store.c): one row per
 * (kind, owner, item) with first_seen and last_seen in Unix seconds.
 * kind says what is observed ("tlsa": item is a record "U S M HEX"
 * published at owner "_25._tcp.host."; "served": item is "3 1 1 HEX" of
 * the leaf key a server presented, owner "host[addr]:port").
 *
 * "Without a break": seen_observe() is given the whole set seen at owner
 * now. A known item keeps its first_seen; an item of owner that is not in
 * the set is deleted (its history restarts when it comes back); and an
 * item whose last_seen is older than now - max_gap restarts too (the
 * history has a hole nobody looked into). Times come from the caller, so
 * tests move them (faketime on the CLI).
 *
 * Hostile data: kind, owner and items are bounded (SEEN_MAX_*) UTF-8
 * without control characters; anything else is refused with *err and
 * nothing is written. One transaction per call.
 *
 * Threads: the calls take the store's lock (store.h); any thread.
 */
#ifndef DANEPOL_SEEN_H
#define DANEPOL_SEEN_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SEEN_MAX_KIND  16
#define SEEN_MAX_OWNER 600   /* "_65535._tcp." + a 253-octet name, or host[addr]:port */
#define SEEN_MAX_ITEM  16384 /* a "3 0 0" record of a large certificate */
#define SEEN_MAX_ITEMS 256

/**
 * Record that exactly items[0..n) are present at (kind, owner) at time
 * now (see above). first_seen (may be NULL) receives, for each item, the
 * start of its unbroken history (now for a new one). max_gap 0: no limit.
 * Returns 0, or -1 with *err (caller frees).
 */
int seen_observe(struct store *s, const char *kind, const char *owner, const char *const *items,
    size_t n, int64_t now, int64_t max_gap, int64_t *first_seen, char **err);

/**
 * The first_seen of one item at (kind, owner) without changing anything:
 * 1 with *first_seen set, 0 when unknown, -1 with *err.
 */
int seen_get(struct store *s, const char *kind, const char *owner, const char *item,
    int64_t *first_seen, char **err);

#endif
