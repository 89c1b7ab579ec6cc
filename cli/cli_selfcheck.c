/*
 * cli_selfcheck.c - `danepol selfcheck`: the DANE of our own mail domains
 * as senders see it (own/selfcheck.h), as a monitoring plugin.
 *
 *     danepol selfcheck [-c FILE] [--json] [--cert FILE]... [--no-cert-files]
 *         [--postfix-config DIR] [--no-probe] [--port N] [--prometheus FILE]
 *         [DOMAIN...]
 *
 * Domains: the operands, else selfcheck_domains. Served certificate
 * files: --cert (repeatable), else selfcheck_cert_files, else Postfix's
 * (postconf). Output: the plugin text (state line with perfdata, one line
 * per finding), or --json (doc/selfcheck.schema.json); the Prometheus
 * textfile with --prometheus or selfcheck_prometheus_file. When outcome_db
 * can be opened, the TLSA records seen go into the rollover history
 * (own/rollover.h), so a selfcheck timer builds what rollover check needs.
 *
 * Exit status, as monitoring plugins: 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN - also for a usage or configuration error, so that a broken
 * check never reads as "OK" in Icinga/Nagios.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "log.h"
#include "mem.h"
#include "policy_check.h"
#include "selfcheck.h"
#include "store.h"

#define SC_UNKNOWN   3
#define SC_MAX_FILES 32

struct sc_cli {
	const char *conf_path;
	int json, no_probe, no_files;
	unsigned port;
	const char *postfix_dir, *prometheus;
	char *files[SC_MAX_FILES];
	size_t nfiles;
	char **domains;
	int ndomains;
};

void
cli_selfcheck_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: danepol selfcheck [-c FILE] [--json] [--cert FILE]... [--no-cert-files]\n"
	    "           [--postfix-config DIR] [--no-probe] [--port N] [--prometheus FILE]\n"
	    "           [DOMAIN...]\n"
	    "  check our own domains (default: selfcheck_domains) as DANE senders see them:\n"
	    "  signed MX, usable TLSA at every MX host, STARTTLS and DANE at every address,\n"
	    "  the served certificate files against the records before they are deployed,\n"
	    "  certificate, OCSP and RRSIG expiry, the TLSA TTL\n"
	    "  -j, --json            one JSON object (doc/selfcheck.schema.json)\n"
	    "  -C, --cert FILE       a certificate chain file the MTA serves (repeatable;\n"
	    "                        default selfcheck_cert_files, else postconf's)\n"
	    "  -n, --no-cert-files   check no certificate files\n"
	    "  -P, --postfix-config DIR  the Postfix instance whose files postconf names\n"
	    "  -N, --no-probe        no connections: DNS and files only\n"
	    "  -p, --port N          connect to port N instead of 25 (a test aid)\n"
	    "  -m, --prometheus FILE write a Prometheus textfile (default\n"
	    "                        selfcheck_prometheus_file)\n"
	    "  -h, --help            this text\n"
	    "exit: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also usage and configuration\n"
	    "      errors), as a monitoring plugin\n");
}

/* One option of sc_parse(): -1 to go on, else the exit status. */
static int
sc_option(int ch, char **argv, struct sc_cli *o)
{
	switch (ch) {
	case 'c':
		o->conf_path = optarg;
		return -1;
	case 'j':
		o->json = 1;
		return -1;
	case 'C':
		if (o->nfiles == SC_MAX_FILES) {
			msg_error("selfcheck: more than %d --cert files", SC_MAX_FILES);
			return SC_UNKNOWN;
		}
		o->files[o->nfiles++] = optarg;
		return -1;
	case 'n':
		o->no_files = 1;
		return -1;
	case 'P':
		o->postfix_dir = optarg;
		return -1;
	case 'N':
		o->no_probe = 1;
		return -1;
	case 'm':
		o->prometheus = optarg;
		return -1;
	case 'p':
		if (cli_parse_uint(optarg, 5, 1, 65535, &o->port) == 0)
			return -1;
		msg_error("selfcheck: --port wants 1..65535: %.32s", optarg);
		cli_selfcheck_usage(stderr);
		return SC_UNKNOWN;
	default: /* -h, ':' or '?' */
		ch = cli_other_option("selfcheck", ch, argv, cli_selfcheck_usage);
		return ch == 0 ? 0 : SC_UNKNOWN;
	}
}

static int
sc_parse(const struct cli_global *g, int argc, char **argv, struct sc_cli *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "cert", required_argument, NULL, 'C' },
		{ "no-cert-files", no_argument, NULL, 'n' },
		{ "postfix-config", required_argument, NULL, 'P' },
		{ "no-probe", no_argument, NULL, 'N' },
		{ "port", required_argument, NULL, 'p' },
		{ "prometheus", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, ex;

	memset(o, 0, sizeof(*o));
	o->conf_path = g->conf_path;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:jC:nP:Np:m:h", longopts, NULL)) != -1)
		if ((ex = sc_option(ch, argv, o)) >= 0)
			return ex;
	o->domains = argv + optind;
	o->ndomains = argc - optind;
	return -1;
}

/* Run the check and print; the exit status. */
static int
sc_run(struct policy_runtime *rt, const struct sc_cli *o, char **domains, size_t n)
{
	struct selfcheck_opts so;
	struct findings pre = { 0 };
	struct selfcheck_result *r;
	const char *prom = o->prometheus ? o->prometheus : rt->conf->selfcheck_prometheus_file;
	char **files = NULL, *err = NULL;
	size_t nfiles = 0;
	int ex;

	selfcheck_opts_conf(&so, rt->conf, (int64_t)time(NULL));
	so.no_probe = o->no_probe;
	so.port = o->port;
	/* the rollover history (danepol rollover check reads it); optional */
	if (rt->conf->outcome_db && store_access(rt->conf->outcome_db, &err) == 0)
		so.store = store_open(rt->conf->outcome_db, &err);
	if (rt->conf->outcome_db && so.store == NULL)
		msg_warn("selfcheck: no rollover history kept: outcome_db %s", err ? err : "?");
	free(err);
	err = NULL;
	if (!o->no_files)
		nfiles = selfcheck_served_files(rt->conf, o->files, o->nfiles, o->postfix_dir, 1,
		    &pre, &files);
	r = selfcheck_all(rt, domains, n, files, nfiles, &pre, &so);
	if (o->json) {
		json_t *j = selfcheck_json(r, n);
		char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII);

		ex = (int)selfcheck_worst(r, n);
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(j);
	} else {
		ex = selfcheck_print_text(stdout, r, n);
	}
	if (prom && selfcheck_write_prometheus(prom, r, n, &err) < 0) {
		msg_error("selfcheck: cannot write the Prometheus file: %s", err);
		free(err);
		ex = ex == 2 ? 2 : SC_UNKNOWN;
	}
	selfcheck_results_free(r, n);
	store_close(so.store);
	for (size_t i = 0; files && i < nfiles; i++)
		free(files[i]);
	free(files);
	findings_clear(&pre);
	return ex;
}

int
cli_selfcheck(const struct cli_global *g, int argc, char **argv)
{
	struct cli_own own;
	struct sc_cli o;
	int ex;

	if ((ex = sc_parse(g, argc, argv, &o)) >= 0)
		return ex;
	if (cli_own_start("selfcheck", o.conf_path, o.domains, o.ndomains, &own) < 0)
		return SC_UNKNOWN;
	ex = sc_run(own.rt, &o, own.domains, own.ndomains);
	cli_own_end(&own);
	return ex;
}
