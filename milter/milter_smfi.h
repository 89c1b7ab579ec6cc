/*
 * milter_smfi.h - the thin wrapper over the libmilter calls the milter
 * callbacks (milter.c) make. danepold links milter_smfi.c, which calls
 * libmilter's smfi_* functions one to one; the unit tests link a fake
 * (tests/unit/milter/fake_smfi.c) that serves macros from a table and
 * records replies, so milter/libdaemon.a holds no call into libmilter
 * (danepold.c's smfi_main() and friends apart, which are not in it).
 *
 * Each function has the contract of the smfi_* call it is named after
 * (libmilter's mfapi.h; MI_SUCCESS / MI_FAILURE); strings are borrowed,
 * as libmilter borrows them. Called from the callbacks' threads, with
 * their ctx only.
 */
#ifndef DANEPOL_MILTER_MILTER_SMFI_H
#define DANEPOL_MILTER_MILTER_SMFI_H

#include <libmilter/mfapi.h>

/** smfi_getpriv(): the connection's private pointer (NULL: none yet). */
void *milter_smfi_getpriv(SMFICTX *ctx);

/** smfi_setpriv(): set the connection's private pointer. */
int milter_smfi_setpriv(SMFICTX *ctx, void *priv);

/** smfi_getsymval(): a macro's value (owned by libmilter), or NULL. */
const char *milter_smfi_getsymval(SMFICTX *ctx, const char *name);

/** smfi_setreply(): the reply for a tempfail/reject status. */
int milter_smfi_setreply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text);

/** smfi_setsymlist(): the macros wanted at stage where (SMFIM_*). */
int milter_smfi_setsymlist(SMFICTX *ctx, int where, const char *macros);

/** smfi_insheader(): insert a header field at index idx (0: the top). EOM only. */
int milter_smfi_insheader(SMFICTX *ctx, int idx, const char *name, const char *value);

/** smfi_chgheader(): change (value NULL: delete) the idx-th (1-based) field name. EOM only. */
int milter_smfi_chgheader(SMFICTX *ctx, const char *name, int idx, const char *value);

#endif
