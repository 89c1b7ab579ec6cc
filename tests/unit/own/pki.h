/*
 * pki.h - the own/ unit tests' access to the offline world's PKI
 * (WORLD_DIR/pki, made by tools/mkworld.sh; tests/world/README.md).
 * Criterion tests only: a missing world skips the calling test.
 */
#ifndef DANEPOL_TEST_PKI_H
#define DANEPOL_TEST_PKI_H

/**
 * Malloc'd "WORLD_DIR/pki/name" (caller frees). Skips the running
 * criterion test (cr_skip_test) when WORLD_DIR is unset or the file is not
 * readable. Test thread only.
 */
char *test_pki(const char *name);

#endif
