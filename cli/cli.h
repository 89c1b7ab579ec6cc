/*
 * cli.h - the danepol operator command: shared state and the commands.
 *
 * danepol.c parses the global options ([-c FILE] [-v]), picks the command
 * from its dispatch table and calls it with the command's own arguments
 * (argv[0] is the command name). A command returns the process exit
 * status. Diagnostics go through msg_*() (log.h) with the program name
 * "danepol", so a config error reads "danepol: error: FILE:LINE: reason";
 * results go to stdout.
 *
 * Exit statuses are the CLI_EX_* verdicts 0-3 below, then <sysexits.h>
 * numbers (EX_USAGE, EX_CONFIG, ...); danepol(1) documents them.
 */
#ifndef DANEPOL_CLI_H
#define DANEPOL_CLI_H

#include <stdio.h>
#include <sysexits.h>

#include "buf.h"
#include "conf.h"

#define CLI_EX_REQUIRE 0 /* most severe verdict: require */
#define CLI_EX_TRY     1 /* ... try */
#define CLI_EX_DEFER   2 /* ... defer */
#define CLI_EX_REJECT  3 /* ... reject */
/*
 * Above the verdicts, <sysexits.h>: EX_USAGE bad command line,
 * EX_UNAVAILABLE resolver could not start, EX_SOFTWARE internal error
 * (JSON could not be built), EX_IOERR writing the output failed,
 * EX_CONFIG configuration error.
 */

/* Options given before the command; commands may override conf_path. */
struct cli_global {
	const char *conf_path; /* -c FILE, or NULL for the default */
	int verbose;	       /* -v count (also in msg_verbose) */
};

/* ------------------------------------------------- cli_util.c: shared helpers */

/**
 * cli_other_option - an option ch the command's getopt loop does not
 * handle itself: 'h' prints usage on stdout and gives 0; anything else
 * (':' missing argument, '?' unknown option: getopt_long() with
 * opterr = 0 and a leading ':') is logged from optopt and argv[optind - 1],
 * usage goes to stderr and the result is EX_USAGE. The command returns
 * the result as its exit status.
 */
int cli_other_option(const char *cmd, int ch, char *const *argv, void (*usage)(FILE *fp));

/**
 * cli_domains - the DOMAIN... operands after the options (argv from
 * optind on, pointers into argv): -1 to go on, or EX_USAGE after "cmd: no
 * domain given" and usage on stderr.
 */
int cli_domains(const char *cmd, int argc, char **argv, void (*usage)(FILE *fp), char ***domains,
    int *ndomains);

/**
 * cli_parse_uint - strict decimal s (digits only, at most maxlen of them,
 * maxlen <= 9) within min..max into *out: 0, or -1.
 */
int cli_parse_uint(const char *s, size_t maxlen, unsigned min, unsigned max, unsigned *out);

/**
 * cli_emit - write the text of b to fp as one line, bytes that are not
 * printable ASCII as \xNN (outside text can neither move the cursor nor
 * forge a line), and empty b.
 */
void cli_emit(FILE *fp, struct buf *b);

/**
 * cli_put_dest - the destination of a head line as Postfix writes a next
 * hop: "domain", "[host]" for a destination without MX lookup (an
 * address literal keeps its own brackets), ":port" when port is not
 * smtp_port; "''" for an empty one. Shared by check and probe, so their
 * head lines name a destination the same way.
 */
void cli_put_dest(struct buf *b, const char *domain, int no_mx, unsigned port, unsigned smtp_port);

struct policy_runtime;

/*
 * The engine and the domains of a command about our own domains
 * (selfcheck, rollover): the DOMAIN operands, else the words of
 * selfcheck_domains. Filled by cli_own_start(), released by cli_own_end().
 */
struct cli_own {
	struct policy_runtime *rt; /* the engine (policy_check_start) */
	char **domains;		   /* the operands, or words */
	size_t ndomains;
	char **words; /* selfcheck_domains' words (owned), or NULL */
};

/**
 * cli_own_start - load conf_path, refuse (logged as "cmd: ...") when no
 * operand is given and selfcheck_domains is unset, start the engine.
 * operands stay the caller's. Returns 0, or -1 logged (*own empty then).
 */
int cli_own_start(const char *cmd, const char *conf_path, char **operands, int noperands,
    struct cli_own *own);

/** cli_own_end - free what cli_own_start() made; own may be empty. */
void cli_own_end(struct cli_own *own);

/** Print the top-level usage text to fp. */
void cli_usage(FILE *fp);

/**
 * cli_check - `danepol check [-c FILE] [--json] [--no-cache] [--timeout MS]
 * DOMAIN...`: decide each domain in turn over one runtime, print the
 * decisions (human text, or JSON Lines with --json) and return the exit
 * status of the most severe verdict (CLI_EX_REQUIRE..CLI_EX_REJECT), or
 * EX_USAGE, EX_CONFIG, EX_UNAVAILABLE, EX_IOERR.
 */
int cli_check(const struct cli_global *g, int argc, char **argv);

/** Print the usage text of `danepol check` to fp. */
void cli_check_usage(FILE *fp);

/**
 * cli_report - `danepol report [-c FILE] [--dry-run] [--date YYYY-MM-DD]
 * [--domain D]... [--ingest-postfix] [--retry-only]`: the RFC 8460
 * reports of one UTC day, written, delivered and retried (cli_report.c).
 * Returns 0, 1 (something not delivered), EX_USAGE,
 * EX_UNAVAILABLE, EX_IOERR or EX_CONFIG.
 */
int cli_report(const struct cli_global *g, int argc, char **argv);

/** Print the usage text of `danepol report` to fp. */
void cli_report_usage(FILE *fp);

/**
 * cli_tlsa - `danepol tlsa (-c FILE | -k FILE | -s HOST[:PORT] | --connect
 * ADDR) [...] HOST...`: the TLSA records of the operator's own MX hosts
 * from a certificate chain, a key or a live server (cli_tlsa.c). Returns 0,
 * EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_UNAVAILABLE, EX_CONFIG, EX_SOFTWARE
 * or EX_IOERR.
 */
int cli_tlsa(const struct cli_global *g, int argc, char **argv);

/** Print the usage text of `danepol tlsa` to fp. */
void cli_tlsa_usage(FILE *fp);

/**
 * cli_smime - `danepol smime [-c FILE] [--json] [--authserv-id ID]
 * [MESSAGE]`: check one message's S/MIME signer as danepold's milter does
 * (cli_smime.c). Returns 0 pass, 1 none/neutral, 2 fail/permerror,
 * EX_TEMPFAIL, EX_USAGE, EX_NOINPUT, EX_UNAVAILABLE, EX_CONFIG, EX_IOERR.
 */
int cli_smime(const struct cli_global *g, int argc, char **argv);
void cli_smime_usage(FILE *fp);

/**
 * cli_smimea - `danepol smimea (--address ADDR | --domain DOMAIN) [...]
 * CERTFILE`: the SMIMEA record to publish (cli_smime.c). Returns 0,
 * EX_USAGE, EX_DATAERR or EX_IOERR.
 */
int cli_smimea(const struct cli_global *g, int argc, char **argv);
void cli_smimea_usage(FILE *fp);

/**
 * cli_selfcheck - `danepol selfcheck`: our own domains' DANE as senders
 * see it (cli_selfcheck.c, own/selfcheck.h). Returns the monitoring
 * plugin states 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for usage
 * and configuration errors).
 */
int cli_selfcheck(const struct cli_global *g, int argc, char **argv);

/** Print the usage text of `danepol selfcheck` to fp. */
void cli_selfcheck_usage(FILE *fp);

/**
 * cli_rollover - `danepol rollover check|plan`: gate a key switch on the
 * next key's record having been published long enough (cli_rollover.c,
 * own/rollover.h). check: 0 go, 1 wait, 2 not published / broken,
 * 3 unknown (usage, configuration, store); plan: 0, or 3.
 */
int cli_rollover(const struct cli_global *g, int argc, char **argv);

/** Print the usage text of `danepol rollover` to fp. */
void cli_rollover_usage(FILE *fp);

#endif
