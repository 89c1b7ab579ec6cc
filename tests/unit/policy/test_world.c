/*
 * test_world.c - the engine, resolver, cache and status table together
 * against the offline DNSSEC-signed world (tools/mkworld.sh), with the
 * fault responder for black-holed, SERVFAIL, REFUSED and slow zones.
 *
 * - the table test: every row of tests/world/expected.tsv is decided and
 *   verdict, MTA level, reason, reply and enhanced code are compared;
 * - the deadline: a black-holed domain is decided within the deadline;
 * - single-flight: concurrent requests for one cold domain share one
 *   resolution; the cache answers warm requests;
 * - cold and warm decision times are logged (figures, not assertions);
 * - for every decision of the table test, the audit log's rendered text
 *   (policy_json_decision_append(), kept with the decision) is octet for
 *   octet json_dumps() of policy_json_decision(): first call, kept copy,
 *   without an outcome, and with another status table.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "buf.h"
#include "dns.h"
#include "mem.h"
#include "policy.h"
#include "policy_json.h"
#include "policy_run.h"
#include "world.h"
#include "world_runtime.h"

static struct world w;
static int world_ok;

static void
setup(void)
{
	world_ok = world_start(&w, 200) == 0;
	if (!world_ok)
		cr_skip_test("offline world not available (WORLD_DIR unset?)");
}

static void
teardown(void)
{
	if (world_ok)
		world_stop(&w);
}

/* A runtime over the world with the given extra conf lines. */
static struct policy_runtime *
runtime(const char *extra)
{
	return world_runtime(&w, extra);
}

static const char *
dash(const char *s)
{
	return s ? s : "-";
}

/* Assert policy_json_decision_append(d, st, o) == json_dumps(policy_json_decision(...)). */
static void
check_text(const struct policy_decision *d, const struct policy_status_table *st,
    const struct policy_outcome *o, const char *what)
{
	json_t *j = policy_json_decision(d, st, o);
	char *want = json_dumps(j, JSON_COMPACT);
	struct buf b;

	cr_assert_not_null(want);
	buf_init(&b);
	cr_assert_eq(policy_json_decision_append(&b, d, st, o), 0);
	cr_expect_str_eq(b.s, want, "%s %s: rendered text differs", d->domain, what);
	buf_free(&b);
	free(want);
	json_decref(j);
}

static void
check_texts(const struct policy_runtime *rt, const struct policy_outcome *o)
{
	check_text(o->d, rt->status, o, "first");
	cr_assert_not_null(atomic_load(&o->d->json_memo), "%s: text not kept", o->d->domain);
	check_text(o->d, rt->status, o, "kept");
	check_text(o->d, rt->status, NULL, "no outcome");
	check_text(o->d, NULL, o, "other status table");
}

struct row {
	char level[16], domain[256], verdict[16], mlevel[16], reason[40], reply[8], enh[16];
};

static void
check_row(struct policy_runtime *rt, const struct row *r, int line)
{
	struct policy_outcome o;
	const struct policy_status *st;

	policy_run_decide(rt, r->domain, &o);
	cr_assert_not_null(o.d);
	st = policy_status_get(rt->status, o.d->reason);
	cr_expect_str_eq(policy_verdict_name(o.d->verdict), r->verdict,
	    "line %d %s: verdict (why: %s)", line, r->domain, o.d->why);
	cr_expect_str_eq(tls_level_name(o.d->level), r->mlevel, "line %d %s: level", line, r->domain);
	cr_expect_str_eq(policy_reason_name(o.d->reason), r->reason,
	    "line %d %s: reason (why: %s)", line, r->domain, o.d->why);
	cr_expect_str_eq(dash(st->reply), r->reply, "line %d %s: reply", line, r->domain);
	cr_expect_str_eq(dash(st->enhanced), r->enh, "line %d %s: enhanced", line, r->domain);
	check_texts(rt, &o);
	policy_decision_unref(o.d);
}

/* Run every row whose table level is `level` with that level for its domain. */
static int
run_table(const char *level, const char *extra_conf)
{
	char path[4096], line[1024], *table = NULL;
	struct policy_runtime *rt;
	struct row r;
	FILE *fp;
	int n = 0, lineno = 0;

	snprintf(path, sizeof(path), "%s/tests/world/expected.tsv", getenv("TOP_SRCDIR"));
	cr_assert_not_null(fp = fopen(path, "r"), "%s", path);
	if (strcmp(level, "-") != 0) {
		/* one table file: every domain of this level's rows */
		table = xasprintf("%s/table.%s", w.dir, level);
		FILE *t = fopen(table, "w");
		cr_assert_not_null(t);
		while (fgets(line, sizeof(line), fp))
			if (sscanf(line, "%15s %255s", r.level, r.domain) == 2 &&
			    strcmp(r.level, level) == 0 && r.domain[0] != '[')
				fprintf(t, "%s %s\n", r.domain, level);
		fclose(t);
		rewind(fp);
	}
	char *extra = table ? xasprintf("%s\npolicy_table = %s\n", extra_conf, table) : xstrdup(extra_conf);
	rt = runtime(extra);
	while (fgets(line, sizeof(line), fp)) {
		lineno++;
		if (line[0] == '#' || sscanf(line, "%15s %255s %15s %15s %39s %7s %15s", r.level,
		    r.domain, r.verdict, r.mlevel, r.reason, r.reply, r.enh) != 7)
			continue;
		if (strcmp(r.level, level) != 0)
			continue;
		if (r.domain[0] == '[' && strcmp(level, "-") != 0) {
			/* address literals are not table keys: use default_level */
			struct policy_runtime *rt2;
			char *e2 = xasprintf("%s\ndefault_level = %s\n", extra_conf, level);
			rt2 = runtime(e2);
			check_row(rt2, &r, lineno);
			policy_run_free(rt2);
			free(e2);
		} else
			check_row(rt, &r, lineno);
		n++;
	}
	fclose(fp);
	policy_run_free(rt);
	free(extra);
	if (table)
		unlink(table);
	free(table);
	return n;
}

/* Deadline well under what the resolver would spend on a black hole. */
#define WORLD_CONF "decision_timeout = 1500ms\nresolver_max_rtt = 3000ms\nresolver_retries = 2\n"

TestSuite(world, .init = setup, .fini = teardown, .timeout = 60);

Test(world, table_dns)
{
	cr_expect_geq(run_table("-", WORLD_CONF), 20);
}

/* The same table with one resolver context and with five. */
Test(world, table_resolver_threads)
{
	cr_expect_geq(run_table("-", WORLD_CONF "resolver_threads = 1\n"), 20);
	cr_expect_geq(run_table("-", WORLD_CONF "resolver_threads = 5\n"), 20);
}

/* Each domain always goes to the same context, and domains spread over all. */
Test(world, resolver_for_domain)
{
	struct policy_runtime *rt = runtime("resolver_threads = 4\n");
	unsigned used[4] = { 0 };
	char name[64];

	cr_assert_eq(rt->nresolvers, 4);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		struct dns_resolver *r = policy_run_resolver_for(rt, name);

		cr_assert_eq(policy_run_resolver_for(rt, name), r, "%s: not stable", name);
		for (unsigned k = 0; k < 4; k++)
			used[k] += rt->resolvers[k] == r;
	}
	for (unsigned k = 0; k < 4; k++)
		cr_expect_gt(used[k], 20, "context %u got %u of 200 domains", k, used[k]);
	policy_run_free(rt);
}

Test(world, table_dane_only)
{
	cr_expect_geq(run_table("dane-only", WORLD_CONF), 6);
}

Test(world, table_local_levels)
{
	cr_expect_eq(run_table("may", WORLD_CONF), 1);
	cr_expect_eq(run_table("encrypt", WORLD_CONF), 1);
	cr_expect_eq(run_table("none", WORLD_CONF), 1);
}

Test(world, blackhole_within_deadline)
{
	struct policy_runtime *rt = runtime("decision_timeout = 1000ms\nresolver_max_rtt = 5000ms\n");
	struct policy_outcome o;

	policy_run_decide(rt, "blackhole.example", &o);
	cr_expect_eq(o.d->verdict, POLICY_DEFER);
	cr_expect_eq(o.d->reason, POLICY_R_DNS_TIMEOUT);
	cr_expect_leq(o.elapsed_ms, 1000 + 250, "took %u ms", o.elapsed_ms);
	cr_log_info("blackhole decided in %u ms (deadline 1000 ms)", o.elapsed_ms);
	policy_decision_unref(o.d);
	/* The runtime stays usable after a cancelled resolution. */
	policy_run_decide(rt, "secure.example", &o);
	cr_expect_eq(o.d->verdict, POLICY_REQUIRE);
	policy_decision_unref(o.d);
	policy_run_free(rt);
}

Test(world, tuned_resolver_fails_fast)
{
	/* With a short retransmit cap the resolver itself gives up first. */
	struct policy_runtime *rt = runtime("decision_timeout = 5s\nresolver_max_rtt = 200ms\nresolver_retries = 1\n");
	struct policy_outcome o;

	policy_run_decide(rt, "blackhole.example", &o);
	cr_expect_eq(o.d->verdict, POLICY_DEFER);
	cr_expect_eq(o.d->reason, POLICY_R_MX_LOOKUP_FAILED, "reason %s", policy_reason_name(o.d->reason));
	cr_expect_lt(o.elapsed_ms, 5000);
	cr_log_info("blackhole with max_rtt 200 ms: SERVFAIL after %u ms", o.elapsed_ms);
	policy_decision_unref(o.d);
	policy_run_free(rt);
}

struct flight {
	struct policy_runtime *rt;
	pthread_barrier_t *bar;
	struct policy_outcome o;
};

static void *
flight_run(void *arg)
{
	struct flight *f = arg;

	pthread_barrier_wait(f->bar);
	policy_run_decide(f->rt, "mixed.example", &f->o);
	return NULL;
}

Test(world, single_flight_and_cache)
{
	enum { N = 16 };
	struct policy_runtime *rt = runtime(WORLD_CONF);
	struct flight f[N];
	pthread_t t[N];
	pthread_barrier_t bar;
	int misses = 0;

	pthread_barrier_init(&bar, NULL, N);
	for (int i = 0; i < N; i++) {
		f[i].rt = rt;
		f[i].bar = &bar;
		pthread_create(&t[i], NULL, flight_run, &f[i]);
	}
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < N; i++) {
		misses += !f[i].o.cache_hit;
		cr_expect_eq(f[i].o.d, f[0].o.d, "all threads share one decision");
		cr_expect_eq(f[i].o.d->verdict, POLICY_TRY);
	}
	cr_expect_eq(misses, 1, "one resolution for %d concurrent requests, got %d", N, misses);
	for (int i = 0; i < N; i++)
		policy_decision_unref(f[i].o.d);
	pthread_barrier_destroy(&bar);
	policy_run_free(rt);
}

Test(world, cold_and_warm_times)
{
	struct policy_runtime *rt = runtime(WORLD_CONF);
	struct policy_outcome cold, warm;
	int64_t t0;
	unsigned n = 2000;

	policy_run_decide(rt, "secure.example", &cold);
	cr_expect_eq(cold.cache_hit, 0);
	t0 = clock_now_ms();
	for (unsigned i = 0; i < n; i++) {
		policy_run_decide(rt, "secure.example", &warm);
		cr_expect_eq(warm.cache_hit, 1);
		policy_decision_unref(warm.d);
	}
	cr_log_info("secure.example: cold %u ms (%u lookups), warm %.2f us per decision",
	    cold.elapsed_ms, cold.d->queries, 1000.0 * (double)(clock_now_ms() - t0) / n);
	printf("timing: cold_ms=%u lookups=%u warm_us=%.2f\n", cold.elapsed_ms,
	    cold.d->queries, 1000.0 * (double)(clock_now_ms() - t0) / n);
	policy_decision_unref(cold.d);
	policy_run_free(rt);
}

Test(world, hostile_destinations)
{
	struct policy_runtime *rt = runtime(WORLD_CONF);
	static const char *bad[] = {
		"", ".", "a..b", "-lead.example", "exa mple.example", "\xff\xfe.example",
		"xn--.example", "[999.1.1.1]", "[IPv6:zz::1]",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	};
	struct policy_outcome o;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		policy_run_decide(rt, bad[i], &o);
		cr_expect_eq(o.d->verdict, POLICY_DEFER, "%s", bad[i]);
		cr_expect_eq(o.d->reason, POLICY_R_INVALID_DOMAIN, "%s: %s", bad[i],
		    policy_reason_name(o.d->reason));
		policy_decision_unref(o.d);
	}
	policy_run_decide(rt, NULL, &o);
	cr_expect_eq(o.d->reason, POLICY_R_INVALID_DOMAIN);
	policy_decision_unref(o.d);
	/* IDN in U-labels is normalised, then decided (NXDOMAIN in the world). */
	policy_run_decide(rt, "B\xc3\xbc" "cher.EXAMPLE.", &o);
	cr_expect_str_eq(o.d->domain, "xn--bcher-kva.example");
	cr_expect_eq(o.d->reason, POLICY_R_NO_SUCH_DOMAIN);
	policy_decision_unref(o.d);
	policy_run_free(rt);
}
