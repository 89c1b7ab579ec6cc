/*
 * hash.c - seeded string hash for tables keyed by outside names
 * (contract in hash.h).
 */
#include "config.h"

#include <time.h>
#include <unistd.h>

#include "hash.h"

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

uint32_t
hash_string(uint64_t seed, const char *s, size_t *len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	if (len)
		*len = (size_t)(p - (const unsigned char *)s);
	return (uint32_t)mix64(h);
}
