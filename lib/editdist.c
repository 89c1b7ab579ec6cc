/*
 * editdist.c - the edit distance of editdist.h (optimal string alignment
 * Damerau-Levenshtein over ASCII-folded bytes) and the closest word of a
 * list. Pure, any thread.
 */
#include "config.h"

#include <string.h>

#include "editdist.h"

static unsigned char
fold(unsigned char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch - 'A' + 'a') : ch;
}

static unsigned
min3(unsigned a, unsigned b, unsigned c)
{
	unsigned m = a < b ? a : b;

	return m < c ? m : c;
}

/** editdist - see editdist.h. */
unsigned
editdist(const char *a, const char *b)
{
	unsigned d[EDITDIST_MAX + 1][EDITDIST_MAX + 1];
	size_t n = strlen(a), m = strlen(b);

	if (n > EDITDIST_MAX || m > EDITDIST_MAX)
		return EDITDIST_MAX + 1;
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			unsigned char x = fold((unsigned char)a[i - 1]);
			unsigned char y = fold((unsigned char)b[j - 1]);
			unsigned cost = x != y;

			d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && x == fold((unsigned char)b[j - 2]) &&
			    fold((unsigned char)a[i - 2]) == y && d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return d[n][m];
}

/** editdist_closest - see editdist.h. */
const char *
editdist_closest(const char *w, const char *const *words, size_t n, unsigned max_dist)
{
	const char *best = NULL;
	unsigned best_d = max_dist + 1;
	int tie = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned dd = editdist(w, words[i]);

		if (dd < best_d) {
			best = words[i];
			best_d = dd;
			tie = 0;
		} else if (dd == best_d && best != NULL) {
			tie = 1;
		}
	}
	return tie ? NULL : best;
}
