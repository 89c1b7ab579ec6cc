/*
 * milter_smfi.c - the libmilter side of milter_smfi.h: each function is
 * the smfi_* call it is named after. Linked into danepold only (not into
 * milter/libdaemon.a); the unit tests link tests/unit/milter/fake_smfi.c
 * instead.
 */
#include "config.h"

#include <libmilter/mfapi.h>

#include "milter_smfi.h"

void *
milter_smfi_getpriv(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

int
milter_smfi_setpriv(SMFICTX *ctx, void *priv)
{
	return smfi_setpriv(ctx, priv);
}

const char *
milter_smfi_getsymval(SMFICTX *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *)name);
}

int
milter_smfi_setreply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text)
{
	return smfi_setreply(ctx, (char *)rcode, (char *)xcode, (char *)text);
}

int
milter_smfi_setsymlist(SMFICTX *ctx, int where, const char *macros)
{
	return smfi_setsymlist(ctx, where, (char *)macros);
}

int
milter_smfi_insheader(SMFICTX *ctx, int idx, const char *name, const char *value)
{
	return smfi_insheader(ctx, idx, (char *)name, (char *)value);
}

int
milter_smfi_chgheader(SMFICTX *ctx, const char *name, int idx, const char *value)
{
	return smfi_chgheader(ctx, (char *)name, idx, (char *)value);
}
