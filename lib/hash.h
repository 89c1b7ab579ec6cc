/*
 * hash.h - the one string hash of danepol's in-memory tables whose keys
 * outsiders choose (destination names): seeded, so that a sender cannot
 * precompute names that all land in one hash chain (hash flooding).
 * Users: the decision cache (policy/policy_cache.c), the local policy
 * table (policy/policy_table.c), the choice of resolver context
 * (policy/policy_run.c) and the probe table (milter/daemon_probe.c).
 * hash_stable() is the unseeded one, for names that must be the same in
 * every run (a report's file name), never for tables.
 *
 * Pure functions, thread-safe; a seed is a plain value the table keeps.
 */
#ifndef DANEPOL_HASH_H
#define DANEPOL_HASH_H

#include <stddef.h>
#include <stdint.h>

/**
 * A new seed, different between tables (salt: e.g. the table's address)
 * and between runs (clock, pid). Not a secret key: a flooding attacker
 * would need to learn it from timing, which the bounded tables make
 * unrewarding.
 */
uint64_t hash_seed(const void *salt);

/**
 * FNV-1a 64 of the NUL-terminated s with seed in the offset basis, then a
 * murmur3 finaliser so that the low bits (bucket index) are well mixed.
 * *len (may be NULL) gets strlen(s).
 */
uint32_t hash_string(uint64_t seed, const char *s, size_t *len);

/**
 * FNV-1a 64 of the NUL-terminated s, unseeded: the same value in every
 * run, for fingerprints that name things (a report's unique-id). Not for
 * tables keyed by outside names.
 */
uint64_t hash_stable(const char *s);

#endif
