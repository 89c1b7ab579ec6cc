/*
 * fuzz.h - shared helpers of the libFuzzer targets in fuzz/ (built by
 * tools/fuzz.sh with clang -fsanitize=fuzzer,address,undefined).
 *
 * Every fuzz_<name>.c defines LLVMFuzzerTestOneInput() and states its
 * contract at its head: what the input bytes mean, which functions see
 * them, and which properties are checked. A property that fails is a bug
 * in danepol's own code, so the targets call FUZZ_CHECK() (abort with
 * file:line and the failed expression) - that is allowed here, never in
 * the code under test, which must not assert() on outside data.
 *
 * Nothing here allocates except fuzz_cstr(), whose result the caller
 * frees with free(3).
 */
#ifndef DANEPOL_FUZZ_H
#define DANEPOL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a libFuzzer "crash") when a property of our code does not hold. */
#define FUZZ_CHECK(cond)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: property failed: %s\n",		\
			    __FILE__, __LINE__, #cond);				\
			abort();						\
		}								\
	} while (0)

/* data[0..size) as a NUL-terminated string (stops at an embedded NUL,
 * as a C caller would see it). Caller frees. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

/* A cursor over the input for targets that read it as a script. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

/* The next byte, or 0 once the input is used up. */
static inline uint8_t
fuzz_byte(struct fuzz_in *in)
{
	uint8_t b;

	if (in->n == 0)
		return 0;
	b = *in->p++;
	in->n--;
	return b;
}

/* Up to want bytes: *out points into the input, the count is returned. */
static inline size_t
fuzz_bytes(struct fuzz_in *in, size_t want, const uint8_t **out)
{
	size_t n = want < in->n ? want : in->n;

	*out = in->p;
	in->p += n;
	in->n -= n;
	return n;
}

#endif
