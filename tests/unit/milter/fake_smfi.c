/*
 * fake_smfi.c - the fake milter_smfi.h of the unit tests (contract in
 * fake_smfi.h). Links instead of milter/milter_smfi.c, which is only in
 * danepold.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fake_smfi.h"
#include "mem.h"
#include "milter_smfi.h"

#define FAKE_MACROS	32
#define FAKE_STAGES	8

struct smfi_str {
	void *priv;
	char *name[FAKE_MACROS], *value[FAKE_MACROS];
	char *reply;
	int fail_setreply;
	char *symlist[FAKE_STAGES];
	struct buf edits;
};

SMFICTX *
fake_smfi_new(void)
{
	SMFICTX *ctx = xcalloc(1, sizeof(SMFICTX));

	buf_init(&ctx->edits);
	return ctx;
}

void
fake_smfi_free(SMFICTX *ctx)
{
	if (ctx == NULL)
		return;
	for (int i = 0; i < FAKE_MACROS; i++) {
		free(ctx->name[i]);
		free(ctx->value[i]);
	}
	for (int i = 0; i < FAKE_STAGES; i++)
		free(ctx->symlist[i]);
	free(ctx->reply);
	buf_free(&ctx->edits);
	free(ctx);
}

static int
fake_find(SMFICTX *ctx, const char *name)
{
	for (int i = 0; i < FAKE_MACROS; i++)
		if (ctx->name[i] && strcmp(ctx->name[i], name) == 0)
			return i;
	return -1;
}

void
fake_smfi_macro(SMFICTX *ctx, const char *name, const char *value)
{
	int i = fake_find(ctx, name);

	if (i < 0) {
		if (value == NULL)
			return;
		for (i = 0; i < FAKE_MACROS && ctx->name[i]; i++)
			;
		if (i == FAKE_MACROS)
			abort();
		ctx->name[i] = xstrdup(name);
	}
	free(ctx->value[i]);
	ctx->value[i] = NULL;
	if (value == NULL) {
		free(ctx->name[i]);
		ctx->name[i] = NULL;
		return;
	}
	ctx->value[i] = xstrdup(value);
}

const char *
fake_smfi_reply(SMFICTX *ctx)
{
	return ctx->reply;
}

void
fake_smfi_clear_reply(SMFICTX *ctx)
{
	free(ctx->reply);
	ctx->reply = NULL;
}

void
fake_smfi_fail_setreply(SMFICTX *ctx, int fail)
{
	ctx->fail_setreply = fail;
}

const char *
fake_smfi_symlist(SMFICTX *ctx, int where)
{
	return where >= 0 && where < FAKE_STAGES ? ctx->symlist[where] : NULL;
}

void *
fake_smfi_priv(SMFICTX *ctx)
{
	return ctx->priv;
}

/* ------------------------------------------------ milter_smfi.h */

void *
milter_smfi_getpriv(SMFICTX *ctx)
{
	return ctx->priv;
}

int
milter_smfi_setpriv(SMFICTX *ctx, void *priv)
{
	ctx->priv = priv;
	return MI_SUCCESS;
}

const char *
milter_smfi_getsymval(SMFICTX *ctx, const char *name)
{
	int i = fake_find(ctx, name);

	return i < 0 ? NULL : ctx->value[i];
}

int
milter_smfi_setreply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text)
{
	if (ctx->fail_setreply)
		return MI_FAILURE;
	free(ctx->reply);
	ctx->reply = xasprintf("%s %s %s", rcode, xcode ? xcode : "", text ? text : "");
	return MI_SUCCESS;
}

int
milter_smfi_setsymlist(SMFICTX *ctx, int where, const char *macros)
{
	if (where < 0 || where >= FAKE_STAGES)
		return MI_FAILURE;
	free(ctx->symlist[where]);
	ctx->symlist[where] = xstrdup(macros);
	return MI_SUCCESS;
}

const char *
fake_smfi_edits(SMFICTX *ctx)
{
	return ctx->edits.s ? ctx->edits.s : "";
}

int
milter_smfi_insheader(SMFICTX *ctx, int idx, const char *name, const char *value)
{
	buf_printf(&ctx->edits, "ins %d %s: %s\n", idx, name, value);
	return MI_SUCCESS;
}

int
milter_smfi_chgheader(SMFICTX *ctx, const char *name, int idx, const char *value)
{
	if (value == NULL)
		buf_printf(&ctx->edits, "chg %s %d\n", name, idx);
	else
		buf_printf(&ctx->edits, "chg %s %d: %s\n", name, idx, value);
	return MI_SUCCESS;
}
