/*
 * nullmilter.c - the "null milter" of the intake benchmark: a libmilter
 * filter that accepts everything and does nothing, negotiating exactly
 * what danepold negotiates (milter/milter.c: skip headers, end of
 * headers, body and unknown commands, never DATA, no SMFIP_NR_*; the
 * same macro lists), with the same callbacks registered (connect,
 * envfrom, envrcpt, eom, abort, close), so that danepold/null measures
 * danepold's own cost, not a protocol difference.
 *
 * Usage: nullmilter SOCKET [lean]   (libmilter spec: unix:PATH or inet:PORT@HOST)
 * "lean": the least any milter that decides at RCPT can cost: every
 * other step skipped (connect, HELO, MAIL, DATA, headers, body, unknown),
 * only RCPT registered and answered. The intake benchmark's floor for the
 * milter protocol itself.
 * Runs in the foreground until SIGTERM. Bench only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libmilter/mfapi.h>

static int lean;

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	unsigned long skip = SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN;

	if (lean)
		skip |= SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NODATA;
	(void)f2;
	(void)f3;
	*pf0 = f0 & SMFIF_SETSYMLIST;
	*pf1 = f1 & skip;
	*pf2 = 0;
	*pf3 = 0;
	if (*pf0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name}");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
		smfi_setsymlist(ctx, SMFIM_ENVRCPT, "i {rcpt_host} {rcpt_mailer}");
		smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

static sfsistat nm_connect(SMFICTX *c, char *h, _SOCK_ADDR *a) { (void)c; (void)h; (void)a; return SMFIS_CONTINUE; }
static sfsistat nm_envfrom(SMFICTX *c, char **v) { (void)c; (void)v; return SMFIS_CONTINUE; }
static sfsistat nm_envrcpt(SMFICTX *c, char **v) { (void)c; (void)v; return SMFIS_CONTINUE; }
static sfsistat nm_eom(SMFICTX *c) { (void)c; return SMFIS_CONTINUE; }
static sfsistat nm_abort(SMFICTX *c) { (void)c; return SMFIS_CONTINUE; }
static sfsistat nm_close(SMFICTX *c) { (void)c; return SMFIS_CONTINUE; }

static struct smfiDesc desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_NONE,
	.xxfi_connect = nm_connect,
	.xxfi_envfrom = nm_envfrom,
	.xxfi_envrcpt = nm_envrcpt,
	.xxfi_eom = nm_eom,
	.xxfi_abort = nm_abort,
	.xxfi_close = nm_close,
	.xxfi_negotiate = nm_negotiate,
};

int
main(int argc, char **argv)
{
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "lean") != 0)) {
		fprintf(stderr, "usage: nullmilter SOCKET [lean]\n");
		return 64;
	}
	if (argc == 3) {
		lean = 1;
		desc.xxfi_connect = NULL;
		desc.xxfi_envfrom = NULL;
		desc.xxfi_eom = NULL;
	}
	umask(0);
	if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(desc) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot open %s\n", argv[1]);
		return 1;
	}
	fprintf(stderr, "nullmilter ready\n");
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
