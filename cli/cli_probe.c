/*
 * cli_probe.c - `danepol probe`: decide destinations and probe their MX
 * hosts with STARTTLS and DANE (probe/probe.h).
 *
 *     danepol probe [-c FILE] [--json] [--long] [--port N] DOMAIN...
 *
 * One runtime serves every DOMAIN in turn: the decision (policy_run_decide())
 * gives the hosts, addresses and TLSA records; probe_run() probes them
 * with the configuration's probe_step_timeout and probe_helo. --port
 * replaces the SMTP port connected to (the TLSA names stay those of the
 * decision: a test aid, danepol(1)).
 *
 * Human output: a head line per domain "DEST: VERDICT (LEVEL) - reason
 * REASON, N DANE hosts, M failed authentication" (check's destination and
 * parentheses), then one line per address: host[addr]:port, the result
 * (success or the RFC 8460 result type, "transient"), the TLS version,
 * the matched record (in full with --long) and depth, OCSP status,
 * detail; for a DANE host that matched no record, the records published
 * and the presented chain's digests in full (print_no_match()).
 * Everything from DNS or the peer is printed as printable ASCII (probe/probe
 * sanitises the peer's text; host names are checked DNS names).
 * --json: one JSON object per domain and line (doc/probe.schema.json).
 *
 * Exit status: the most severe over all domains, cli_probe.h:
 * 0 every reportable session succeeded, 1 some RFC 8460 failure, 2 a
 * destination whose every DANE host failed authentication (what
 * probe_defer defers), 3 nothing could be probed (only transient
 * failures, or no usable host); 64 usage, 69 resolver unavailable,
 * 70 internal, 78 configuration error.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "cli_probe.h"
#include "log.h"
#include "policy.h"
#include "policy_check.h"
#include "policy_run.h"
#include "probe.h"

struct probe_cli {
	const char *conf_path;
	int json;
	int long_hex;  /* --long: hex in full */
	unsigned port; /* 0: the decision's */
	char **domains;
	int ndomains;
};

void
cli_probe_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: danepol probe [-c FILE] [--json] [--long] [--port N] DOMAIN...\n"
	    "  -c FILE        configuration file\n"
	    "  -j, --json     one JSON object per domain and line (doc/probe.schema.json)\n"
	    "  -l, --long     hex in full (a no-match always shows records and chain in full)\n"
	    "  -p, --port N   connect to port N instead of the destination's (1..65535)\n"
	    "  -h, --help     this text\n"
	    "exit: 0 all sessions succeeded, 1 some failure, 2 every DANE host of a\n"
	    "      destination failed authentication, 3 nothing could be probed;\n"
	    "      64 usage, 69 resolver unavailable, 78 configuration error\n");
}

/* Options into *o. -1 to go on, else the exit status. */
static int
probe_parse(const struct cli_global *g, int argc, char **argv, struct probe_cli *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "port", required_argument, NULL, 'p' },
		{ "long", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->conf_path = g->conf_path;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:jlp:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conf_path = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'l':
			o->long_hex = 1;
			break;
		case 'p':
			if (cli_parse_uint(optarg, 5, 1, 65535, &o->port) < 0) {
				msg_error("probe: --port wants 1..65535: %.32s", optarg);
				cli_probe_usage(stderr);
				return EX_USAGE;
			}
			break;
		default: /* -h, ':' or '?' */
			return cli_other_option("probe", ch, argv, cli_probe_usage);
		}
	}
	return cli_domains("probe", argc, argv, cli_probe_usage, &o->domains, &o->ndomains);
}

/* Exit status of one destination's probe. */
static int
probe_exit(const struct probe_result *r)
{
	int failures = 0, sessions = 0;

	if (probe_all_dane_failed(r))
		return CLI_PROBE_ALL_FAILED;
	for (size_t i = 0; i < r->naddrs; i++) {
		failures += !r->addrs[i].success && !r->addrs[i].transient;
		sessions += r->addrs[i].success || !r->addrs[i].transient;
	}
	if (failures)
		return CLI_PROBE_FAILURE;
	return sessions ? CLI_PROBE_OK : CLI_PROBE_NOTHING;
}

/*
 * A DANE host whose certificate matched no record: the records published
 * and the digests of the chain presented, in full, so the operator can
 * see which record is stale (selector 0: the certificate, 1: its public
 * key; matching type 1: SHA2-256).
 */
static void
print_no_match(FILE *fp, struct buf *b, const struct probe_addr *a)
{
	buf_printf(b, "      TLSA published at _%u._tcp.%s:", a->port,
	    a->tlsa_base ? a->tlsa_base : "?");
	cli_emit(fp, b);
	for (size_t i = 0; i < a->ntlsa; i++) {
		buf_printf(b, "        %s", a->tlsa[i]);
		cli_emit(fp, b);
	}
	buf_puts(b,
	    "      chain presented (SHA2-256: \"0 1\" of the certificate, \"1 1\" of its "
	    "public key):");
	cli_emit(fp, b);
	for (size_t i = 0; i < a->nchain; i++) {
		const struct probe_cert *pc = &a->chain[i];

		buf_printf(b, "        depth %zu %s", i,
		    pc->subject ? pc->subject : "(no subject)");
		cli_emit(fp, b);
		buf_printf(b, "          0 1 %s", pc->cert_sha256 ? pc->cert_sha256 : "?");
		cli_emit(fp, b);
		buf_printf(b, "          1 1 %s", pc->spki_sha256 ? pc->spki_sha256 : "?");
		cli_emit(fp, b);
	}
}

static void
print_addr(FILE *fp, struct buf *b, const struct probe_addr *a, int full_hex)
{
	buf_printf(b, "  %s", a->host ? a->host : "(destination)");
	if (a->addr)
		buf_printf(b, "[%s]:%u", a->addr, a->port);
	buf_printf(b, "  %s  %s", policy_host_state_name(a->state),
	    a->success		 ? "success"
		: a->result_type ? a->result_type
				 : "transient");
	if (a->tls_version)
		buf_printf(b, "  %s", a->tls_version);
	if (a->matched && full_hex)
		buf_printf(b, "  matched %s at depth %d", a->matched, a->match_depth);
	else if (a->matched)
		buf_printf(b, "  matched %.20s%s at depth %d", a->matched,
		    strlen(a->matched) > 20 ? "..." : "", a->match_depth);
	if (a->stage == PROBE_ST_TLS)
		buf_printf(b, "  ocsp %s", probe_ocsp_name(a->ocsp));
	cli_emit(fp, b);
	if (a->detail) {
		buf_printf(b, "      %s", a->detail);
		cli_emit(fp, b);
	}
	if (a->ocsp_detail) {
		buf_printf(b, "      ocsp: %s", a->ocsp_detail);
		cli_emit(fp, b);
	}
	if (a->state == POLICY_HOST_DANE && a->stage == PROBE_ST_TLS && a->match_depth < 0 &&
	    a->nchain > 0)
		print_no_match(fp, b, a);
}

static void
print_human(FILE *fp, const struct probe_result *r, unsigned smtp_port, int full_hex)
{
	struct buf b;

	buf_init(&b);
	cli_put_dest(&b, r->domain, r->no_mx, r->port, smtp_port);
	buf_printf(&b, ": %s (%s) - reason %s, %u DANE host%s, %u failed authentication%s",
	    policy_verdict_name(r->verdict), tls_level_name(r->level),
	    policy_reason_name(r->reason), r->ndane, r->ndane == 1 ? "" : "s", r->ndane_failed,
	    probe_all_dane_failed(r) ? " (all)" : "");
	cli_emit(fp, &b);
	if (r->naddrs == 0) {
		buf_puts(&b, "  no host to probe");
		cli_emit(fp, &b);
	}
	for (size_t i = 0; i < r->naddrs; i++)
		print_addr(fp, &b, &r->addrs[i], full_hex);
	buf_free(&b);
}

static int
print_json(FILE *fp, const struct probe_result *r)
{
	json_t *j = probe_result_json(r);
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	json_decref(j);
	if (s == NULL) {
		msg_error("cannot serialise the probe of %.255s", r->domain);
		return -1;
	}
	fputs(s, fp);
	putc('\n', fp);
	free(s);
	return 0;
}

static struct policy_runtime *
probe_runtime(const struct probe_cli *o, int *ex)
{
	struct conf *c;

	*ex = EX_CONFIG;
	if ((c = policy_check_load(o->conf_path)) == NULL)
		return NULL;
	return policy_check_start(c, 0, NULL, ex);
}

int
cli_probe(const struct cli_global *g, int argc, char **argv)
{
	struct policy_runtime *rt;
	struct probe_cli o;
	struct probe_opts po;
	int ex, worst = CLI_PROBE_OK, failed = 0;

	if ((ex = probe_parse(g, argc, argv, &o)) >= 0)
		return ex;
	if ((rt = probe_runtime(&o, &ex)) == NULL)
		return ex;
	memset(&po, 0, sizeof(po));
	po.step_timeout_ms = rt->conf->probe_step_timeout_ms;
	po.helo = rt->conf->probe_helo;
	po.port = o.port;
	po.ca_file = rt->conf->sts_ca_file;
	for (int i = 0; i < o.ndomains; i++) {
		struct policy_outcome out;
		struct probe_result *r;

		policy_run_decide(rt, o.domains[i], &out);
		r = probe_run(out.d, &po);
		policy_decision_unref(out.d);
		if (probe_exit(r) > worst)
			worst = probe_exit(r);
		if (!o.json)
			print_human(stdout, r, rt->conf->smtp_port, o.long_hex);
		else if (print_json(stdout, r) < 0)
			failed = 1;
		probe_result_free(r);
	}
	policy_run_free(rt);
	return failed ? EX_SOFTWARE : worst;
}
