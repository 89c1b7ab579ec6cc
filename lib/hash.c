/*
 * hash.c - seeded string hash for tables keyed by outside names
 * (contract in hash.h).
 */
#include "config.h"

#include <time.h>
#include <unistd.h>

#include "hash.h"

#define FNV_BASIS 0xcbf29ce484222325ULL /* FNV-1a 64 offset basis */

static uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t
hash_seed(const void *salt)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
	    (uint64_t)(uintptr_t)salt ^ ((uint64_t)getpid() << 48));
}

/* FNV-1a 64 of s from offset basis h; *len (may be NULL) gets strlen(s). */
static uint64_t
fnv1a64(uint64_t h, const char *s, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	if (len)
		*len = (size_t)(p - (const unsigned char *)s);
	return h;
}

uint32_t
hash_string(uint64_t seed, const char *s, size_t *len)
{
	return (uint32_t)mix64(fnv1a64(FNV_BASIS ^ seed, s, len));
}

uint64_t
hash_stable(const char *s)
{
	return fnv1a64(FNV_BASIS, s, NULL);
}
