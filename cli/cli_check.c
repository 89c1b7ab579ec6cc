/*
 * cli_check.c - `danepol check`: decide domains and explain the decisions.
 *
 *     danepol check [-c FILE] [--json] [--long] [--no-cache] [--timeout MS] DOMAIN...
 *
 * One runtime (config snapshot, resolver, cache) serves every DOMAIN in
 * turn; each is decided with policy_run_decide() (policy_run_decide_uncached()
 * with --no-cache), which never fails: an argument that is no destination
 * comes back as a defer with reason invalid-domain. The exit status is the
 * most severe verdict over all domains: 0 require, 1 try, 2 defer,
 * 3 reject (cli.h: CLI_EX_*); 64 bad command line, 78 configuration
 * error, 69 resolver unavailable, 74 output not written, 70 internal.
 *
 * Human output, per domain: a head line "DEST: VERDICT (LEVEL) - WHY" (DEST
 * as a next hop, cli_put_dest(): the same as probe's head line)
 * (the SMTP reply instead of WHY for defer/reject), a line with the reason
 * code, the policy applied, the MX stage and the cost, then one line per
 * MX host: preference, name, state, addresses, TLSA (hex abbreviated
 * head...tail unless --long, one extra line per record when there are
 * several).
 * Every line is made of outside text (the arguments, DNS names, resolver
 * reasons), so bytes that are not printable ASCII are written as \xNN:
 * nothing from DNS or argv can move the cursor or forge a line.
 *
 * --json: one JSON object per domain and line (JSON Lines), the shape of
 * doc/decision.schema.json (policy_json.c).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "dns.h"
#include "log.h"
#include "policy.h"
#include "policy_check.h"
#include "sts_policy.h"
#include "policy_json.h"
#include "policy_run.h"
#include "policy_status.h"
#include "tlsa.h"

/* Bounds of --timeout: those of decision_timeout in danepol.conf. */
#define CHECK_TIMEOUT_MIN  100
#define CHECK_TIMEOUT_MAX  60000
/* Hex longer than this is shown as head...tail. */
#define CHECK_HEX_MAX	   24
#define CHECK_HEX_HEAD	   12
#define CHECK_HEX_TAIL	   8
/* getopt value of --no-cache, which has no short option (danepol(1)). */
#define CHECK_OPT_NO_CACHE 256
/* Widest host name column before names just overflow it. */
#define CHECK_NAME_COL	   40

struct check_opts {
	const char *conf_path; /* -c, or the global -c, or NULL */
	int json;
	int long_hex; /* --long: TLSA hex in full */
	int no_cache;
	unsigned timeout_ms; /* 0: decision_timeout from the config */
	char **domains;
	int ndomains;
};

/** cli_check_usage - the usage text of `danepol check`. */
void
cli_check_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: danepol check [-c FILE] [--json] [--long] [--no-cache] [--timeout MS] DOMAIN...\n"
	    "  -c FILE        configuration file\n"
	    "  -j, --json     one JSON object per domain and line (doc/decision.schema.json)\n"
	    "  -l, --long     TLSA records in full (default: long hex as head...tail)\n"
	    "      --no-cache decide every DOMAIN afresh\n"
	    "  -t, --timeout MS\n"
	    "                 bound on each decision, %u..%u ms (default: decision_timeout)\n"
	    "  -h, --help     this text\n"
	    "exit: most severe verdict (0 require, 1 try, 2 defer, 3 reject);\n"
	    "      64 usage, 69 resolver unavailable, 78 configuration error\n",
	    CHECK_TIMEOUT_MIN, CHECK_TIMEOUT_MAX);
}

/* Options into *o. Returns -1 to go on, else the exit status (usage, help). */
static int
check_parse(const struct cli_global *g, int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "no-cache", no_argument, NULL, CHECK_OPT_NO_CACHE },
		{ "long", no_argument, NULL, 'l' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->conf_path = g->conf_path;
	optind = 0; /* glibc: full re-initialisation after main's getopt */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:jlt:h", longopts, NULL)) != -1) {
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
		case CHECK_OPT_NO_CACHE:
			o->no_cache = 1;
			break;
		case 't':
			if (cli_parse_uint(optarg, 6, CHECK_TIMEOUT_MIN, CHECK_TIMEOUT_MAX,
				&o->timeout_ms) < 0) {
				msg_error("check: --timeout wants milliseconds, %u..%u: %.32s",
				    CHECK_TIMEOUT_MIN, CHECK_TIMEOUT_MAX, optarg);
				cli_check_usage(stderr);
				return EX_USAGE;
			}
			break;
		default: /* -h, ':' or '?' */
			if (ch == '?' && optopt == 'n') {
				/* one meaning per short option: -n is report's --dry-run */
				msg_error("check: unknown option -n: --no-cache has no short form");
				cli_check_usage(stderr);
				return EX_USAGE;
			}
			return cli_other_option("check", ch, argv, cli_check_usage);
		}
	}
	return cli_domains("check", argc, argv, cli_check_usage, &o->domains, &o->ndomains);
}

static int
verdict_exit(enum policy_verdict v)
{
	switch (v) {
	case POLICY_REQUIRE:
		return CLI_EX_REQUIRE;
	case POLICY_TRY:
		return CLI_EX_TRY;
	case POLICY_REJECT:
		return CLI_EX_REJECT;
	case POLICY_DEFER:
	default:
		return CLI_EX_DEFER;
	}
}

/* ------------------------------------------------------------ human output */

/* "U S M HEX" with long hex abbreviated head...tail unless full. */
static void
put_rr(struct buf *b, const struct tlsa_rr *rr, int full)
{
	char *s = tlsa_to_string(rr);
	const char *hex = s;
	size_t n;

	if (s == NULL) {
		buf_printf(b, "%u %u %u ?", rr->usage, rr->selector, rr->mtype);
		goto usable;
	}
	for (int spaces = 0; *hex && spaces < 3; hex++)
		spaces += *hex == ' ';
	n = strlen(hex);
	if (n > CHECK_HEX_MAX && !full) {
		buf_append(b, s, (size_t)(hex - s) + CHECK_HEX_HEAD);
		buf_printf(b, "...%s", hex + n - CHECK_HEX_TAIL);
	} else {
		buf_puts(b, s);
		while (b->len > 0 && b->s[b->len - 1] == ' ') /* no data */
			b->s[--b->len] = 0;
	}
	free(s);
usable:
	if (rr->usable)
		buf_puts(b, " usable");
	else
		buf_printf(b, " unusable (%s)", rr->unusable_why ? rr->unusable_why : "?");
}

/* The reply as sent: policy_status_reply_text() doubles '%' for the milter. */
static void
put_reply(struct buf *b, const struct policy_status *st, const struct policy_decision *d)
{
	char *text = policy_status_reply_text(st, d->domain, d->why);

	buf_printf(b, "%s %s ", st->reply, st->enhanced ? st->enhanced : "");
	for (const char *p = text; *p; p++) {
		buf_putc(b, *p);
		if (p[0] == '%' && p[1] == '%')
			p++;
	}
	free(text);
}

static void
put_mx(struct buf *b, const struct policy_decision *d)
{
	if (!d->mx_queried) {
		buf_puts(b, d->no_mx ? "MX: not used ([host] next hop)" : "MX: not queried");
		return;
	}
	if (d->implicit_mx)
		buf_printf(b, "MX: none, implicit MX (%s)", dns_sec_name(d->mx_sec));
	else if (d->reason == POLICY_R_NULL_MX)
		buf_printf(b, "MX: %s, null MX", dns_sec_name(d->mx_sec));
	else if (d->mx_status == DNS_DATA)
		buf_printf(b, "MX: %s, %zu host%s", dns_sec_name(d->mx_sec), d->nhosts,
		    d->nhosts == 1 ? "" : "s");
	else
		buf_printf(b, "MX: %s (%s)", dns_status_name(d->mx_status),
		    dns_sec_name(d->mx_sec));
	if (d->mx_domain)
		buf_printf(b, " at %s", d->mx_domain);
}

/* Head line and summary line of one decision. */
static void
print_summary(FILE *fp, struct buf *b, const struct policy_outcome *o,
    const struct policy_status *st, unsigned smtp_port)
{
	const struct policy_decision *d = o->d;

	cli_put_dest(b, d->domain, d->no_mx, d->port, smtp_port);
	buf_printf(b, ": %s (%s) - ", policy_verdict_name(d->verdict), tls_level_name(d->level));
	if ((d->verdict == POLICY_DEFER || d->verdict == POLICY_REJECT) && st && st->reply)
		put_reply(b, st, d);
	else
		buf_puts(b, d->why ? d->why : "");
	cli_emit(fp, b);
	buf_printf(b, "  reason: %s   policy: %s (%s%s%s)   ", policy_reason_name(d->reason),
	    tls_level_name(d->policy_level), policy_source_name(d->source), d->table_key ? " " : "",
	    d->table_key ? d->table_key : "");
	put_mx(b, d);
	buf_printf(b, "   ttl %us, %u quer%s, %u ms%s", d->ttl, d->queries,
	    d->queries == 1 ? "y" : "ies", o->elapsed_ms, o->cache_hit ? " (cached)" : "");
	cli_emit(fp, b);
}

static void
put_addrs(struct buf *b, const struct policy_host *h)
{
	if (!h->addr_queried) {
		buf_puts(b, "addrs not queried");
		return;
	}
	if (h->addr_status == DNS_DATA)
		buf_printf(b, "addrs %s", dns_sec_name(h->addr_sec));
	else
		buf_printf(b, "addrs %s (%s)", dns_status_name(h->addr_status),
		    dns_sec_name(h->addr_sec));
	for (size_t i = 0; i < h->naddrs; i++)
		buf_printf(b, "%s%s", i ? " " : " [", h->addrs[i]);
	if (h->naddrs)
		buf_putc(b, ']');
}

static void
put_tlsa(struct buf *b, const struct policy_host *h, int full)
{
	const char *sec = dns_sec_name(h->tlsa_sec);

	switch (h->tlsa_state) {
	case POLICY_TLSA_NOT_QUERIED:
		buf_puts(b, "TLSA not queried");
		break;
	case POLICY_TLSA_NONE:
		buf_printf(b, "TLSA none (%s)", sec);
		break;
	case POLICY_TLSA_FAILED:
		buf_printf(b, "TLSA failed (%s)", sec);
		break;
	case POLICY_TLSA_FOUND:
		buf_printf(b, "TLSA %s @ %s: ", sec, h->tlsa_base ? h->tlsa_base : "?");
		if (h->ntlsa == 1)
			put_rr(b, &h->tlsa[0], full);
		else
			buf_printf(b, "%zu records, %zu usable", h->ntlsa, h->nusable);
		break;
	}
}

/* The name column: "name" or "name -> canonname". */
static void
put_name(struct buf *b, const struct policy_host *h)
{
	buf_puts(b, h->name ? h->name : "?");
	if (h->canonname && (h->name == NULL || strcmp(h->canonname, h->name) != 0))
		buf_printf(b, " -> %s", h->canonname);
}

/* Column widths of the host lines of one decision. */
struct host_cols {
	int name;
	int state;
};

static void
print_host(FILE *fp, struct buf *b, const struct policy_host *h, const struct host_cols *w,
    int full)
{
	struct buf name;

	buf_init(&name);
	put_name(&name, h);
	if (h->preference < 0)
		buf_puts(b, "     -");
	else
		buf_printf(b, "  %4d", h->preference);
	buf_printf(b, " %-*s  %-*s  ", w->name, name.s, w->state, policy_host_state_name(h->state));
	put_addrs(b, h);
	buf_puts(b, "  ");
	put_tlsa(b, h, full);
	if (h->state != POLICY_HOST_DANE)
		buf_printf(b, "  [%s: %s]", policy_reason_name(h->reason), h->why ? h->why : "");
	cli_emit(fp, b);
	if (h->tlsa_state == POLICY_TLSA_FOUND && h->ntlsa > 1) {
		for (size_t i = 0; i < h->ntlsa; i++) {
			buf_puts(b, "         ");
			put_rr(b, &h->tlsa[i], full);
			cli_emit(fp, b);
		}
	}
	buf_free(&name);
}

/* One decision for an operator. */
/* "  MTA-STS: policy ID mode, mx ..., until DATE" and what happened */
static void
print_sts(FILE *fp, struct buf *b, const struct policy_sts *s)
{
	buf_puts(b, "  MTA-STS: ");
	if (s->have) {
		char when[32];
		time_t t = (time_t)s->expires;
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime_r(&t, &tm));
		buf_printf(b, "policy %s, mode %s, until %s, mx:", s->id ? s->id : "?",
		    sts_policy_mode_name((enum sts_mode)s->mode), when);
		for (size_t i = 0; i < s->nmx; i++)
			buf_printf(b, " %s", s->mx[i]);
		if (s->note)
			buf_puts(b, "; ");
	}
	if (s->note)
		buf_puts(b, s->note);
	if (s->fetch_error)
		buf_printf(b, " [%s]", s->fetch_error);
	cli_emit(fp, b);
}

static void
print_human(FILE *fp, const struct policy_outcome *o, const struct policy_status_table *t,
    unsigned smtp_port, int full)
{
	const struct policy_decision *d = o->d;
	struct host_cols w = { 0, 0 };
	struct buf b, name;

	buf_init(&b);
	buf_init(&name);
	print_summary(fp, &b, o, policy_status_get(t, d->reason), smtp_port);
	for (size_t i = 0; i < d->nhosts; i++) {
		int n = (int)strlen(policy_host_state_name(d->hosts[i].state));

		buf_reset(&name);
		put_name(&name, &d->hosts[i]);
		if ((int)name.len > w.name)
			w.name = name.len > CHECK_NAME_COL ? CHECK_NAME_COL : (int)name.len;
		if (n > w.state)
			w.state = n;
	}
	for (size_t i = 0; i < d->nhosts; i++)
		print_host(fp, &b, &d->hosts[i], &w, full);
	if (d->sts != NULL)
		print_sts(fp, &b, d->sts);
	buf_free(&name);
	buf_free(&b);
}

/* One decision as one JSON line. Returns 0, or -1 (logged by policy_json). */
static int
print_json(FILE *fp, const struct policy_outcome *o, const struct policy_status_table *t)
{
	json_t *j = policy_json_decision(o->d, t, o);
	char *s = NULL;
	int rc = -1;

	if (j == NULL)
		goto out;
	if ((s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII)) == NULL) {
		msg_error("cannot serialise the decision for %.255s", o->d->domain);
		goto out;
	}
	fputs(s, fp);
	putc('\n', fp);
	rc = 0;
out:
	free(s);
	json_decref(j);
	return rc;
}

/* ------------------------------------------------------------ command */

/* Config and runtime for the options; NULL with the exit status in *ex. */
static struct policy_runtime *
check_runtime(const struct check_opts *o, int *ex)
{
	struct conf *c;

	*ex = EX_CONFIG;
	if ((c = policy_check_load(o->conf_path)) == NULL)
		return NULL;
	/* Still ours until policy_check_start(): the snapshot is not shared yet. */
	if (o->timeout_ms)
		c->decision_timeout_ms = o->timeout_ms;
	return policy_check_start(c, POLICY_CHECK_ANCHOR, NULL, ex);
}

/**
 * cli_check - run `danepol check` (argv[0] is "check"). Returns the exit
 * status: the most severe verdict (0-3), or 64/69/70/78 (cli.h).
 */
int
cli_check(const struct cli_global *g, int argc, char **argv)
{
	struct policy_runtime *rt = NULL;
	struct policy_outcome out;
	struct check_opts o;
	int ex, worst = CLI_EX_REQUIRE;

	if ((ex = check_parse(g, argc, argv, &o)) >= 0)
		return ex;
	if ((rt = check_runtime(&o, &ex)) == NULL)
		return ex;
	ex = -1; /* from here: the worst verdict, unless output failed */
	for (int i = 0; i < o.ndomains; i++) {
		if (o.no_cache)
			policy_run_decide_uncached(rt, o.domains[i], &out);
		else
			policy_run_decide(rt, o.domains[i], &out);
		if (verdict_exit(out.d->verdict) > worst)
			worst = verdict_exit(out.d->verdict);
		if (!o.json)
			print_human(stdout, &out, rt->status, rt->conf->smtp_port, o.long_hex);
		else if (print_json(stdout, &out, rt->status) < 0)
			ex = EX_SOFTWARE;
		policy_decision_unref(out.d);
	}
	policy_run_free(rt);
	return ex >= 0 ? ex : worst;
}
