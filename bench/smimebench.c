/*
 * smimebench.c - the cost of one S/MIME signer check in process (bench
 * only; not built by make check; bench/smime.sh runs it).
 *
 *   smimebench CONF RUNS FILE...
 *       For each message FILE: one check to warm the resolver's and the
 *       OCSP cache, then RUNS checks of it on one thread through the same
 *       resolver and cache as danepold's milter uses; prints
 *       "NAME.result R", "NAME.us_median N", "NAME.us_p90 N",
 *       "NAME.per_s N" and "NAME.bytes N" (NAME: the file's base name).
 *
 * CONF is a danepol.conf (its smime_* limits and resolver). Errors go to
 * stderr and exit 1.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "policy_run.h"
#include "smime.h"
#include "smime_ocsp.h"
#include "sts_fetch.h"

static int
cmp_u(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 || (s = malloc((size_t)n + 1)) == NULL ||
	    fread(s, 1, (size_t)n, fp) != (size_t)n) {
		fprintf(stderr, "smimebench: cannot read %s\n", path);
		exit(1);
	}
	fclose(fp);
	s[n] = 0;
	*len = (size_t)n;
	return s;
}

static void
bench_one(struct policy_runtime *rt, struct smime_ocsp_cache *oc, const struct smime_limits *lim,
    const char *path, unsigned runs)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	unsigned *us = calloc(runs, sizeof(*us));
	struct smime_report rep;
	size_t len;
	char *msg = slurp(path, &len);
	double total_us = 0;

	smime_check(policy_run_resolver_for(rt, "x"), oc, msg, len, lim, &rep); /* warm */
	printf("%s.result %s\n", name, smime_result_name(rep.result));
	smime_report_clear(&rep);
	for (unsigned i = 0; i < runs; i++) {
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		smime_check(policy_run_resolver_for(rt, "x"), oc, msg, len, lim, &rep);
		clock_gettime(CLOCK_MONOTONIC, &b);
		us[i] = (unsigned)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
		total_us += us[i];
		smime_report_clear(&rep);
	}
	qsort(us, runs, sizeof(*us), cmp_u);
	printf("%s.bytes %zu\n%s.us_median %u\n%s.us_p90 %u\n%s.per_s %.0f\n", name, len, name,
	    us[runs / 2], name, us[runs * 9 / 10], name, total_us > 0 ? runs * 1e6 / total_us : 0.0);
	free(us);
	free(msg);
}

int
main(int argc, char **argv)
{
	struct policy_runtime *rt;
	struct smime_ocsp_cache *oc;
	struct smime_limits lim;
	char *err = NULL;
	struct conf *c;
	unsigned runs;

	if (sts_fetch_global_init() < 0)
		return 1;
	if (argc < 4 || (runs = (unsigned)strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: smimebench CONF RUNS FILE...\n");
		return 1;
	}
	if ((c = conf_load(argv[1], &err)) == NULL || (rt = policy_run_new(c, &err)) == NULL) {
		fprintf(stderr, "smimebench: %s\n", err ? err : "runtime failed");
		return 1;
	}
	smime_limits_from_conf(&lim, rt->conf);
	oc = smime_ocsp_cache_new(0);
	for (int i = 3; i < argc; i++)
		bench_one(rt, oc, &lim, argv[i], runs);
	smime_ocsp_cache_free(oc);
	policy_run_free(rt);
	return 0;
}
