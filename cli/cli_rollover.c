/*
 * cli_rollover.c - `danepol rollover check|plan` (own/rollover.h).
 *
 *     danepol rollover check [-c FILE] (--next-key FILE | --next-cert FILE)
 *         [--ttls N] [DOMAIN...]
 *     danepol rollover plan [-c FILE] [--next-key FILE | --next-cert FILE]
 *         [--ttls N] [--port N] [DOMAIN...]
 *
 * Domains: the operands, else selfcheck_domains. The history lives in
 * outcome_db (table seen); without it nothing is ever old enough.
 * check's first line is "DANE ROLLOVER GO|WAIT|NO|UNKNOWN - ...", then one
 * line per finding; its exit status is 0 go, 1 wait, 2 no, 3 unknown, so
 * an ACME deploy hook can run `danepol rollover check --next-cert NEW ||
 * exit 1`. plan prints zone-file lines with what to do with each record.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certload.h"
#include "cli.h"
#include "log.h"
#include "mem.h"
#include "policy_check.h"
#include "rollover.h"
#include "selfcheck.h"

#define RO_UNKNOWN 3

struct ro_cli {
	const char *conf_path;
	const char *key_file, *cert_file;
	unsigned ttls, port;
	int plan;
	char **domains;
	int ndomains;
};

void
cli_rollover_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: danepol rollover check [-c FILE] (--next-key FILE | --next-cert FILE)\n"
	    "           [--ttls N] [DOMAIN...]\n"
	    "       danepol rollover plan [-c FILE] [--next-key FILE | --next-cert FILE]\n"
	    "           [--ttls N] [--port N] [DOMAIN...]\n"
	    "  check: is the next key's TLSA record published at every MX host of our\n"
	    "  domains (default: selfcheck_domains), and seen for rollover_ttls x TTL?\n"
	    "  Each run adds to the history in outcome_db: run it from a timer, and as\n"
	    "  the ACME deploy hook that refuses a new key before DNS has caught up.\n"
	    "  plan: the published records, each with keep / next key / remove (and when).\n"
	    "  -k, --next-key FILE   the next private or public key (PEM or DER)\n"
	    "  -x, --next-cert FILE  the next certificate (its key; its 3 0 x records too)\n"
	    "  -t, --ttls N          TTLs the record must be seen (default rollover_ttls)\n"
	    "  -p, --port N          plan: connect to port N instead of 25 (a test aid)\n"
	    "  -h, --help            this text\n"
	    "exit (check): 0 go, 1 wait, 2 no (not published, no DANE), 3 unknown\n"
	    "      (also usage and configuration errors); plan: 0, or 3\n");
}

static int
ro_option(int ch, char **argv, struct ro_cli *o)
{
	switch (ch) {
	case 'c':
		o->conf_path = optarg;
		return -1;
	case 'k':
		o->key_file = optarg;
		return -1;
	case 'x':
		o->cert_file = optarg;
		return -1;
	case 't':
		if (cli_parse_uint(optarg, 3, 1, 100, &o->ttls) == 0)
			return -1;
		msg_error("rollover: --ttls wants 1..100: %.32s", optarg);
		return RO_UNKNOWN;
	case 'p':
		if (cli_parse_uint(optarg, 5, 1, 65535, &o->port) == 0)
			return -1;
		msg_error("rollover: --port wants 1..65535: %.32s", optarg);
		return RO_UNKNOWN;
	default:
		ch = cli_other_option("rollover", ch, argv, cli_rollover_usage);
		return ch == 0 ? 0 : RO_UNKNOWN;
	}
}

static int
ro_parse(const struct cli_global *g, int argc, char **argv, struct ro_cli *o)
{
	static const struct option longopts[] = {
		{ "next-key", required_argument, NULL, 'k' },
		{ "next-cert", required_argument, NULL, 'x' },
		{ "ttls", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, ex, nsrc;

	memset(o, 0, sizeof(*o));
	o->conf_path = g->conf_path;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:k:x:t:p:h", longopts, NULL)) != -1)
		if ((ex = ro_option(ch, argv, o)) >= 0)
			return ex;
	if (optind >= argc || (strcmp(argv[optind], "check") != 0 &&
				  strcmp(argv[optind], "plan") != 0)) {
		msg_error("rollover: say check or plan");
		cli_rollover_usage(stderr);
		return RO_UNKNOWN;
	}
	o->plan = strcmp(argv[optind], "plan") == 0;
	nsrc = (o->key_file != NULL) + (o->cert_file != NULL);
	if (nsrc > 1 || (!o->plan && nsrc == 0)) {
		msg_error("rollover: %s wants %s--next-key FILE or --next-cert FILE",
		    argv[optind], o->plan ? "at most one of " : "one of ");
		cli_rollover_usage(stderr);
		return RO_UNKNOWN;
	}
	/* getopt_long() permuted the options after the subcommand too */
	o->domains = argv + optind + 1;
	o->ndomains = argc - optind - 1;
	return -1;
}

/* The next key or certificate into *next (certload); 0, or -1 logged. */
static int
ro_next(const struct ro_cli *o, struct certload *next, struct rollover_opts *ro)
{
	const char *path = o->key_file ? o->key_file : o->cert_file;
	char *err = NULL;

	memset(next, 0, sizeof(*next));
	if (path == NULL)
		return 0;
	if (certload_file(path, next, &err) < 0) {
		msg_error("rollover: %s", err);
		free(err);
		return -1;
	}
	if (o->cert_file && next->ncert == 0) {
		msg_error("rollover: %s holds no certificate (use --next-key for a key)", path);
		return -1;
	}
	ro->next_cert = o->cert_file ? next->cert[0] : NULL;
	ro->next_key = o->cert_file ? NULL : next->key;
	if (ro->next_cert == NULL && ro->next_key == NULL) {
		msg_error("rollover: %s holds no key", path);
		return -1;
	}
	return 0;
}

static int
ro_domain(struct policy_runtime *rt, const struct ro_cli *o, const struct rollover_opts *ro,
    const char *domain)
{
	struct findings f = { 0 };
	enum finding_sev w;
	static const char *const words[] = { "GO", "WAIT", "NO", "UNKNOWN" };

	if (o->plan) {
		char *plan = rollover_plan(rt, domain, ro, &f);

		printf("; %s\n%s", domain, plan);
		free(plan);
		findings_print(stdout, domain, &f);
		w = findings_worst(&f) == FINDING_UNKNOWN ? FINDING_UNKNOWN : FINDING_OK;
	} else {
		rollover_check(rt, domain, ro, &f);
		w = findings_worst(&f);
		printf("DANE ROLLOVER %s - %s: %zu ready, %zu waiting, %zu missing\n", words[w],
		    domain, findings_count(&f, FINDING_OK), findings_count(&f, FINDING_WARNING),
		    findings_count(&f, FINDING_CRITICAL));
		findings_print(stdout, domain, &f);
	}
	findings_clear(&f);
	return (int)w;
}

/* The worst of two exit statuses in the finding order (2 > 1 > 3 > 0). */
static int
ro_worse(int a, int b)
{
	static const int rank[] = { 0, 2, 3, 1 };

	return rank[b] > rank[a] ? b : a;
}

static int
ro_run(const struct cli_own *own, const struct ro_cli *o, struct rollover_opts *ro)
{
	int ex = 0;

	for (size_t i = 0; i < own->ndomains; i++)
		ex = ro_worse(ex, ro_domain(own->rt, o, ro, own->domains[i]));
	return ex;
}

int
cli_rollover(const struct cli_global *g, int argc, char **argv)
{
	struct rollover_opts ro;
	struct certload next;
	struct cli_own own = { 0 };
	struct ro_cli o;
	char *err = NULL;
	int ex;

	if ((ex = ro_parse(g, argc, argv, &o)) >= 0)
		return ex;
	memset(&ro, 0, sizeof(ro));
	ex = RO_UNKNOWN;
	if (ro_next(&o, &next, &ro) < 0)
		goto out;
	if (cli_own_start("rollover", o.conf_path, o.domains, o.ndomains, &own) < 0)
		goto out;
	ro.ttls = o.ttls ? o.ttls : own.rt->conf->rollover_ttls;
	ro.step_timeout_ms = own.rt->conf->probe_step_timeout_ms;
	ro.helo = own.rt->conf->probe_helo;
	ro.port = o.port;
	ro.now = (int64_t)time(NULL);
	if (own.rt->conf->outcome_db &&
	    (ro.store = store_open(own.rt->conf->outcome_db, &err)) == NULL) {
		msg_error("rollover: %s", err);
		free(err);
		goto out;
	}
	ex = ro_run(&own, &o, &ro);
out:
	store_close(ro.store);
	cli_own_end(&own);
	certload_clear(&next);
	return ex;
}
