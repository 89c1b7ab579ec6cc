/*
 * policy_run.c - the runtime of one config snapshot and the driver that
 * runs the pure engine against the resolver (contract in policy_run.h).
 *
 * policy_run_decide(): normalise the destination, look up the local policy
 * table, then either take the decision from the cache or become the one
 * thread resolving it (single-flight), run the engine with every lookup it
 * asks for in flight at once, and publish the result with a TTL derived
 * from the answers (bounded; short for defers). The whole decision is
 * bounded by decision_timeout_ms: lookups still out at the deadline come
 * back as timeouts and the engine decides with what it has.
 *
 * This is the only file of policy/ that reaches a resolver, and only
 * through dns/dns.h; the engine itself stays pure.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dns_setup.h"
#include "dnsname.h"
#include "hash.h"
#include "log.h"
#include "mem.h"
#include "policy_check.h"
#include "policy_run.h"
#include "policy_sts.h"
#include "stats.h"
#include "sts_cache.h"

/* The resolver options of c into *o. */
static void
resolver_options(const struct conf *c, struct dns_options *o)
{
	memset(o, 0, sizeof(*o));
	o->trust_anchor = c->trust_anchor;
	o->trust_anchor_file = c->trust_anchor ? NULL : c->trust_anchor_file;
	o->forward = c->resolver_forward;
	o->unbound_config = c->resolver_config;
	o->max_rtt_ms = c->resolver_max_rtt_ms;
	o->retries = c->resolver_retries;
	o->fd_share = c->resolver_threads;
}

/** policy_run_resolver_new - see policy_run.h. */
struct dns_resolver *
policy_run_resolver_new(const struct conf *c, char **err)
{
	struct dns_options o;

	resolver_options(c, &o);
	return dns_resolver_new(&o, err);
}

/** policy_run_anchor_check - see policy_run.h. */
enum dns_anchor_state
policy_run_anchor_check(const struct policy_runtime *rt, char **msg)
{
	struct dns_options o;

	resolver_options(rt->conf, &o);
	return dns_setup_anchor_check(rt->resolvers[0], &o, POLICY_ANCHOR_CHECK_MS, msg);
}

/* The MTA-STS fetch options of c. */
static void
run_sts_opts(const struct conf *c, struct sts_fetch_opts *fo)
{
	memset(fo, 0, sizeof(*fo));
	fo->ca_file = c->sts_ca_file;
	fo->timeout_ms = c->sts_fetch_timeout_ms;
	fo->port = c->sts_https_port;
}

void
policy_run_share_sts(struct policy_runtime *rt, struct sts_cache *c)
{
	struct sts_fetch_opts fo;

	if (!rt->conf->sts || c == NULL)
		return;
	if (!rt->sts_shared)
		sts_cache_free(rt->sts);
	run_sts_opts(rt->conf, &fo);
	sts_cache_set_opts(c, &fo);
	rt->sts = c;
	rt->sts_shared = 1;
}

struct policy_runtime *
policy_run_new(struct conf *conf, char **err)
{
	struct policy_runtime *rt = xcalloc(1, sizeof(*rt));

	*err = NULL;
	rt->conf = conf;
	rt->seed = hash_seed(rt);
	/* conf_load() refused a default_level that names no level. */
	if (tls_level_parse(conf->default_level, &rt->default_level) < 0)
		msg_panic("policy runtime: default_level %.64s passed the configuration check",
		    conf->default_level);
	if ((rt->status = policy_check_status(conf, err)) == NULL)
		goto fail;
	if (conf->policy_table && (rt->table = policy_table_load(conf->policy_table, err)) == NULL)
		goto fail;
	/* One libunbound context validates on one thread: several spread
	 * the validation of many cold domains over the cores. */
	rt->resolvers =
	    xcalloc(conf->resolver_threads ? conf->resolver_threads : 1, sizeof(*rt->resolvers));
	do {
		if ((rt->resolvers[rt->nresolvers] = policy_run_resolver_new(conf, err)) == NULL)
			goto fail;
	} while (++rt->nresolvers < conf->resolver_threads);
	rt->cache = policy_cache_new(conf->cache_size);
	if (conf->sts) {
		struct sts_fetch_opts fo;

		if (sts_fetch_global_init() < 0) {
			*err = xstrdup("sts: libcurl cannot be initialised");
			goto fail;
		}
		run_sts_opts(conf, &fo);
		rt->sts = sts_cache_new(NULL, &fo);
	}
	return rt;
fail:
	policy_run_free(rt);
	return NULL;
}

void
policy_run_free(struct policy_runtime *rt)
{
	if (rt == NULL)
		return;
	policy_cache_free(rt->cache);
	if (!rt->sts_shared)
		sts_cache_free(rt->sts);
	for (unsigned i = 0; i < rt->nresolvers; i++)
		dns_resolver_free(rt->resolvers[i]);
	free(rt->resolvers);
	policy_table_free(rt->table);
	policy_status_table_free(rt->status);
	conf_free(rt->conf);
	free(rt);
}

/** policy_run_resolver_for - see policy_run.h. */
struct dns_resolver *
policy_run_resolver_for(const struct policy_runtime *rt, const char *domain)
{
	return rt->resolvers[hash_string(rt->seed, domain ? domain : "", NULL) % rt->nresolvers];
}

/* ------------------------------------------------------------ driver */

/* Issue every lookup the engine wants; after the deadline, fail them at once. */
static void
run_issue(struct policy_engine *e, struct dns_batch *b, int64_t deadline)
{
	struct policy_query q;

	while (policy_engine_next_query(e, &q)) {
		if (clock_now_ms() >= deadline)
			policy_engine_answer(e, q.tag,
			    dns_answer_new_fail(q.name, q.type, DNS_TIMEOUT,
				"no time left before the decision deadline"));
		else
			dns_batch_add(b, q.name, q.type, q.tag);
	}
}

static struct policy_decision *
run_engine(struct policy_runtime *rt, const struct policy_input *in, int64_t deadline)
{
	struct policy_engine *e = policy_engine_new(in);
	struct dns_batch *b = dns_batch_new(policy_run_resolver_for(rt, in->domain));
	struct policy_decision *d;
	struct dns_answer *ans;
	unsigned tag;
	int64_t t0 = clock_now_ms();

	for (;;) {
		run_issue(e, b, deadline);
		if (policy_engine_done(e))
			break;
		if (!dns_batch_next(b, deadline, &tag, &ans))
			break; /* nothing in flight and not done: see below */
		policy_engine_answer(e, tag, ans);
	}
	if ((d = policy_engine_result(e)) == NULL) {
		msg_error("engine stalled deciding %.255s (no lookup in flight)", in->domain);
		d = policy_decision_simple(in->domain, POLICY_DEFER, in->level,
		    POLICY_R_INTERNAL_ERROR, "internal error: decision incomplete");
	}
	d->made_ms = clock_now_ms();
	d->elapsed_ms = (unsigned)(d->made_ms - t0);
	dns_batch_free(b);
	policy_engine_free(e);
	return d;
}

/* A fresh decision: the engine, then MTA-STS where DANE did not decide. */
static struct policy_decision *
run_fresh(struct policy_runtime *rt, const struct policy_input *in, int64_t deadline)
{
	struct policy_decision *d = run_engine(rt, in, deadline);

	policy_sts_apply(rt, in, d, deadline);
	return d;
}

static unsigned
run_ttl(const struct conf *c, const struct policy_decision *d)
{
	unsigned ttl = d->ttl;

	if (d->verdict == POLICY_DEFER)
		return c->cache_defer_ttl_s;
	if (!d->mx_queried)
		return c->cache_max_ttl_s; /* depends on config only */
	if (ttl < c->cache_min_ttl_s)
		ttl = c->cache_min_ttl_s;
	if (ttl > c->cache_max_ttl_s)
		ttl = c->cache_max_ttl_s;
	return ttl;
}

/*
 * Split a next hop as Postfix writes it: "domain", "domain:port",
 * "[host]", "[host]:port", "[192.0.2.1]", "[IPv6:2001:db8::1]:25".
 * Brackets mean no MX lookup (RFC 7672 2.2.2). Fills name (the part to
 * normalise, brackets kept for address literals), *port and *no_mx.
 * Returns 0, or -1 with *why.
 */
static int
run_split(const char *dest, char *name, unsigned *port, int *no_mx, const char **why)
{
	const char *end = dest + strlen(dest), *colon;
	size_t len;

	*no_mx = 0;
	if (dest[0] == '[') {
		const char *close = strchr(dest, ']');

		if (close == NULL) {
			*why = "unbalanced bracket";
			return -1;
		}
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon) {
			*why = "text after the bracketed host";
			return -1;
		}
		end = colon ? colon : close + 1;
		*no_mx = 1;
	} else {
		colon = strrchr(dest, ':');
		end = colon ? colon : end;
	}
	if (colon) {
		char *ep;
		unsigned long p = strtoul(colon + 1, &ep, 10);

		if (colon[1] < '1' || colon[1] > '9' || *ep || p > 65535) {
			*why = "bad port";
			return -1;
		}
		*port = (unsigned)p;
	}
	len = (size_t)(end - dest);
	if (len >= DNSNAME_MAX + 2) {
		*why = "name too long";
		return -1;
	}
	memcpy(name, dest, len);
	name[len] = 0;
	return 0;
}

/*
 * Canonical form of the destination and its policy input; key is the
 * cache key ("name", "name:port", "[name]", "[name]:port"). Returns 0,
 * or -1 with a defer decision in *bad for input that is no destination.
 */
static int
run_input(struct policy_runtime *rt, const char *dest, char *canon, char *key,
    struct policy_input *in, struct policy_decision **bad)
{
	const struct conf *c = rt->conf;
	char name[DNSNAME_MAX + 2];
	const char *why = NULL, *tkey;
	enum tls_level lvl;
	unsigned port = c->smtp_port;
	int no_mx;

	memset(in, 0, sizeof(*in));
	if (run_split(dest, name, &port, &no_mx, &why) < 0)
		goto invalid;
	if (dnsname_is_address_literal(name)) {
		memcpy(canon, name, strlen(name) + 1); /* short: checked by the parser */
		no_mx = 0;
	} else {
		if (no_mx)
			name[strlen(name) - 1] = 0; /* drop ']' (run_split kept it) */
		if (dnsname_normalize(no_mx ? name + 1 : name, 0, canon, &why) < 0)
			goto invalid;
	}
	snprintf(key, DNSNAME_MAX + 16, "%s%s%s", no_mx ? "[" : "", canon, no_mx ? "]" : "");
	if (port != c->smtp_port)
		snprintf(key + strlen(key), 8, ":%u", port);
	in->domain = canon;
	in->level = rt->default_level;
	in->source = POLICY_SRC_DEFAULT;
	if (policy_table_lookup(rt->table, canon, &lvl, &tkey)) {
		in->level = lvl;
		in->source = POLICY_SRC_TABLE;
		in->table_key = tkey;
	}
	in->port = port;
	in->no_mx = no_mx;
	in->want_ipv4 = c->ipv4;
	in->want_ipv6 = c->ipv6;
	in->insecure_mx_dane = c->insecure_mx_dane;
	in->max_hosts = c->max_mx_hosts;
	in->tlsa_prefetch = 1;
	return 0;
invalid:
	*bad = policy_decision_simple(dest, POLICY_DEFER, rt->default_level,
	    POLICY_R_INVALID_DOMAIN, why);
	return -1;
}

static void
decide(struct policy_runtime *rt, const char *domain, struct policy_outcome *out, int use_cache)
{
	int64_t t0 = clock_now_ms(), deadline = t0 + rt->conf->decision_timeout_ms;
	char canon[DNSNAME_MAX], key[DNSNAME_MAX + 16];
	struct policy_input in;
	struct policy_decision *d = NULL;

	memset(out, 0, sizeof(*out));
	if (domain == NULL)
		domain = "";
	if (run_input(rt, domain, canon, key, &in, &d) < 0)
		goto out;
	if (!use_cache) {
		d = run_fresh(rt, &in, deadline);
		goto out;
	}
	switch (policy_cache_begin(rt->cache, key, deadline, &d)) {
	case POLICY_CACHE_HIT:
		out->cache_hit = 1;
		stats_add(STATS_CACHE_HITS, 1);
		break;
	case POLICY_CACHE_TIMEOUT:
		d = policy_decision_simple(canon, POLICY_DEFER, in.level, POLICY_R_DNS_TIMEOUT,
		    "a concurrent lookup of this domain did not finish in time");
		break;
	case POLICY_CACHE_MISS:
		stats_add(STATS_CACHE_MISSES, 1);
		d = run_fresh(rt, &in, deadline);
		policy_cache_publish(rt->cache, key, d, run_ttl(rt->conf, d));
		break;
	}
out:
	if (d->made_ms == 0 && !out->cache_hit)
		d->made_ms = clock_now_ms(); /* invalid input, a concurrent lookup's timeout */
	stats_decision((unsigned)d->verdict, (unsigned)d->reason);
	out->d = d;
	out->elapsed_ms = (unsigned)(clock_now_ms() - t0);
}

void
policy_run_decide(struct policy_runtime *rt, const char *domain, struct policy_outcome *out)
{
	decide(rt, domain, out, 1);
}

void
policy_run_decide_uncached(struct policy_runtime *rt, const char *domain,
    struct policy_outcome *out)
{
	decide(rt, domain, out, 0);
}
