/*
 * fake_smfi.h - a fake of milter/milter_smfi.h for the unit tests of the
 * milter callbacks (tests/unit/milter/test_milter.c): a SMFICTX that
 * serves macros from a table, keeps the private pointer, and records the
 * last reply and the macro lists asked for. No libmilter. For unit tests
 * only; one ctx per test thread (nothing is locked).
 *
 * Ownership: fake_smfi_new()'s ctx is the caller's (fake_smfi_free());
 * macro names and values are copied; returned strings belong to the ctx
 * and stay valid until the next call that changes them.
 */
#ifndef DANEPOL_TEST_FAKE_SMFI_H
#define DANEPOL_TEST_FAKE_SMFI_H

#include <libmilter/mfapi.h>

/** A fresh ctx: no macros, no private pointer, no reply. */
SMFICTX *fake_smfi_new(void);

/** Free ctx (not its private pointer: the close callback frees that). */
void fake_smfi_free(SMFICTX *ctx);

/** Set macro name to value (NULL: unset it). */
void fake_smfi_macro(SMFICTX *ctx, const char *name, const char *value);

/** The last reply set, "CODE XCODE TEXT", or NULL; fake_smfi_clear_reply() forgets it. */
const char *fake_smfi_reply(SMFICTX *ctx);
void fake_smfi_clear_reply(SMFICTX *ctx);

/** Make milter_smfi_setreply() fail (MI_FAILURE) from now on (fail != 0). */
void fake_smfi_fail_setreply(SMFICTX *ctx, int fail);

/**
 * The header edits made so far, one line each: "ins IDX NAME: VALUE" and
 * "chg NAME IDX" (a deletion) or "chg NAME IDX: VALUE"; "" when none.
 */
const char *fake_smfi_edits(SMFICTX *ctx);

/** The macro list asked for at stage where (SMFIM_*), or NULL. */
const char *fake_smfi_symlist(SMFICTX *ctx, int where);

/** The private pointer as the callbacks left it. */
void *fake_smfi_priv(SMFICTX *ctx);

#endif
