/*
 * danepol.c - main() of the danepol operator command.
 *
 *     danepol [-c FILE] [-v] COMMAND [ARG...]
 *
 * Global options come first (parsing stops at the command name); the
 * command is looked up in a dispatch table and gets the rest of argv
 * with its own name as argv[0]. Unknown command, missing command or a bad
 * global option: the usage text on stderr and exit 64 (EX_USAGE).
 *
 * The commands load the configuration (-c FILE, else DANEPOL_CONF_FILE
 * when it exists, else the built-in defaults) and tell configuration
 * errors (exit 78) from a resolver that cannot start (exit 69) with
 * policy/policy_check.h, as danepold does. See cli.h and danepol(1).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_control.h"
#include "cli_probe.h"
#include "conf.h"
#include "editdist.h"
#include "log.h"
#include "sts_fetch.h"

static int cmd_help(const struct cli_global *g, int argc, char **argv);

static void help_usage(FILE *fp);

/*
 * The commands. Each has its usage text, printed by `danepol help NAME`,
 * `danepol NAME --help` (or -h) and after a usage error. A command added
 * here needs a usage function (tests/danepol/check.sh runs `help NAME`
 * and `NAME --help` for every name `help` lists).
 */
static const struct cli_command {
	const char *name;
	int (*run)(const struct cli_global *g, int argc, char **argv);
	void (*usage)(FILE *fp);
	const char *summary;
} commands[] = {
	{ "check", cli_check, cli_check_usage, "decide the DANE policy of domains and explain it" },
	{ "probe", cli_probe, cli_probe_usage,
	    "probe the MX hosts of domains: STARTTLS, DANE, OCSP" },
	{ "report", cli_report, cli_report_usage,
	    "build, write and deliver the RFC 8460 TLS reports of a day" },
	{ "query", cli_query, cli_query_usage,
	    "ask the running danepold for its decision on domains" },
	{ "stats", cli_stats, cli_stats_usage, "print the running danepold's counters (JSON)" },
	{ "tlsa", cli_tlsa, cli_tlsa_usage,
	    "make the TLSA records of your own MX hosts (cert, key or server)" },
	{ "smime", cli_smime, cli_smime_usage,
	    "check a message's S/MIME signer through SMIMEA and OCSP, as the milter does" },
	{ "smimea", cli_smimea, cli_smimea_usage,
	    "make the SMIMEA record of a users' CA (domain-wide) or of one user" },
	{ "selfcheck", cli_selfcheck, cli_selfcheck_usage,
	    "check our own domains' DANE as senders see it (monitoring plugin)" },
	{ "rollover", cli_rollover, cli_rollover_usage,
	    "gate a key switch on the next key's TLSA record being published long enough" },
	{ "help", cmd_help, help_usage, "show this text, or the usage of COMMAND" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cli_command *
command_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/** cli_usage - print the top-level usage and the command list to fp. */
void
cli_usage(FILE *fp)
{
	fprintf(fp, "usage: danepol [-c FILE] [-v] COMMAND [ARG...]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(fp,
	    "\noptions:\n"
	    "  -c FILE  configuration file (default %s if it exists)\n"
	    "  -v       more verbose diagnostics (repeatable)\n"
	    "  -V       print the version and exit\n"
	    "\n`danepol help COMMAND` or `danepol COMMAND --help`: the usage of COMMAND.\n"
	    "See danepol(1).\n",
	    DANEPOL_CONF_FILE);
}

static void
help_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: danepol help [COMMAND]\n"
	    "  the usage of COMMAND, or of danepol and the list of commands\n");
}

/* "unknown command" with the closest command name when one is near. */
static void
unknown_command(const char *name)
{
	const char *names[NCOMMANDS], *near;

	for (size_t i = 0; i < NCOMMANDS; i++)
		names[i] = commands[i].name;
	if ((near = editdist_closest(name, names, NCOMMANDS, 2)) != NULL)
		msg_error("unknown command: %.64s (did you mean %s?)", name, near);
	else
		msg_error("unknown command: %.64s", name);
}

/* `danepol help [COMMAND]`: usage on stdout, exit 0 (64 for an unknown COMMAND). */
static int
cmd_help(const struct cli_global *g, int argc, char **argv)
{
	const struct cli_command *cmd;

	(void)g;
	if (argc > 1 && (cmd = command_find(argv[1])) != NULL) {
		cmd->usage(stdout);
		return 0;
	}
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		help_usage(stdout);
		return 0;
	}
	if (argc > 1) {
		unknown_command(argv[1]);
		cli_usage(stderr);
		return EX_USAGE;
	}
	cli_usage(stdout);
	return 0;
}

/* Global options into *g; returns the index of the command, or -1 (exit code in *ex). */
static int
parse_global(int argc, char **argv, struct cli_global *g, int *ex)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:hvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			g->conf_path = optarg;
			break;
		case 'v':
			g->verbose++;
			msg_verbose++;
			break;
		case 'h':
			cli_usage(stdout);
			*ex = 0;
			return -1;
		case 'V':
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			*ex = 0;
			return -1;
		case ':':
			msg_error("option -%c needs an argument", optopt);
			goto usage;
		default:
			if (optopt)
				msg_error("unknown option -%c", optopt);
			else
				msg_error("unknown option %.64s", argv[optind - 1]);
			goto usage;
		}
	}
	if (optind >= argc) {
		msg_error("no command given");
		goto usage;
	}
	return optind;
usage:
	cli_usage(stderr);
	*ex = EX_USAGE;
	return -1;
}

/**
 * main - parse global options, dispatch the command, flush stdout.
 * Exit status: the command's, or 64 (usage), 74 (stdout write error).
 */
int
main(int argc, char **argv)
{
	struct cli_global g = { NULL, 0 };
	const struct cli_command *cmd;
	int first, ex = 0;

	msg_init("danepol");
	if (sts_fetch_global_init() < 0) { /* libcurl (MTA-STS, OCSP, reports) */
		msg_error("libcurl could not be initialised");
		return EX_SOFTWARE;
	}
	if ((first = parse_global(argc, argv, &g, &ex)) < 0)
		goto out;
	if ((cmd = command_find(argv[first])) == NULL) {
		unknown_command(argv[first]);
		cli_usage(stderr);
		ex = EX_USAGE;
		goto out;
	}
	ex = cmd->run(&g, argc - first, argv + first);
out:
	if (fflush(stdout) != 0 || ferror(stdout)) {
		msg_error("cannot write the output: %s", strerror(errno));
		if (ex < EX_USAGE)
			ex = EX_IOERR;
	}
	return ex;
}
