/*
 * cli_smime.c - the operator's S/MIME commands (smime/smime.h):
 *
 *     danepol smime [-c FILE] [--json] [--authserv-id ID] [MESSAGE]
 *         check one message (a file, or standard input) as danepold's
 *         milter does: the Authentication-Results field it would add, or
 *         with --json the report (the "smime" member of the audit line).
 *
 *     danepol smimea (--address ADDR | --domain DOMAIN) [--usage 2|3]
 *         [--selector 0|1] [--mtype 0|1|2] CERTFILE
 *         the SMIMEA record (RFC 8162) to publish for a certificate:
 *         --domain: the domain-wide anchor "*._smimecert.DOMAIN." of the
 *         CA certificate that issues the users' certificates (default
 *         2 1 1, DANE-TA); --address: one user's record at
 *         "<hash>._smimecert.DOMAIN." for their own certificate (default
 *         3 1 1, DANE-EE). The certificate file's first certificate is
 *         the one hashed (own/certload.h reads PEM or DER).
 *
 * The message is read whole, at most smime_max_message bytes plus one
 * (a larger one is reported neutral, not checked, as the milter does).
 *
 * Exit status of `smime`: 0 pass, 1 none or neutral, 2 fail or
 * permerror, 75 (EX_TEMPFAIL) temperror; 64 usage, 66 no input, 69 the
 * resolver could not start, 78 configuration error.
 * Exit status of `smimea`: 0, 64 usage, 65 (EX_DATAERR) an unusable
 * certificate or address.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "certload.h"
#include "cli.h"
#include "dnsname.h"
#include "log.h"
#include "mem.h"
#include "policy_check.h"
#include "policy_run.h"
#include "smime.h"
#include "smime_ocsp.h"
#include "smime_verify.h"
#include "tlsa_gen.h"

void
cli_smime_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: danepol smime [-c FILE] [--json] [--authserv-id ID] [MESSAGE]\n"
	    "  -c FILE            configuration file (resolver, smime_* limits)\n"
	    "  -j, --json         the report as JSON instead of the header field\n"
	    "  -a, --authserv-id ID  the header's authserv-id (default: smime_authserv_id,\n"
	    "                     else the host name)\n"
	    "  MESSAGE            the message file (default: standard input)\n"
	    "exit: 0 pass, 1 none or neutral, 2 fail or permerror, 75 temperror;\n"
	    "      64 usage, 66 no input, 69 resolver unavailable, 78 configuration error\n");
}

void
cli_smimea_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: danepol smimea (--address ADDR | --domain DOMAIN) [--usage 2|3]\n"
	    "                      [--selector 0|1] [--mtype 0|1|2] CERTFILE\n"
	    "  -d, --domain DOMAIN   the domain-wide anchor *._smimecert.DOMAIN of the CA\n"
	    "                        certificate in CERTFILE (default 2 1 1, DANE-TA)\n"
	    "  -a, --address ADDR    one user's record for their certificate in CERTFILE\n"
	    "                        (default 3 1 1, DANE-EE)\n"
	    "  -u, --usage N         2 (DANE-TA) or 3 (DANE-EE)\n"
	    "  -s, --selector N      0 the certificate, 1 its public key\n"
	    "  -m, --mtype N         0 full, 1 SHA2-256, 2 SHA2-512\n"
	    "exit: 0, 64 usage, 65 unusable certificate or address\n");
}

/* ------------------------------------------------------------ smime */

/* The whole of fp, at most max + 1 bytes (caller frees *out). 0, or -1 on a read error. */
static int
smime_read(FILE *fp, size_t max, char **out, size_t *len)
{
	struct buf b;
	char chunk[65536];
	size_t n;

	buf_init(&b);
	while (b.len <= max && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	if (ferror(fp)) {
		buf_free(&b);
		return -1;
	}
	*len = b.len;
	*out = buf_steal(&b);
	buf_free(&b);
	return 0;
}

static int
smime_exit(enum smime_result r)
{
	switch (r) {
	case SMIME_PASS:
		return 0;
	case SMIME_NONE:
	case SMIME_NEUTRAL:
		return 1;
	case SMIME_TEMPERROR:
		return EX_TEMPFAIL;
	default:
		return 2;
	}
}

/* Print the report: the header field, or JSON. 0, or -1. */
static int
smime_print(const struct smime_report *rep, const char *authserv_id, int json)
{
	char *s;

	if (json) {
		json_t *j = smime_report_json(rep);

		s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
		json_decref(j);
	} else {
		char *v = smime_ar_value(authserv_id, rep);

		s = xasprintf("Authentication-Results: %s", v);
		free(v);
	}
	if (s == NULL)
		return -1;
	puts(s);
	free(s);
	return fflush(stdout) == 0 ? 0 : -1;
}

/* Check the message of file (NULL: stdin) with rt. Exit status. */
static int
smime_run(struct policy_runtime *rt, const char *file, const char *authserv_id, int json)
{
	const struct conf *c = rt->conf;
	struct smime_limits lim;
	struct smime_report rep;
	struct smime_ocsp_cache *cache = smime_ocsp_cache_new(0);
	FILE *fp = file ? fopen(file, "rb") : stdin;
	char *msg = NULL, *host = NULL;
	size_t len = 0;
	int ex;

	if (fp == NULL || smime_read(fp, c->smime_max_message, &msg, &len) < 0) {
		msg_error("smime: %s: %m", file ? file : "standard input");
		ex = EX_NOINPUT;
		goto out;
	}
	smime_limits_from_conf(&lim, c);
	smime_check(policy_run_resolver_for(rt, "smime"), cache, msg, len, &lim, &rep);
	if (authserv_id == NULL)
		authserv_id = c->smime_authserv_id ? c->smime_authserv_id : (host = dnsname_host());
	ex = smime_print(&rep, authserv_id, json) < 0 ? EX_IOERR : smime_exit(rep.result);
	smime_report_clear(&rep);
out:
	if (fp != NULL && fp != stdin)
		fclose(fp);
	smime_ocsp_cache_free(cache);
	free(msg);
	free(host);
	return ex;
}

int
cli_smime(const struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "authserv-id", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = g->conf_path, *authserv_id = NULL;
	struct policy_runtime *rt;
	struct conf *c;
	int ch, json = 0, ex;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:ja:h", longopts, NULL)) != -1) {
		if (ch == 'c')
			conf_path = optarg;
		else if (ch == 'j')
			json = 1;
		else if (ch == 'a')
			authserv_id = optarg;
		else
			return cli_other_option("smime", ch, argv, cli_smime_usage);
	}
	if (argc - optind > 1) {
		msg_error("smime: one MESSAGE at most");
		cli_smime_usage(stderr);
		return EX_USAGE;
	}
	if ((c = policy_check_load(conf_path)) == NULL)
		return EX_CONFIG;
	if ((rt = policy_check_start(c, 0, NULL, &ex)) == NULL)
		return ex;
	ex = smime_run(rt, optind < argc ? argv[optind] : NULL, authserv_id, json);
	policy_run_free(rt);
	return ex;
}

/* ------------------------------------------------------------ smimea */

struct smimea_cli {
	const char *address, *domain, *file;
	unsigned usage, selector, mtype;
};

/* Options into *o. -1 to go on, else the exit status. */
static int
smimea_parse(int argc, char **argv, struct smimea_cli *o)
{
	static const struct option longopts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "domain", required_argument, NULL, 'd' },
		{ "usage", required_argument, NULL, 'u' },
		{ "selector", required_argument, NULL, 's' },
		{ "mtype", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, bad = 0;

	memset(o, 0, sizeof(*o));
	o->usage = o->selector = o->mtype = 99;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":a:d:u:s:m:h", longopts, NULL)) != -1) {
		if (ch == 'a')
			o->address = optarg;
		else if (ch == 'd')
			o->domain = optarg;
		else if (ch == 'u')
			bad |= cli_parse_uint(optarg, 1, 2, 3, &o->usage) < 0;
		else if (ch == 's')
			bad |= cli_parse_uint(optarg, 1, 0, 1, &o->selector) < 0;
		else if (ch == 'm')
			bad |= cli_parse_uint(optarg, 1, 0, 2, &o->mtype) < 0;
		else
			return cli_other_option("smimea", ch, argv, cli_smimea_usage);
	}
	if (bad || (o->address == NULL) == (o->domain == NULL) || argc - optind != 1) {
		msg_error("smimea: %s", bad ? "--usage wants 2 or 3, --selector 0 or 1, --mtype 0..2"
					    : "one of --address and --domain, and one CERTFILE");
		cli_smimea_usage(stderr);
		return EX_USAGE;
	}
	o->file = argv[optind];
	if (o->usage == 99)
		o->usage = o->domain ? 2 : 3;
	if (o->selector == 99)
		o->selector = 1;
	if (o->mtype == 99)
		o->mtype = 1;
	return -1;
}

int
cli_smimea(const struct cli_global *g, int argc, char **argv)
{
	struct smimea_cli o;
	struct certload cl;
	char *why = NULL, *owner = NULL, *data = NULL, *addr = NULL;
	int ex;

	(void)g;
	if ((ex = smimea_parse(argc, argv, &o)) >= 0)
		return ex;
	memset(&cl, 0, sizeof(cl));
	ex = EX_DATAERR;
	addr = o.address ? xstrdup(o.address) : xasprintf("x@%s", o.domain);
	if ((owner = smime_verify_owner(addr, o.domain != NULL, &why)) == NULL) {
		msg_error("smimea: %s: %s", o.address ? o.address : o.domain, why);
		goto out;
	}
	if (certload_file(o.file, &cl, &why) < 0 || cl.ncert == 0) {
		msg_error("smimea: %s: %s", o.file, why ? why : "no certificate");
		goto out;
	}
	if ((data = tlsa_gen_cert(cl.cert[0], o.selector, o.mtype)) == NULL) {
		msg_error("smimea: %s: cannot hash the certificate", o.file);
		goto out;
	}
	printf("%s IN SMIMEA %u %s\n", owner, o.usage, data);
	ex = fflush(stdout) == 0 ? 0 : EX_IOERR;
out:
	certload_clear(&cl);
	free(why);
	free(owner);
	free(data);
	free(addr);
	return ex;
}
