/*
 * policy_run.h - the runtime: one config snapshot's resolver, local policy
 * table, status table and decision cache, and policy_run_decide(), the driver
 * that runs the pure engine (policy.h) against the resolver (dns.h).
 *
 * A struct policy_runtime is built from a struct conf and is then
 * read-only except for its cache (internally locked), so any number of
 * threads may call policy_run_decide() on it at once. Reload = build a new
 * runtime and swap the pointer; free the old one when no thread uses it.
 */
#ifndef DANEPOL_POLICY_RUN_H
#define DANEPOL_POLICY_RUN_H

#include "conf.h"
#include "dns.h"
#include "dns_setup.h"
#include "policy.h"
#include "policy_cache.h"
#include "policy_status.h"
#include "policy_table.h"

struct sts_cache;

struct policy_runtime {
	struct conf *conf;		 /* owned */
	struct dns_resolver **resolvers; /* owned: nresolvers libunbound contexts */
	unsigned nresolvers;
	struct policy_table *table;	    /* owned; NULL when no table */
	struct policy_status_table *status; /* owned */
	struct policy_cache *cache;	    /* owned */
	enum tls_level default_level;
	uint64_t seed;		/* of policy_run_resolver_for()'s hash */
	struct sts_cache *sts;	/* NULL unless sts = yes (policy_sts.c) */
	int sts_shared;		/* 1: sts is policy_run_share_sts()'s, not freed here */
};

/**
 * Build a runtime from conf (ownership of conf passes to the runtime, also
 * on failure). Returns NULL with *err (caller frees) when the trust anchor,
 * resolver config, policy table or a status override is unusable.
 */
struct policy_runtime *policy_run_new(struct conf *conf, char **err);

void policy_run_free(struct policy_runtime *rt);

/**
 * Use c, a process-wide MTA-STS cache that outlives runtimes (danepold:
 * kept across reloads, over the outcome store), instead of rt's own; its
 * fetch options become rt's configuration's. Does nothing unless rt's
 * configuration has sts = yes. c stays the caller's. Before rt is shared.
 */
void policy_run_share_sts(struct policy_runtime *rt, struct sts_cache *c);

/**
 * A resolver configured from c's resolver keys (trust anchor, forwarder,
 * unbound config, retransmission), as the runtime builds it; for users
 * that need lookups beyond decisions (danepol report's rua discovery).
 * NULL with *err (caller frees). Free with dns_resolver_free().
 */
struct dns_resolver *policy_run_resolver_new(const struct conf *c, char **err);

/* Time the trust anchor check waits for its answer. */
#define POLICY_ANCHOR_CHECK_MS 5000

/**
 * Prove that rt's trust anchor validates (dns/dns_setup.h,
 * dns_setup_anchor_check() on rt's first resolver, at most
 * POLICY_ANCHOR_CHECK_MS): DNS_ANCHOR_OK, DNS_ANCHOR_BAD (a configuration
 * error: the anchor validates nothing) or DNS_ANCHOR_UNKNOWN (no answer:
 * callers warn and go on). *msg (caller frees) says which.
 */
enum dns_anchor_state policy_run_anchor_check(const struct policy_runtime *rt, char **msg);

/**
 * The resolver that decides domain (canonical): one of rt's
 * resolver_threads contexts, always the same one for the same domain, so
 * that its lookups meet that context's caches. Owned by rt.
 */
struct dns_resolver *policy_run_resolver_for(const struct policy_runtime *rt, const char *domain);

struct policy_outcome {
	struct policy_decision *d; /* a reference: policy_decision_unref() it */
	int cache_hit;
	unsigned elapsed_ms; /* this call's wall time */
};

/**
 * Decide for a destination given from outside: a domain (U- or A-labels,
 * any case, optional trailing dot) or an address literal. Never fails:
 * invalid input gives a defer decision (invalid-domain), an internal
 * problem a defer (internal-error); time is bounded by
 * decision_timeout_ms (plus the wait for another thread resolving the
 * same domain, bounded by the same deadline). Counts the decision by
 * verdict and reason, and a cache hit or miss (lib/stats.h).
 * out->d->made_ms says when the decision was made (its age, for a hit).
 */
void policy_run_decide(struct policy_runtime *rt, const char *domain, struct policy_outcome *out);

/** Like policy_run_decide() but bypassing the cache (danepol check --no-cache). */
void policy_run_decide_uncached(struct policy_runtime *rt, const char *domain,
    struct policy_outcome *out);

#endif
