/*
 * decidebench.c - decision benchmarks over libdanepol (bench only; not
 * built by make check). Each mode prints "key value" lines that
 * bench/run.sh turns into the table.
 *
 *   decidebench latency  CONF RUNS DELAY_MS
 *       Cold decisions of lN-rR.bench. (N = 1 2 4 8 MX hosts) through
 *       policy_run_decide (every lookup in flight at once) and, side by side
 *       in the same run on another cold name set, through a sequential
 *       driver (the same pure engine, one lookup at a time). Run r uses
 *       names of set 2r-1 (parallel) and 2r (sequential); the order of
 *       the two alternates per run. Prints, per N, the medians in ms and
 *       in units of DELAY_MS (the proxy's fixed RTT).
 *   decidebench concurrency CONF RUNS
 *       Per run R: one cold domain alone (c0-rR), then 1,000 distinct cold
 *       domains (c1..c1000-rR) at once from 1,000 threads released by a
 *       barrier; the ratio all/one, median over runs; also the highest
 *       thread count of the process during the burst (1,000 callers +
 *       main + resolver threads) and how many decisions were not require.
 *   decidebench memory CONF N [audit]   (audit: also render each decision's
 *                                       audit text, kept with it as in danepold)
 *       RSS per cached decision: VmRSS after 1,000 warm-up decisions, then
 *       after N more distinct domains (wildcard *.w.bench.) from 2
 *       threads; (after - before) / N.
 *
 * CONF is a danepol.conf. The driver owns everything it creates; errors
 * print on stderr and exit 1.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "conf.h"
#include "dns.h"
#include "log.h"
#include "policy.h"
#include "policy_json.h"
#include "policy_run.h"

static struct policy_runtime *
bench_runtime(const char *path)
{
	char *err = NULL;
	struct conf *c = conf_load(path, &err);
	struct policy_runtime *rt;

	if (c == NULL || (rt = policy_run_new(c, &err)) == NULL) {
		fprintf(stderr, "decidebench: %s\n", err ? err : "runtime failed");
		exit(1);
	}
	return rt;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* memory mode "audit": render each decision's audit text as danepold does */
static int render_audit;

static enum policy_verdict
decide_one(struct policy_runtime *rt, const char *name)
{
	struct policy_outcome o;
	enum policy_verdict v;
	struct buf b;

	policy_run_decide(rt, name, &o);
	v = o.d->verdict;
	if (render_audit) {
		buf_init(&b);
		if (policy_json_decision_append(&b, o.d, rt->status, &o) < 0)
			v = POLICY_DEFER;	/* counted as not require */
		buf_free(&b);
	}
	policy_decision_unref(o.d);
	return v;
}

/* The sequential baseline: the same engine, one lookup in flight at a time. */
static enum policy_verdict
decide_sequential(struct policy_runtime *rt, const char *name)
{
	struct policy_input in = {
		.domain = name, .level = TLS_LEVEL_DANE, .source = POLICY_SRC_DEFAULT,
		.port = 25, .want_ipv4 = rt->conf->ipv4, .want_ipv6 = rt->conf->ipv6,
		.insecure_mx_dane = 1, .max_hosts = rt->conf->max_mx_hosts,
	};
	struct policy_engine *e = policy_engine_new(&in);
	struct dns_batch *b = dns_batch_new(policy_run_resolver_for(rt, name));
	int64_t deadline = clock_now_ms() + 30000;
	struct policy_query q;
	struct policy_decision *d;
	struct dns_answer *ans;
	enum policy_verdict v = POLICY_DEFER;
	unsigned tag;

	while (!policy_engine_done(e) && policy_engine_next_query(e, &q)) {
		dns_batch_add(b, q.name, q.type, q.tag);
		if (!dns_batch_next(b, deadline, &tag, &ans))
			break;
		policy_engine_answer(e, tag, ans);
	}
	if ((d = policy_engine_result(e)) != NULL) {
		v = d->verdict;
		policy_decision_unref(d);
	}
	dns_batch_free(b);
	policy_engine_free(e);
	return v;
}

static void
prime(struct policy_runtime *rt)
{
	if (decide_one(rt, "prime.bench") != POLICY_REQUIRE) {
		fprintf(stderr, "decidebench: prime.bench is not 'require': is the world served?\n");
		exit(1);
	}
}

static int
mode_latency(const char *conf, int runs, double delay)
{
	static const int ns[] = { 1, 2, 4, 8 };
	struct policy_runtime *rt = bench_runtime(conf);
	double par[4][64], seq[4][64];
	int bad = 0;

	if (runs > 64)
		runs = 64;
	prime(rt);
	for (int r = 1; r <= runs; r++) {
		for (int i = 0; i < 4; i++) {
			char pn[64], sn[64];
			double t;

			snprintf(pn, sizeof(pn), "l%d-r%d.bench", ns[i], 2 * r - 1);
			snprintf(sn, sizeof(sn), "l%d-r%d.bench", ns[i], 2 * r);
			for (int k = 0; k < 2; k++) {
				int p = (k + r) % 2;	/* alternate which goes first */

				t = now_ms();
				if ((p ? decide_one(rt, pn) : decide_sequential(rt, sn)) != POLICY_REQUIRE)
					bad++;
				t = now_ms() - t;
				if (p) par[i][r - 1] = t; else seq[i][r - 1] = t;
			}
		}
	}
	printf("delay_ms %.0f\nruns %d\nnot_require %d\n", delay, runs, bad);
	for (int i = 0; i < 4; i++) {
		double mp = median(par[i], runs), ms = median(seq[i], runs);

		printf("mx%d parallel_ms %.1f parallel_rtt %.2f sequential_ms %.1f sequential_rtt %.2f\n",
		    ns[i], mp, mp / delay, ms, ms / delay);
	}
	policy_run_free(rt);
	return bad ? 1 : 0;
}

/* ------------------------------------------------------------ concurrency */

struct cjob {
	struct policy_runtime *rt;
	pthread_barrier_t *go;
	char name[48];
	enum policy_verdict v;
};

static void *
cjob_run(void *arg)
{
	struct cjob *j = arg;

	pthread_barrier_wait(j->go);
	j->v = decide_one(j->rt, j->name);
	return NULL;
}

/* The number after "field:" in /proc/self/status (Threads, VmRSS in kB), or -1. */
static long
proc_status(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t n = strlen(field);
	long v = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':' &&
		    sscanf(line + n + 1, "%ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

#define NCONC	1000

static int
mode_concurrency(const char *conf, int runs)
{
	struct policy_runtime *rt = bench_runtime(conf);
	static struct cjob jobs[NCONC];
	static pthread_t th[NCONC];
	double one[64], all[64], ratio[64];
	int bad = 0, maxthreads = 0;
	pthread_attr_t attr;

	if (runs > 64)
		runs = 64;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	prime(rt);
	for (int r = 1; r <= runs; r++) {
		pthread_barrier_t go;
		char name[48];
		double t;

		snprintf(name, sizeof(name), "c0-r%d.bench", r);
		t = now_ms();
		bad += decide_one(rt, name) != POLICY_REQUIRE;
		one[r - 1] = now_ms() - t;
		pthread_barrier_init(&go, NULL, NCONC + 1);
		for (int k = 0; k < NCONC; k++) {
			jobs[k].rt = rt;
			jobs[k].go = &go;
			snprintf(jobs[k].name, sizeof(jobs[k].name), "c%d-r%d.bench", k + 1, r);
			if (pthread_create(&th[k], &attr, cjob_run, &jobs[k]) != 0) {
				fprintf(stderr, "decidebench: pthread_create failed\n");
				return 1;
			}
		}
		t = now_ms();
		pthread_barrier_wait(&go);
		int tn = (int)proc_status("Threads");
		if (tn > maxthreads)
			maxthreads = tn;
		for (int k = 0; k < NCONC; k++) {
			pthread_join(th[k], NULL);
			bad += jobs[k].v != POLICY_REQUIRE;
		}
		all[r - 1] = now_ms() - t;
		ratio[r - 1] = all[r - 1] / one[r - 1];
		pthread_barrier_destroy(&go);
	}
	printf("runs %d\none_ms %.1f\nall_ms %.1f\nratio %.2f\nthreads_max %d\nnot_require %d\n",
	    runs, median(one, runs), median(all, runs), median(ratio, runs), maxthreads, bad);
	policy_run_free(rt);
	return bad ? 1 : 0;
}

/* ------------------------------------------------------------ memory */

struct mjob {
	struct policy_runtime *rt;
	long from, to;
	long bad;
};

static void *
mjob_run(void *arg)
{
	struct mjob *j = arg;
	char name[48];

	for (long k = j->from; k < j->to; k++) {
		snprintf(name, sizeof(name), "d%ld.w.bench", k);
		j->bad += decide_one(j->rt, name) != POLICY_REQUIRE;
	}
	return NULL;
}

static void
fill(struct policy_runtime *rt, long from, long to, long *bad)
{
	struct mjob j[2] = { { rt, from, from + (to - from) / 2, 0 }, { rt, from + (to - from) / 2, to, 0 } };
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, mjob_run, &j[i]);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		*bad += j[i].bad;
	}
}

static int
mode_memory(const char *conf, long n)
{
	struct policy_runtime *rt = bench_runtime(conf);
	long before, after, bad = 0;
	double t;

	prime(rt);
	fill(rt, 0, 1000, &bad);
	before = proc_status("VmRSS");
	t = now_ms();
	fill(rt, 1000, 1000 + n, &bad);
	t = now_ms() - t;
	after = proc_status("VmRSS");
	printf("domains %ld\ncached %zu\nrss_before_kb %ld\nrss_after_kb %ld\nbytes_per_domain %.0f\n"
	    "fill_per_s %.0f\nnot_require %ld\n", n, policy_cache_size(rt->cache), before, after,
	    (double)(after - before) * 1024 / (double)n, (double)n / (t / 1e3), bad);
	policy_run_free(rt);
	return bad ? 1 : 0;
}

int
main(int argc, char **argv)
{
	msg_init("decidebench");
	if (argc == 5 && strcmp(argv[1], "latency") == 0)
		return mode_latency(argv[2], atoi(argv[3]), atof(argv[4]));
	if (argc == 4 && strcmp(argv[1], "concurrency") == 0)
		return mode_concurrency(argv[2], atoi(argv[3]));
	if ((argc == 4 || (argc == 5 && strcmp(argv[4], "audit") == 0)) &&
	    strcmp(argv[1], "memory") == 0) {
		render_audit = argc == 5;
		return mode_memory(argv[2], atol(argv[3]));
	}
	fprintf(stderr, "usage: decidebench latency CONF RUNS DELAY_MS | concurrency CONF RUNS | "
	    "memory CONF N [audit]\n");
	return 64;
}
