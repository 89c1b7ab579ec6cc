/*
 * cli_report.c - `danepol report`: RFC 8460 daily reports out of the
 * outcome store, written, delivered, retried.
 *
 *     danepol report [-c FILE] [--dry-run] [--date YYYY-MM-DD] [--domain D]...
 *                    [--ingest-postfix] [--retry-only] [--again]
 *
 * For one UTC day (default: yesterday by report_send_now()):
 *   1. --ingest-postfix: add the TLS outcomes of postfix_log for the day
 *      to the store (report_postfix_ingest());
 *   2. for each policy domain with outcomes that day (or each --domain):
 *      build the report (report_build()), gzip it into report_dir under
 *      its RFC 8460 file name, look up _smtp._tls.<domain> and deliver it
 *      to the rua URIs in turn until one accepts it; when none does, the
 *      file is queued;
 *   3. retry the queued reports that are due, dropping those first tried
 *      more than report_retry ago.
 * --dry-run stops after writing the files (no DNS, no delivery, no queue);
 * Each report is sent once, by one relay, whichever of the relays sharing
 * the store runs first (the claim "report" DOMAIN/DAY, report_domain());
 * --again sends it whatever was sent before.
 * --retry-only does only step 3. Failed deliveries are logged and queued,
 * never turned into outcomes: no report about reports.
 *
 * Output: one human line per report and per retried entry on stdout
 * (domains are checked names, URIs printable ASCII by the rua parser);
 * diagnostics through msg_*(). Exit status (danepol(1)): 0 all written
 * and delivered (or nothing to do), 1 something was not delivered
 * (queued, given up, no rua lookup, a report that could not be built or
 * written), 64 usage, 69 resolver could not start, 74 the outcome
 * database could not be opened or read, 78 configuration error.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "buf.h"
#include "cli.h"
#include "dnsname.h"
#include "hash.h"
#include "log.h"
#include "mem.h"
#include "report.h"
#include "policy_check.h"
#include "policy_run.h"
#include "report_queue.h"
#include "report_rua.h"
#include "report_send.h"

#define REPORT_EX_PARTIAL 1 /* some report not delivered (now) */
#define DAY_S		  86400
#define RUA_TIMEOUT_MS	  10000
#define REPORT_LEASE_S	  3600 /* one relay's claim on a report it is sending */

struct report_opts {
	const char *conf_path;
	int dry_run;
	int retry_only;
	int again; /* --again: no claim, send whatever was sent */
	int ingest;
	const char *date;
	char **domains; /* owned array; the strings too when domains_owned */
	size_t ndomains;
	int domains_owned; /* 1: from the store (copies), 0: --domain (argv) */
};

/* What one run works with. */
struct report_ctx {
	const struct report_opts *o;
	struct conf *c;
	struct store *store;
	struct store *qstore;	    /* the report queue's own SQLite file, or NULL */
	struct report_queue *queue; /* NULL with --dry-run */
	struct dns_resolver *res;   /* NULL with --dry-run */
	char *submitter;
	int64_t now, start, end;
	unsigned written, delivered, queued, given_up, failed, no_rua, elsewhere;
};

/** cli_report_usage - the usage text of `danepol report`. */
void
cli_report_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: danepol report [-c FILE] [--dry-run] [--date YYYY-MM-DD] [--domain D]...\n"
	    "                      [--ingest-postfix] [--retry-only] [--again]\n"
	    "  -c FILE           configuration file\n"
	    "  -n, --dry-run     write the report files only: no DNS, no delivery, no queue\n"
	    "  -d, --date DAY    the UTC day to report (default: yesterday)\n"
	    "  -D, --domain D    only this policy domain (repeatable)\n"
	    "  -i, --ingest-postfix\n"
	    "                    first read postfix_log's TLS outcomes of the day\n"
	    "  -r, --retry-only  only retry the queued deliveries that are due\n"
	    "  -a, --again       send the day's reports even when this or another relay\n"
	    "                    sharing the store sent them already\n"
	    "  -h, --help        this text\n"
	    "exit: 0 done, 1 something not delivered (queued or dropped), 64 usage,\n"
	    "      69 resolver unavailable, 74 outcome database unusable, 78 configuration error\n");
}

/* "YYYY-MM-DD" -> Unix seconds of its 00:00:00 UTC; 0 or -1. */
static int
parse_day(const char *s, int64_t *out)
{
	struct tm tm, back, want;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 10 || strspn(s, "0123456789-") != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1)
		return -1;
	want = tm; /* timegm() normalises tm: 02-30 becomes 03-02 */
	t = timegm(&tm);
	if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL || back.tm_mday != want.tm_mday ||
	    back.tm_mon != want.tm_mon)
		return -1; /* 2025-02-30 */
	*out = (int64_t)t;
	return 0;
}

/* Options into *o. -1 to go on, else the exit status. */
static int
report_parse(const struct cli_global *g, int argc, char **argv, struct report_opts *o)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "date", required_argument, NULL, 'd' },
		{ "domain", required_argument, NULL, 'D' },
		{ "ingest-postfix", no_argument, NULL, 'i' },
		{ "retry-only", no_argument, NULL, 'r' },
		{ "again", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	o->conf_path = g->conf_path;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:nd:D:irah", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conf_path = optarg;
			break;
		case 'n':
			o->dry_run = 1;
			break;
		case 'd':
			o->date = optarg;
			break;
		case 'i':
			o->ingest = 1;
			break;
		case 'r':
			o->retry_only = 1;
			break;
		case 'a':
			o->again = 1;
			break;
		case 'D':
			o->domains =
			    xreallocarray(o->domains, o->ndomains + 1, sizeof(*o->domains));
			o->domains[o->ndomains++] = optarg;
			break;
		default: /* -h, ':' or '?' */
			return cli_other_option("report", ch, argv, cli_report_usage);
		}
	}
	if (optind < argc) {
		msg_error("report: unexpected argument %.64s", argv[optind]);
		goto usage;
	}
	if (o->dry_run && o->retry_only) {
		msg_error("report: --dry-run and --retry-only exclude each other");
		goto usage;
	}
	return -1;
usage:
	cli_report_usage(stderr);
	return EX_USAGE;
}

/* The configuration checks of a run; 0 or -1 after logging. */
static int
report_conf_ok(const struct report_ctx *x, char **submitter)
{
	const struct conf *c = x->c;
	char *err = NULL;

	if (c->outcome_db == NULL) {
		msg_error("%s: outcome_db is none: no outcomes to report from", c->path);
		return -1;
	}
	if (x->o->ingest && c->postfix_log == NULL) {
		msg_error("%s: --ingest-postfix needs postfix_log", c->path);
		return -1;
	}
	if (!x->o->retry_only && (c->report_org_name == NULL || c->report_contact == NULL)) {
		msg_error("%s: report_org_name and report_contact must be set to make reports",
		    c->path);
		return -1;
	}
	if (!x->o->retry_only && (*submitter = report_send_submitter(c, &err)) == NULL) {
		msg_error("%s: %s", c->path, err);
		free(err);
		return -1;
	}
	return 0;
}

/* A resolver like the policy runtime's (dns_options from the configuration). */
static struct dns_resolver *
report_resolver(const struct conf *c)
{
	struct dns_resolver *r;
	char *err = NULL;

	if ((r = policy_run_resolver_new(c, &err)) == NULL)
		msg_error("resolver: %s", err ? err : "cannot start");
	free(err);
	return r;
}

/* The report-id of a report's JSON (caller frees), or NULL. */
static char *
json_report_id(const char *json)
{
	json_t *j = json_loads(json, 0, NULL);
	const char *s = j ? json_string_value(json_object_get(j, "report-id")) : NULL;
	char *id = s && *s ? xstrdup(s) : NULL;

	json_decref(j);
	return id;
}

/* An alphanumeric unique-id for the file name: hash_stable() of the report-id, hex. */
static void
uid_of(const char *report_id, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)hash_stable(report_id));
}

/*
 * Deliver it to the domain's rua URIs in turn: 1 delivered, 0 not
 * (*why: the reason, caller frees), -1 nothing to deliver to (no record).
 */
static int
deliver_item(struct report_ctx *x, const struct report_send_item *it, char **why)
{
	struct report_rua_set set;
	struct buf errs;
	char *err = NULL;
	int rc = 0;

	*why = NULL;
	if (report_rua_discover(x->res, it->policy_domain, RUA_TIMEOUT_MS, &set, &err) < 0) {
		*why = err;
		return 0;
	}
	if (set.n == 0) {
		printf("%s: no TLSRPT rua (%s, %s): report kept, not sent\n", it->policy_domain,
		    set.why ? set.why : "none", dns_sec_name(set.sec));
		report_rua_clear(&set);
		return -1;
	}
	buf_init(&errs);
	for (size_t i = 0; i < set.n && rc == 0; i++) {
		if (report_send_deliver(x->c, it, &set.v[i], x->now, &err) == 0) {
			printf("%s: delivered to %s (rua %s)\n", it->policy_domain, set.v[i].uri,
			    dns_sec_name(set.sec));
			rc = 1;
		} else {
			msg_warn("%s: %s", it->policy_domain, err);
			buf_printf(&errs, "%s%s", errs.len ? "; " : "", err);
		}
		free(err);
		err = NULL;
	}
	report_rua_clear(&set);
	if (rc == 0)
		*why = buf_steal(&errs);
	else
		buf_free(&errs);
	return rc;
}

/* After a failed first attempt: queue (or not, with report_retry = 0). */
static void
queue_item(struct report_ctx *x, const struct report_send_item *it, const char *path,
    const char *why)
{
	struct report_queue_entry e;
	char *err = NULL;

	memset(&e, 0, sizeof(e));
	if (x->c->report_retry_s == 0) {
		printf("%s: not delivered (%s); report_retry = 0: not retried\n", it->policy_domain,
		    why);
		x->given_up++;
		return;
	}
	e.path = (char *)path;
	e.policy_domain = (char *)it->policy_domain;
	e.report_id = (char *)it->report_id;
	e.submitter = (char *)it->submitter;
	e.last_error = (char *)why;
	if (report_queue_add(x->queue, &e, x->now, &err) < 0) {
		msg_error("%s", err);
		free(err);
		x->failed++;
		return;
	}
	printf("%s: not delivered (%s): queued, next try in %lld s\n", it->policy_domain, why,
	    (long long)report_queue_backoff(1));
	x->queued++;
}

/* Build, write and (unless dry-run) deliver the report of domain dom (canonical). */
static void
report_domain_send(struct report_ctx *x, const char *dom)
{
	char uid[17], *json = NULL, *rid = NULL, *name = NULL, *path = NULL;
	char *err = NULL, *why = NULL;
	struct report_send_item it;
	unsigned char *gz = NULL;
	size_t nout = 0, gzlen = 0;
	int rc;

	if ((json = report_build(x->store, x->c, dom, x->start, x->end, &nout, &err)) == NULL) {
		msg_error("report: %s: %s", dom, err ? err : "cannot build the report");
		x->failed++;
		goto out;
	}
	if (nout == 0) {
		printf("%s: no outcomes on this day: no report\n", dom);
		goto out;
	}
	if ((rid = json_report_id(json)) == NULL) {
		msg_error("report: %s: the report has no report-id", dom);
		x->failed++;
		goto out;
	}
	uid_of(rid, uid);
	if ((name = report_send_filename(x->submitter, dom, x->start, x->end, uid, &err)) == NULL ||
	    (gz = report_send_gzip(json, strlen(json), &gzlen, &err)) == NULL ||
	    report_send_write_file(x->c->report_dir, name, gz, gzlen, &err) < 0) {
		msg_error("report: %s: %s", dom, err);
		x->failed++;
		goto out;
	}
	path = xasprintf("%s/%s", x->c->report_dir, name);
	x->written++;
	printf("%s: %zu sessions: %s\n", dom, nout, path);
	if (x->o->dry_run)
		goto out;
	it = (struct report_send_item){ dom, x->submitter, rid, name, gz, gzlen };
	if ((rc = deliver_item(x, &it, &why)) == 1)
		x->delivered++;
	else if (rc < 0)
		x->no_rua++;
	else
		queue_item(x, &it, path, why);
out:
	free(json);
	free(rid);
	free(name);
	free(path);
	free(gz);
	free(err);
	free(why);
}

/* The claim key of dom's report of the run's day: "DOMAIN/YYYY-MM-DD". Caller frees. */
static char *
day_key(const struct report_ctx *x, const char *dom)
{
	time_t t = (time_t)x->start;
	struct tm tm;
	char day[16];

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	return xasprintf("%s/%s", dom, day);
}

/*
 * One domain's report, sent by exactly one relay of those sharing the
 * store, once: the claim ("report", DOMAIN/DAY) for REPORT_LEASE_S. A
 * report written and delivered, queued (this relay retries it), without
 * rua or without outcomes finishes the claim as done, so no later run
 * on any relay sends it again; a failure to build, write or queue
 * releases it for the next run. --dry-run claims nothing.
 */
static void
report_domain(struct report_ctx *x, const char *domain)
{
	char dom[DNSNAME_MAX], *key = NULL, *by = NULL, *err = NULL;
	unsigned failed = x->failed;
	const char *bad;
	int rc;

	if (dnsname_normalize(domain, 0, dom, &bad) < 0) {
		msg_error("report: domain %.255s: %s", domain, bad);
		x->failed++;
		return;
	}
	if (x->o->dry_run || x->o->again) {
		report_domain_send(x, dom);
		return;
	}
	key = day_key(x, dom);
	if ((rc = store_claim(x->store, "report", key, x->now, REPORT_LEASE_S, &by, &err)) <= 0) {
		if (rc < 0) {
			msg_error("report: %s: %s", dom, err);
			x->failed++;
		} else {
			printf("%s: the report of %s is handled by relay %s: not sent again\n", dom,
			    strchr(key, '/') + 1, by);
			x->elsewhere++;
		}
		goto out;
	}
	report_domain_send(x, dom);
	if (store_claim_finish(x->store, "report", key, x->failed == failed, &err) < 0) {
		msg_error("report: %s: %s", dom, err);
		x->failed++;
	}
out:
	free(key);
	free(by);
	free(err);
}

/* Collect the store's domains of the day. */
static int
add_domain(const char *d, void *arg)
{
	struct report_opts *o = arg;

	o->domains = xreallocarray(o->domains, o->ndomains + 1, sizeof(*o->domains));
	o->domains[o->ndomains++] = xstrdup(d);
	return 0;
}

/* Retry one due entry; drops it when its window is over. */
static void
retry_entry(struct report_ctx *x, const struct report_queue_entry *e)
{
	const char *base = strrchr(e->path, '/') ? strrchr(e->path, '/') + 1 : e->path;
	struct report_send_item it;
	unsigned char *gz = NULL;
	char *err = NULL, *why = NULL;
	size_t gzlen = 0;
	int rc;

	if (x->now - e->first_attempt >= (int64_t)x->c->report_retry_s) {
		printf("%s: %s: given up after %u attempts since %lld (last: %s)\n",
		    e->policy_domain, base, e->attempts, (long long)e->first_attempt,
		    e->last_error ? e->last_error : "?");
		x->given_up++;
		goto drop;
	}
	if ((gz = report_send_read_file(e->path, &gzlen, &err)) == NULL) {
		msg_warn("queued report gone: %s: dropped", err);
		x->given_up++;
		goto drop;
	}
	it = (struct report_send_item){ e->policy_domain, e->submitter, e->report_id, base, gz,
		gzlen };
	if ((rc = deliver_item(x, &it, &why)) == 1) {
		x->delivered++;
		goto drop;
	}
	if (rc < 0) {
		x->no_rua++;
		goto drop; /* the record is gone: nobody to send it to */
	}
	if (report_queue_failed(x->queue, e, x->now, why, &err) < 0) {
		msg_error("%s", err);
		x->failed++;
	} else {
		printf("%s: %s: retry %u failed (%s): next try in %lld s\n", e->policy_domain, base,
		    e->attempts + 1, why, (long long)report_queue_backoff(e->attempts + 1));
		x->queued++;
	}
	goto out;
drop:
	if (report_queue_remove(x->queue, e->id, &err) < 0) {
		msg_error("%s", err);
		x->failed++;
	}
out:
	free(gz);
	free(err);
	free(why);
}

/* Step 3: every due queue entry. 0, or -1 when the queue is unreadable. */
static int
retry_due(struct report_ctx *x)
{
	struct report_queue_entry *v = NULL;
	char *err = NULL;
	size_t n = 0;

	if (report_queue_due(x->queue, x->now, &v, &n, &err) < 0) {
		msg_error("%s", err);
		free(err);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		retry_entry(x, &v[i]);
		report_queue_entry_clear(&v[i]);
	}
	free(v);
	return 0;
}

/*
 * The report queue: a table of the outcome_db when that is SQLite, else
 * (PostgreSQL) of this relay's own SQLite file (local_db,
 * store_local_path()): queued reports are files of this relay's
 * report_dir, retried by this relay. NULL with *err.
 */
static struct report_queue *
report_queue_for(struct report_ctx *x, char **err)
{
	if (!store_spec_is_pg(x->c->outcome_db))
		return report_queue_open(x->store, err);
	x->qstore = store_open(store_local_path(x->c->outcome_db, x->c->local_db), err);
	return x->qstore ? report_queue_open(x->qstore, err) : NULL;
}

/* Open the store, queue and resolver a run needs. The exit status on failure, else -1. */
static int
report_open(struct report_ctx *x)
{
	char *err = NULL;

	if ((x->store = store_open(x->c->outcome_db, &err)) == NULL ||
	    (!x->o->dry_run && (x->queue = report_queue_for(x, &err)) == NULL)) {
		msg_error("%s", err ? err : "cannot open the outcome database");
		free(err);
		return EX_IOERR;
	}
	store_set_relay(x->store, x->c->relay_name);
	if (!x->o->dry_run && (x->res = report_resolver(x->c)) == NULL)
		return EX_UNAVAILABLE;
	return -1;
}

/* Steps 1 and 2. The exit status on a fatal error, else -1. */
static int
report_make(struct report_ctx *x, struct report_opts *o)
{
	char *err = NULL;
	size_t skipped = 0;

	if (o->ingest) {
		/* the deliveries of our own reports are no outcomes (RFC 8460 5) */
		long n = report_postfix_ingest_skip(x->store, x->c->postfix_log, x->start, x->end,
		    x->c->report_from, &skipped, &err);

		if (n < 0) {
			msg_error("%s: %s", x->c->postfix_log, err ? err : "cannot be read");
			free(err);
			return EX_IOERR;
		}
		printf("ingested %ld outcomes from %s (%zu lines skipped)\n", n, x->c->postfix_log,
		    skipped);
	}
	if (o->ndomains == 0) {
		if (store_each_domain(x->store, x->start, x->end, add_domain, o, &err) < 0) {
			msg_error("%s", err ? err : "cannot list the domains");
			free(err);
			return EX_IOERR;
		}
		o->domains_owned = 1;
	}
	for (size_t i = 0; i < o->ndomains; i++)
		report_domain(x, o->domains[i]);
	return -1;
}

/** cli_report - see cli.h. */
int
cli_report(const struct cli_global *g, int argc, char **argv)
{
	struct report_opts o;
	struct report_ctx x;
	int ex, curl = 0;

	memset(&o, 0, sizeof(o));
	memset(&x, 0, sizeof(x));
	x.o = &o;
	if ((ex = report_parse(g, argc, argv, &o)) >= 0)
		goto out;
	x.now = report_send_now();
	x.start = x.now - x.now % DAY_S - DAY_S;
	if (o.date != NULL && parse_day(o.date, &x.start) < 0) {
		msg_error("report: --date wants a day YYYY-MM-DD: %.32s", o.date);
		cli_report_usage(stderr);
		ex = EX_USAGE;
		goto out;
	}
	x.end = x.start + DAY_S;
	if ((x.c = policy_check_load(o.conf_path)) == NULL ||
	    report_conf_ok(&x, &x.submitter) < 0) {
		ex = EX_CONFIG;
		goto out;
	}
	if ((ex = report_open(&x)) >= 0)
		goto out;
	if (!o.dry_run && (curl = report_send_global_init() == 0) == 0) {
		msg_error("report: libcurl cannot be initialised");
		ex = EX_UNAVAILABLE;
		goto out;
	}
	if (!o.retry_only && (ex = report_make(&x, &o)) >= 0)
		goto out;
	if (!o.dry_run && retry_due(&x) < 0) {
		ex = EX_IOERR;
		goto out;
	}
	printf("%u written, %u delivered, %u queued, %u given up, %u without rua, %u failed, "
	       "%u sent by other relays or runs\n",
	    x.written, x.delivered, x.queued, x.given_up, x.no_rua, x.failed, x.elsewhere);
	ex = x.queued || x.given_up || x.failed ? REPORT_EX_PARTIAL : 0;
out:
	if (curl)
		report_send_global_cleanup();
	if (o.domains_owned)
		for (size_t i = 0; i < o.ndomains; i++)
			free(o.domains[i]);
	free(o.domains);
	free(x.submitter);
	dns_resolver_free(x.res);
	report_queue_close(x.queue);
	store_close(x.qstore);
	store_close(x.store);
	conf_free(x.c);
	return ex;
}
