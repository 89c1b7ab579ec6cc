/*
 * test_hash.c - the seeded string hash of tables keyed by sender-chosen
 * names (lib/hash.h; the decision cache and danepold's probe table).
 *
 * djb2_collisions_spread: 4096 names that all have the same unseeded djb2
 * value (built from the equal-hash blocks "Ez" and "FY": 'E'*33+'z' ==
 * 'F'*33+'Y'), the names a sender floods the probe table with under the
 * old hash, spread over the probe table's 16384 buckets: no chain longer
 * than 8 (one chain of 4096 under djb2).
 * seeds_differ: two seeds place the same 1000 names in different buckets
 * (all but a handful), and one seed is deterministic.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define NB	16384	/* daemon_probe.c's PC_BUCKETS */

/* Name i of the colliding set: 12 blocks of "Ez"/"FY" by the bits of i. */
static void
flood_name(unsigned i, char *out)
{
	char *p = out;

	for (int b = 0; b < 12; b++, p += 2)
		memcpy(p, (i >> b) & 1 ? "FY" : "Ez", 2);
	strcpy(p, ".example");
}

static unsigned
djb2(const char *s)
{
	unsigned h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

Test(hash, djb2_collisions_spread)
{
	static unsigned short chain[NB];
	char name[64];
	unsigned maxc = 0;
	uint64_t seed = hash_seed(chain);
	size_t len;

	flood_name(0, name);
	unsigned d0 = djb2(name);
	for (unsigned i = 0; i < 4096; i++) {
		flood_name(i, name);
		cr_assert_eq(djb2(name), d0, "%s does not collide", name);
		unsigned b = hash_string(seed, name, &len) & (NB - 1);

		cr_assert_eq(len, strlen(name));
		if (++chain[b] > maxc)
			maxc = chain[b];
	}
	cr_log_info("longest chain: %u of 4096 names in %d buckets", maxc, NB);
	cr_expect_leq(maxc, 8, "longest chain %u of 4096 flooding names", maxc);
}

Test(hash, seeds_differ)
{
	static char salt[2];
	uint64_t s1 = hash_seed(&salt[0]), s2 = hash_seed(&salt[1]);
	char name[64];
	unsigned same = 0;

	cr_assert_neq(s1, s2);
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "mx%u.example", i);
		cr_assert_eq(hash_string(s1, name, NULL), hash_string(s1, name, NULL));
		same += (hash_string(s1, name, NULL) & (NB - 1)) ==
		    (hash_string(s2, name, NULL) & (NB - 1));
	}
	cr_log_info("same bucket under two seeds: %u of 1000", same);
	cr_expect_leq(same, 5, "%u of 1000 names in the same bucket under two seeds", same);
}

Test(hash, stable_is_fnv1a64)
{
	/* FNV-1a 64 test vectors (Fowler, Noll, Vo) */
	cr_expect_eq(hash_stable(""), 0xcbf29ce484222325ULL);
	cr_expect_eq(hash_stable("a"), 0xaf63dc4c8601ec8cULL);
	cr_expect_eq(hash_stable("foobar"), 0x85944171f73967e8ULL);
}
