/*
 * cli_util.c - helpers shared by the danepol commands (declared in
 * cli.h): option-parsing ends, DOMAIN operands, strict numbers, the
 * one way to print a line made of outside text, and the start of the
 * commands about our own domains.
 *
 * Main thread only (getopt state, stdio); cli_own_start() allocates what
 * cli_own_end() frees.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "log.h"
#include "policy_check.h"
#include "selfcheck.h"

/* getopt_long()'s complaint for cmd after it returned ch (':' missing argument, else unknown). */
static void
opt_error(const char *cmd, int ch, char *const *argv)
{
	if (ch == ':')
		msg_error("%s: option %.64s needs an argument", cmd, argv[optind - 1]);
	else if (optopt)
		msg_error("%s: unknown option -%c", cmd, optopt);
	else
		msg_error("%s: unknown option %.64s", cmd, argv[optind - 1]);
}

/** cli_other_option - see cli.h. */
int
cli_other_option(const char *cmd, int ch, char *const *argv, void (*usage)(FILE *fp))
{
	if (ch == 'h') {
		usage(stdout);
		return 0;
	}
	opt_error(cmd, ch, argv);
	usage(stderr);
	return EX_USAGE;
}

/** cli_domains - see cli.h. */
int
cli_domains(const char *cmd, int argc, char **argv, void (*usage)(FILE *fp), char ***domains,
    int *ndomains)
{
	if (optind >= argc) {
		msg_error("%s: no domain given", cmd);
		usage(stderr);
		return EX_USAGE;
	}
	*domains = argv + optind;
	*ndomains = argc - optind;
	return -1;
}

/** cli_parse_uint - see cli.h. */
int
cli_parse_uint(const char *s, size_t maxlen, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v = 0;

	if (*s == 0 || strlen(s) > maxlen || maxlen > 9)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/** cli_emit - see cli.h. */
void
cli_emit(FILE *fp, struct buf *b)
{
	for (const unsigned char *p = (const unsigned char *)b->s; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f)
			putc(*p, fp);
		else
			fprintf(fp, "\\x%02X", *p);
	}
	putc('\n', fp);
	buf_reset(b);
}

/** cli_put_dest - see cli.h. */
void
cli_put_dest(struct buf *b, const char *domain, int no_mx, unsigned port, unsigned smtp_port)
{
	if (domain == NULL || *domain == 0) {
		buf_puts(b, "''");
		return;
	}
	if (no_mx && domain[0] != '[')
		buf_printf(b, "[%s]", domain);
	else
		buf_puts(b, domain);
	if (port && port != smtp_port)
		buf_printf(b, ":%u", port);
}

/** cli_own_start - see cli.h. */
int
cli_own_start(const char *cmd, const char *conf_path, char **operands, int noperands,
    struct cli_own *own)
{
	struct conf *c;
	int ex;

	memset(own, 0, sizeof(*own));
	if ((c = policy_check_load(conf_path)) == NULL)
		return -1;
	if (noperands == 0 && c->selfcheck_domains == NULL) {
		msg_error("%s: no domain given and selfcheck_domains is not set", cmd);
		conf_free(c);
		return -1;
	}
	/* policy_check_start() owns c from here, and frees it on failure */
	if ((own->rt = policy_check_start(c, 0, NULL, &ex)) == NULL)
		return -1;
	if (noperands > 0) {
		own->domains = operands;
		own->ndomains = (size_t)noperands;
	} else {
		own->ndomains = selfcheck_words(own->rt->conf->selfcheck_domains, &own->words);
		own->domains = own->words;
	}
	return 0;
}

/** cli_own_end - see cli.h. */
void
cli_own_end(struct cli_own *own)
{
	for (size_t i = 0; own->words && i < own->ndomains; i++)
		free(own->words[i]);
	free(own->words);
	policy_run_free(own->rt);
	memset(own, 0, sizeof(*own));
}
