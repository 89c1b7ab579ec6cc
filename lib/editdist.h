/*
 * editdist.h - how far apart two short words are, for "did you mean"
 * hints (an unknown configuration key, an unknown command).
 *
 * The distance is the optimal string alignment variant of
 * Damerau-Levenshtein: insertions, deletions, substitutions and swaps of
 * two neighbouring bytes cost one each, compared case-insensitively
 * (ASCII). Words longer than EDITDIST_MAX bytes are never close to
 * anything (the table is on the stack, bounded).
 *
 * Pure functions, any thread, nothing allocated.
 */
#ifndef DANEPOL_EDITDIST_H
#define DANEPOL_EDITDIST_H

#include <stddef.h>

#define EDITDIST_MAX 64 /* bytes per word compared */

/**
 * The distance between a and b, or EDITDIST_MAX + 1 when either is longer
 * than EDITDIST_MAX bytes.
 */
unsigned editdist(const char *a, const char *b);

/**
 * The word of words[0..n) closest to w when its distance is at most
 * max_dist and smaller than that of every other word (a tie suggests
 * nothing: a hint must not guess), else NULL. The result points into
 * words.
 */
const char *editdist_closest(const char *w, const char *const *words, size_t n, unsigned max_dist);

#endif
